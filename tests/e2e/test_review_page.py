"""``lacvid preview --html DIR``: one review page per episode, its pictures and flip-books loaded in a
real browser; the PNG sheet split into pages; the review folder under the usual overwrite rules."""

from __future__ import annotations

import html
import json
import re

import cv2
import numpy as np
import pytest

from lacvid.pipeline import preview as preview_module
from lacvid.pipeline.preview import sheet_pages
from lacvid.pipeline.review_page import write_review_page
from tests.support.browser import broken_images, needs_chromium, screenshot
from tests.support.checks import assert_no_temporaries, assert_one_error_line
from tests.support.tiny_clip import make_shots_clip, preview_args, read_rgb


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """Three shots (6, 5 and 7 frames), keys at both ends of each."""
    return make_shots_clip(tmp_path_factory.mktemp("review"))


def _args(clip, sheet, *extra):
    return preview_args(clip, sheet, "--per-shot", "2", *extra)


@pytest.fixture(scope="module")
def review(clip, tmp_path_factory):
    """One preview with --html through the CLI: (its result, the folder)."""
    from tests.support.cli import cli_runner

    out = tmp_path_factory.mktemp("review-out")
    result = cli_runner().invoke(_cli_app(), _args(clip, out / "sheet.png", "--html", str(out / "review")))
    return result, out


def _cli_app():
    from lacvid.cli import app

    return app


def test_html_page_has_a_lazy_row_per_shot_and_every_picture_it_names(review, clip) -> None:
    result, out = review
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-2:] == [str(out / "sheet.png"), str(out / "review")]   # every path, last
    assert sorted(p.name for p in (out / "review").iterdir()) == ["img", "index.html"]
    assert_no_temporaries(out)
    page = (out / "review" / "index.html").read_text()
    assert [int(n) for n in re.findall(r'<section id="shot-(\d+)"', page)] == [1, 2, 3]
    images = re.findall(r"<img [^>]*>", page)
    assert len(images) == 3 * (1 + 2 + 2 + 2 + 1)   # per shot: flip-book, 2 keys, 2 drawings, 2 frames, palette
    for tag in images:
        assert 'loading="lazy"' in tag and re.search(r'width="\d+" height="\d+"', tag), tag
        src = re.search(r'src="([^"]+)"', tag).group(1)
        assert (out / "review" / src).is_file(), src
    assert "loops the shot's keys and those frames" in html.unescape(page)    # the page says what its flip-books show
    assert "frames</dt><dd>0-5 (6)</dd>" in page                 # figures from preview.shot_figures


def test_flipbook_loops_the_keys_and_the_sampled_frames_in_order(review, clip) -> None:
    _, out = review
    flip = next((out / "review" / "img").glob("s0001-flipbook.*"))
    if not hasattr(cv2, "imreadanimation"):
        pytest.skip("this OpenCV cannot read animations back")
    ok, animation = cv2.imreadanimation(str(flip))
    assert ok and len(animation.frames) == 2 + 2 and animation.loop_count == 0   # keys 0, 5 and two samples
    first = cv2.cvtColor(animation.frames[0][:, :, :3], cv2.COLOR_BGR2RGB)
    key = cv2.resize(read_rgb(clip["keys_dir"] / "0000.png"), first.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(first.astype(int) - key).mean() < 8                            # the loop starts at key 0


@needs_chromium
def test_chromium_shows_the_first_shots_and_loads_every_picture(review, clip, tmp_path) -> None:
    _, out = review
    page = out / "review" / "index.html"
    assert broken_images(page) == {"images": 24, "broken": []}
    shot = cv2.cvtColor(cv2.imread(str(screenshot(page, tmp_path / "page.png"))), cv2.COLOR_BGR2RGB)
    assert shot.shape[:2] == (900, 1200) and shot.std() > 20                     # not blank
    paint = read_rgb(clip["keys_dir"] / "0000.png").reshape(-1, 3)
    colors, counts = np.unique(paint, axis=0, return_counts=True)
    main = colors[counts.argmax()].astype(int)                                  # shot 1's largest paint
    assert (np.abs(shot.astype(int) - main).max(2) <= 6).mean() > 0.01         # drawn on screen


@needs_chromium
def test_chromium_loads_the_gif_flipbooks_too(clip, tmp_path) -> None:
    """Where OpenCV cannot write animated WebP the flip-books are lacvid's own GIFs: the browser must
    play them as well."""
    result = preview_module.preview(clip["lines_dir"], clip["keys_dir"], tmp_path / "s.png",
                                     _options(clip), per_shot=2)
    folder = write_review_page(tmp_path / "gif", result.shots, animation="gif")
    assert sorted(p.name for p in (folder / "img").glob("*flipbook*")) == [f"s000{n}-flipbook.gif" for n in (1, 2, 3)]
    assert broken_images(folder / "index.html") == {"images": 24, "broken": []}


def _options(clip):
    from lacvid.pipeline.options import ColorizeOptions

    return ColorizeOptions(model=str(clip["model"]), cache=clip["cache"], backend="torch",
                           shots=str(clip["shots_file"]))


def test_sheet_is_split_into_pages_and_every_page_is_printed(cli, clip, tmp_path, monkeypatch) -> None:
    assert sheet_pages(tmp_path / "s.png", 41) == [tmp_path / n for n in ("s.png", "s-2.png", "s-3.png")]
    monkeypatch.setattr(preview_module, "SHOTS_PER_PAGE", 1)
    sheet = tmp_path / "sheet.png"
    result = cli(*_args(clip, sheet))
    assert result.exit_code == 0, result.stderr
    pages = [tmp_path / n for n in ("sheet.png", "sheet-2.png", "sheet-3.png")]
    assert result.stdout.splitlines()[-len(pages):] == [str(p) for p in pages]   # after the doubt table
    one_shot = cv2.imread(str(pages[1])).shape[0]
    assert [cv2.imread(str(p)).shape[0] for p in pages] == [one_shot] * 3
    monkeypatch.setattr(preview_module, "SHOTS_PER_PAGE", 2)      # fewer pages replace more: no stale page left
    result = cli(*_args(clip, sheet, "--overwrite", "--progress", "json", "--html", str(tmp_path / "review")))
    assert result.stdout.splitlines()[-3:] == [*(str(p) for p in pages[:2]), str(tmp_path / "review")]
    assert not pages[2].exists() and cv2.imread(str(pages[0])).shape[0] > one_shot
    event = json.loads(result.stderr.splitlines()[-1])
    assert event["event"] == "result" and event["output"] == str(sheet)
    assert event["pages"] == [str(p) for p in pages[:2]] and event["html"] == str(tmp_path / "review")


def test_html_into_an_existing_folder_follows_the_overwrite_rules(cli, clip, review, tmp_path) -> None:
    _, out = review
    mine = tmp_path / "review"
    assert cli(*_args(clip, tmp_path / "a.png", "--html", str(mine))).exit_code == 0
    line = assert_one_error_line(cli(*_args(clip, tmp_path / "b.png", "--html", str(mine))))
    assert str(mine) in line and "--overwrite" in line
    assert cli(*_args(clip, tmp_path / "a.png", "--html", str(mine), "--overwrite")).exit_code == 0
    (mine / "notes.txt").write_text("the director's notes")
    line = assert_one_error_line(cli(*_args(clip, tmp_path / "c.png", "--html", str(mine), "--overwrite")))
    assert "notes.txt" in line and (mine / "notes.txt").exists() and not (tmp_path / "c.png").exists()
    (tmp_path / "file").write_text("x")
    assert "is a file" in assert_one_error_line(cli(*_args(clip, tmp_path / "d.png", "--html", str(tmp_path / "file"),
                                                           "--overwrite")))
    inside = assert_one_error_line(cli(*_args(clip, mine / "e.png", "--html", str(mine), "--overwrite")))
    assert "inside the --html folder" in inside
    around = assert_one_error_line(cli(*_args(clip, tmp_path / "f.png", "--html", str(clip["root"]), "--overwrite")))
    assert "key folder" in around or "input" in around
    assert_no_temporaries(tmp_path)


@needs_chromium
def test_the_browser_probe_names_the_pictures_that_fail(tmp_path) -> None:
    """The probe the page tests rely on can fail: a damaged and a missing picture are named, a good one is not."""
    import cv2
    import numpy as np

    assert cv2.imwrite(str(tmp_path / "ok.png"), np.full((8, 8, 3), 200, np.uint8))
    (tmp_path / "bad.png").write_bytes(b"not a picture")
    page = tmp_path / "index.html"
    page.write_text("<html><head></head><body><img src='ok.png'><img src='bad.png'>"
                    "<img src='missing.png' loading='lazy'></body></html>", encoding="utf-8")
    assert broken_images(page) == {"images": 3, "broken": ["bad.png", "missing.png"]}
