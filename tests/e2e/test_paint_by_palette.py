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


def test_a_shot_without_a_palette_says_why_and_gets_no_index_layer(run, tmp_path) -> None:
    res = _colorize(run, tmp_path, "--no-flat")
    assert res.exit_code == 0, res.stderr
    assert "has no palette, so no index layer" in res.stderr and "--no-flat was given" in res.stderr
    assert not (tmp_path / "layers" / "index").exists()
    (shot,) = json.loads((tmp_path / "layers" / "palette.json").read_text())["shots"]
    assert shot["palette"] is None and "--no-flat" in shot["why"]
