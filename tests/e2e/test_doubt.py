"""Doubt end to end (issue 23): ``--layers`` writes it without changing a frame, ``preview`` marks and sums
it up, ``colorize --progress json`` ends each shot with it, ``keys --next`` picks frames by it."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

from lacvid.compose.doubt import DOUBTFUL
from tests.support.checks import assert_one_error_line
from tests.support.tiny_clip import colorize_args, folder_hashes, make_shots_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_shots_clip(tmp_path_factory.mktemp("doubt"))


def _shots(clip) -> list[str]:
    return ["--shots", str(clip["shots_file"])]


def test_layers_write_doubt_and_leave_the_frames_as_they_are(cli, clip, tmp_path) -> None:
    plain, layered, layers = tmp_path / "plain", tmp_path / "layered", tmp_path / "layers"
    assert cli(*colorize_args(clip, plain, "-q", *_shots(clip))).exit_code == 0
    res = cli(*colorize_args(clip, layered, "-q", *_shots(clip), "--layers", layers,
                             "--cache", tmp_path / "fresh-cache"))
    assert res.exit_code == 0, res.stderr
    assert folder_hashes(layered) == folder_hashes(plain)     # the finished frames do not change
    names = sorted(p.name for p in plain.iterdir())
    assert sorted(p.name for p in (layers / "doubt").iterdir()) == names
    keys = {p.name for p in clip["keys_dir"].iterdir()}
    doubts = {n: cv2.imread(str(layers / "doubt" / n), cv2.IMREAD_UNCHANGED) for n in names}
    assert all(d.dtype == np.uint8 and d.ndim == 2 and d.shape == (48, 64) for d in doubts.values())
    assert all(not doubts[n].any() for n in keys)            # keys: as painted, no doubt
    assert any(doubts[n].any() for n in names if n not in keys)  # lacvid guessed somewhere between them


def test_preview_outlines_doubt_and_prints_each_shots_figures(cli, clip, tmp_path) -> None:
    sheet = tmp_path / "sheet.png"
    args = ["preview", clip["lines_dir"], "--keys", clip["keys_dir"], "-o", sheet, "--model", clip["model"],
            "--cache", clip["cache"], "--backend", "torch", *_shots(clip), "-q", "--per-shot", "2"]
    res = cli(*args)
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[-1] == str(sheet) and lines[0].split()[:3] == ["shot", "frames", "doubtful"]
    assert [line.split()[0] for line in lines[1:-1]] == ["1", "2", "3"]
    res = cli(*args, "--json", "--overwrite")
    assert res.exit_code == 0, res.stderr
    shown = json.loads(res.stdout)
    assert shown["sheet"] == str(sheet) and [s["shot"] for s in shown["shots"]] == [1, 2, 3]
    print(shown)
    for s, bounds in zip(shown["shots"], clip["shots"]):
        if s["worst_frame"] is None:           # not one doubtful pixel in the shot
            assert s["doubtful"] == 0 and s["worst_doubtful"] is None
        else:
            assert 0.0 < s["doubtful"] <= s["worst_doubtful"] <= 1.0
            assert bounds["start"] < s["worst_frame"] < bounds["stop"] - 1   # never a key


def test_colorize_json_ends_each_shot_with_its_doubt(cli, clip, tmp_path) -> None:
    res = cli(*colorize_args(clip, tmp_path / "out", *_shots(clip), "--progress", "json"))
    assert res.exit_code == 0, res.stderr
    events = [json.loads(line) for line in res.stderr.splitlines()]
    shots = [e for e in events if e["event"] == "shot"]
    assert [e["shot"] for e in shots] == [1, 2, 3]
    assert [(e["start"], e["stop"]) for e in shots] == [(s["start"], s["stop"]) for s in clip["shots"]]
    assert all({"doubtful", "worst_frame", "worst_doubtful"} <= set(e) for e in shots)
    assert events[-1]["event"] == "result" and "doubtful" not in events[-1]


def test_the_result_holds_each_shots_doubt(clip, tmp_path) -> None:
    from lacvid import colorize

    result = colorize(clip["lines_dir"], clip["keys_dir"], tmp_path / "out", model=str(clip["model"]),
                      cache=clip["cache"], backend="torch", shots=str(clip["shots_file"]))
    assert sorted(result.doubt) == [1, 2, 3]
    assert all(set(f) == {"doubtful", "worst_frame", "worst_doubtful"} for f in result.doubt.values())


@pytest.mark.parametrize("lines", ["lines", "color"])
def test_doubt_without_the_networks_is_the_doubt_of_the_finished_frames(cli, clip, tmp_path, lines) -> None:
    """A preview of one frame per shot on a fresh cache makes every other frame's doubt from the
    propagation (``ShotComposer.frame_doubt``); the render composes them: the figures agree. ``color``:
    the clip's colour frames as footage (flat cel keys: painted per region, held parts pasted)."""
    from lacvid import colorize

    source = clip["lines_dir"]
    if lines == "color":
        source = tmp_path / "footage"
        source.mkdir()
        for t, color in enumerate(clip["colors"]):
            assert cv2.imwrite(str(source / f"{t:04d}.png"), cv2.cvtColor(color, cv2.COLOR_RGB2BGR))
    cache = tmp_path / "cache"
    res = cli("preview", source, "--keys", clip["keys_dir"], "-o", tmp_path / "sheet.png", "--model",
              clip["model"], "--cache", cache, "--backend", "torch", *_shots(clip), "-q", "--per-shot", "1", "--json",
              "--lines", lines)
    assert res.exit_code == 0, res.stderr
    previewed = {s["shot"]: {k: s[k] for k in ("doubtful", "worst_frame", "worst_doubtful")}
                 for s in json.loads(res.stdout)["shots"]}
    rendered = colorize(source, clip["keys_dir"], tmp_path / "out", model=str(clip["model"]),
                        cache=cache, backend="torch", shots=str(clip["shots_file"]), lines=lines)
    assert rendered.doubt == previewed


def test_keys_next_writes_the_line_art_of_the_frames_to_paint_next(cli, clip, tmp_path) -> None:
    out = tmp_path / "next"
    args = ["keys", clip["lines_dir"], "--keys", clip["keys_dir"], "--next", "2", "-o", out, "--model",
            clip["model"], "--cache", clip["cache"], "--backend", "torch", *_shots(clip), "-q"]
    res = cli(*args)
    assert res.exit_code == 0, res.stderr
    written = sorted(p.name for p in out.iterdir())
    assert len(written) == 2 and not set(written) & {p.name for p in clip["keys_dir"].iterdir()}
    for name in written:   # the frame's drawing as given, named as its key must be
        assert np.array_equal(cv2.imread(str(out / name)), cv2.imread(str(clip["lines_dir"] / name)))
    table = res.stdout.strip().splitlines()
    assert table[0].split()[:2] == ["frame", "shot"] and table[-1] == str(out) and len(table) == 4
    again = assert_one_error_line(cli(*args))
    assert str(out) in again and "--overwrite" in again


def test_keys_next_names_the_shots_without_a_key(cli, clip, tmp_path) -> None:
    keys = tmp_path / "keys"
    shutil.copytree(clip["keys_dir"], keys)
    for s in clip["shots"][1:]:                 # shots 2 and 3 lose both keys
        for t in (s["start"], s["stop"] - 1):
            (keys / f"{t:04d}.png").unlink()
    message = assert_one_error_line(cli("keys", clip["lines_dir"], "--keys", keys, "--next", "1", "-o",
                                        tmp_path / "next", "--model", clip["model"], "--cache", clip["cache"],
                                        "--backend", "torch", *_shots(clip), "-q"))
    assert "shot(s) 2, 3 " in message
    assert not (tmp_path / "next").exists()


def test_keys_next_needs_keys_and_a_count(cli, clip, tmp_path) -> None:
    res = cli("keys", clip["lines_dir"], "--keys", clip["keys_dir"], "-o", tmp_path / "next")
    assert res.exit_code == 2 and "--next" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "next").exists()


def test_doubtful_threshold_is_half_trust() -> None:
    assert DOUBTFUL == 128
