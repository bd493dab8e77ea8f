"""Paint by palette, end to end: a flat shot's ``--layers`` gets index layers and ``palette.json``;
index + paint (only where the index says 255) + ink recompose every finished frame bit for bit;
a shot without a palette says why and gets no index layer."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from lacvid.cli import app
from lacvid.compose.palette import OFF_PALETTE, recompose
from lacvid.media.indexed_png import read_indexed_png
from lacvid.preprocess.distance import nearest_values
from tests.support.checks import assert_one_error_line
from tests.support.tiny_clip import make_clip, read_rgb


def _colorize(clip: dict, root: Path, *flags: str):
    return CliRunner().invoke(app, ["colorize", str(clip["lines_dir"]), "--keys", str(clip["keys_dir"]),
                                    "-o", str(root / "out"), "--model", str(clip["model"]), "--cache",
                                    str(clip["cache"]), "--backend", "torch", "--shots", "single",
                                    "--layers", str(root / "layers"), *flags])


def rgba(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGRA2RGBA)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("palette")
    clip = make_clip(root / "clip")
    res = _colorize(clip, root)
    assert res.exit_code == 0, res.stderr
    return {**clip, "out": root / "out", "layers": root / "layers"}


def test_index_layer_and_paint_fallback_recompose_every_frame_exactly(run) -> None:
    names = sorted(p.name for p in (run["out"]).iterdir())
    assert sorted(p.name for p in (run["layers"] / "index").iterdir()) == names
    for name in names:
        index, colors = read_indexed_png(run["layers"] / "index" / name)
        paint, ink = rgba(run["layers"] / "paint" / name), rgba(run["layers"] / "ink" / name)
        garbage = paint.copy()
        garbage[index != OFF_PALETTE] = (1, 2, 3, 4)   # the paint layer counts only where the index says 255
        np.testing.assert_array_equal(recompose(index, colors, garbage, ink), read_rgb(run["out"] / name))
        assert (colors[0] == 255).all()                 # entry 0: paper
    inner, _ = read_indexed_png(run["layers"] / "index" / "0003.png")
    assert (inner != OFF_PALETTE).mean() > 0.9          # between the keys nearly every pixel is a palette entry


def test_palette_json_lists_each_entry_with_the_keys_that_use_it(run) -> None:
    manifest = json.loads((run["layers"] / "palette.json").read_text())
    (shot,) = manifest["shots"]
    assert (shot["start"], shot["stop"], len(shot["frames"])) == (0, 8, 8)
    _, colors = read_indexed_png(run["layers"] / "index" / "0000.png")
    assert [e["rgb"] for e in shot["palette"]] == ["#{:02x}{:02x}{:02x}".format(*c) for c in colors.tolist()]
    key = read_rgb(run["keys_dir"] / "0000.png")
    for entry in shot["palette"][1:]:
        rgb = tuple(int(entry["rgb"][i:i + 2], 16) for i in (1, 3, 5))
        assert entry["keys"].get("0000.png", 0) == int((key == rgb).all(-1).sum())
    assert sum(e["keys"].get("0000.png", 0) for e in shot["palette"]) > 0


@pytest.fixture(scope="module")
def unflat(run, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("unflat")
    res = _colorize(run, root, "--no-flat")
    assert res.exit_code == 0, res.stderr
    return {"stderr": res.stderr, "layers": root / "layers"}


def test_a_shot_without_a_palette_says_why_and_gets_no_index_layer(unflat) -> None:
    assert "have no palette, so no index layer" in unflat["stderr"] and "--no-flat was given" in unflat["stderr"]
    assert not (unflat["layers"] / "index").exists()
    (shot,) = json.loads((unflat["layers"] / "palette.json").read_text())["shots"]
    assert shot["palette"] is None and "--no-flat" in shot["why"]


def _repalette(layers: Path, mapping: dict, out: Path, *flags: str):
    (out.parent / "map.json").write_text(json.dumps(mapping))
    return CliRunner().invoke(app, ["repalette", str(layers), "--map", str(out.parent / "map.json"), "-o", str(out),
                                    *flags])


def test_repalette_changes_exactly_the_pixels_of_the_mapped_entries(run, tmp_path) -> None:
    _, colors = read_indexed_png(run["layers"] / "index" / "0003.png")
    by_color, by_index = "#{:02x}{:02x}{:02x}".format(*colors[1]), 2
    res = _repalette(run["layers"], {by_color: "#203050", str(by_index): "#101830"}, tmp_path / "night", "-q")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.strip() == str(tmp_path / "night")
    changed_any = 0
    for name in sorted(p.name for p in run["out"].iterdir()):
        index, _ = read_indexed_png(run["layers"] / "index" / name)
        ink = rgba(run["layers"] / "ink" / name)
        day, night = read_rgb(run["out"] / name), read_rgb(tmp_path / "night" / name)
        mapped = (index == 1) | (index == by_index)
        # Off-palette paint (a key's anti-aliased edge) follows the change of its nearest palette pixel.
        indexed = index != OFF_PALETTE
        nearest = nearest_values(np.where(indexed, index, 0).astype(np.int32), indexed)
        follows = ~indexed & ((nearest == 1) | (nearest == by_index))
        np.testing.assert_array_equal(night[~(mapped | follows)], day[~(mapped | follows)])  # the rest bit-identical
        bare = ink[..., 3] == 0
        assert (night[(index == 1) & bare] == (0x20, 0x30, 0x50)).all()
        assert (night[(index == by_index) & bare] == (0x10, 0x18, 0x30)).all()
        changed_any += int(mapped.sum())
    assert changed_any > 0


def test_repalette_without_a_map_entry_rewrites_the_run_bit_for_bit_and_encodes_video(run, tmp_path) -> None:
    res = _repalette(run["layers"], {}, tmp_path / "same", "-q")
    assert res.exit_code == 0, res.stderr
    for name in (p.name for p in run["out"].iterdir()):
        np.testing.assert_array_equal(read_rgb(tmp_path / "same" / name), read_rgb(run["out"] / name))
    res = _repalette(run["layers"], {"0": "#000020"}, tmp_path / "night.mp4", "-q")
    assert res.exit_code == 0, res.stderr
    from lacvid.media import probe
    assert probe(tmp_path / "night.mp4").frame_count == 8


def test_repalette_names_the_palette_when_a_colour_is_not_in_it(run, tmp_path) -> None:
    line = assert_one_error_line(_repalette(run["layers"], {"#123456": "#000000"}, tmp_path / "n"))
    assert "#123456 is not in the palette" in line and "#ffffff" in line
    assert "not in the palette" in assert_one_error_line(_repalette(run["layers"], {"99": "#000000"}, tmp_path / "n"))
    assert "#rrggbb" in assert_one_error_line(_repalette(run["layers"], {"#ffffff": "night"}, tmp_path / "n"))
    assert not (tmp_path / "n").exists()


def test_repalette_of_a_run_without_a_palette_says_why(unflat, tmp_path) -> None:
    line = assert_one_error_line(_repalette(unflat["layers"], {"#ffffff": "#000000"}, tmp_path / "n"))
    assert "has no palette" in line and "--no-flat was given" in line


def test_a_map_that_is_not_a_json_object_is_one_line(run, tmp_path) -> None:
    (tmp_path / "list.json").write_text('["#ffffff"]')
    (tmp_path / "broken.json").write_text('{"#ffffff": ')
    for name, expect in (("list.json", "one JSON object"), ("broken.json", "as JSON"),
                         ("missing.json", "does not exist")):
        res = CliRunner().invoke(app, ["repalette", str(run["layers"]), "--map", str(tmp_path / name), "-o",
                                       str(tmp_path / "n")])
        assert expect in assert_one_error_line(res)
    (tmp_path / "ok.json").write_text('{"#ffffff": "#000000"}')
    res = CliRunner().invoke(app, ["repalette", str(tmp_path / "nowhere"), "--map", str(tmp_path / "ok.json"),
                                   "-o", str(tmp_path / "n")])
    assert "does not exist" in assert_one_error_line(res)
