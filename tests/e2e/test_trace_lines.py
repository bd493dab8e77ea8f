"""``--trace-lines paint`` on generated pencil shots (coloured shadow-boundary lines): no coloured
line pixel survives in the finished frames, every other pixel is the ``keep`` run's (but held strokes, which
``keep`` finishes as the key did), the ink layer keeps the lines as drawn, and the flatten contract holds for
the layers written."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from lacvid.cli import app
from lacvid.compose.layers import Layers
from lacvid.compose.palette import OFF_PALETTE, recompose
from lacvid.errors import InputError
from lacvid.media.indexed_png import read_indexed_png
from lacvid.pipeline.options import ColorizeOptions
from lacvid.synth import render_shot
from tests.support.tiny_clip import read_rgb, tiny_model

H, W, N = 96, 128, 6


def rgba(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGRA2RGBA)


@pytest.fixture(scope="module", params=[0, 2])   # blue and red shadow lines
def runs(request, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp(f"trace{request.param}")
    (root / "lines").mkdir()
    (root / "keys").mkdir()
    for i, (color, drawing) in enumerate(render_shot(request.param, 0, N, H, W, style="pencil")):
        assert cv2.imwrite(str(root / "lines" / f"{i:04d}.png"), cv2.cvtColor(drawing, cv2.COLOR_RGB2BGR))
        if i in (0, N - 1):
            assert cv2.imwrite(str(root / "keys" / f"{i:04d}.png"), cv2.cvtColor(color, cv2.COLOR_RGB2BGR))
    model = tiny_model(root / "tiny.pt")
    out = {}
    for mode in ("keep", "paint"):
        res = CliRunner().invoke(app, ["colorize", str(root / "lines"), "--keys", str(root / "keys"), "-o",
                                       str(root / mode), "--layers", str(root / f"{mode}-layers"), "--model",
                                       str(model), "--cache", str(root / "cache"), "--backend", "torch",
                                       "--shots", "single", "--trace-lines", mode, "-q"])
        assert res.exit_code == 0, res.stderr
        out[mode] = root / mode
    return {"root": root, **out}


def test_no_coloured_line_pixel_survives_and_nothing_else_changes(runs) -> None:
    root, coloured_total = runs["root"], 0
    keys = {k: read_rgb(root / "keys" / f"{k:04d}.png") for k in (0, N - 1)}
    for i in range(1, N - 1):   # keys come out exactly as painted
        name = f"{i:04d}.png"
        ink = rgba(root / "paint-layers" / "ink" / name)
        kept_ink = rgba(root / "keep-layers" / "ink" / name)
        # The ink layer as drawn, but where ``keep`` finished a held drawing as the nearest key did
        # (``compose.held.finish_held``: a stroke opaque in the key's own pixels, paper with no grain over it;
        # ``paint`` leaves coloured lines out of the flatten, so it finishes nothing).
        finished = (kept_ink != ink).any(-1)                                           # (H, W)
        stroke = finished & (kept_ink[..., 3] == 255)
        assert stroke.any() and (kept_ink[finished & ~stroke, 3] == 0).all()
        from_a_key = np.zeros(stroke.shape, bool)                                      # whichever key has it
        for key in keys.values():
            from_a_key |= (kept_ink[..., :3] == key).all(-1)
        assert from_a_key[stroke].all()
        coloured = (ink[..., :3] != 0).any(-1) & (ink[..., 3] > 0)                     # (H, W) the coloured lines
        coloured_total += int(coloured.sum())
        keep, paint = read_rgb(runs["keep"] / name), read_rgb(runs["paint"] / name)
        same = ~coloured & ~finished
        np.testing.assert_array_equal(paint[same], keep[same])                          # regions unchanged
        painted = rgba(root / "paint-layers" / "paint" / name)
        # where a line was drawn in colour the finished frame shows the paint: a colour of the regions around
        np.testing.assert_array_equal(paint[coloured], painted[..., :3][coloured])
        region_colors = {tuple(c) for c in painted[..., :3][~coloured].tolist()}
        assert {tuple(c) for c in paint[coloured].tolist()} <= region_colors
        index, colors = read_indexed_png(root / "paint-layers" / "index" / name)
        assert (index[coloured] == OFF_PALETTE).sum() == 0   # painted lines are palette entries: they repalette too
        line_colors = {tuple(c) for c in ink[..., :3][coloured].tolist()}
        assert not line_colors & {tuple(c) for c in paint[coloured].tolist()}
        # the layers still recompose the frame exactly (the flatten leaves the coloured ink out)
        np.testing.assert_array_equal(recompose(index, colors, painted, ink, trace_painted=True), paint)
    assert coloured_total > 50, "the pencil shot draws coloured shadow lines"


def test_each_painted_line_takes_the_darker_side() -> None:
    fill = np.zeros((9, 12, 3), np.uint8)
    fill[:, :5] = (200, 180, 160)   # lit
    fill[:, 7:] = (100, 80, 60)     # shadow
    fill[:, 5:7] = (1, 2, 3)        # under the line: whatever the fill had
    coloured = np.zeros((9, 12), bool)
    coloured[:, 5:7] = True
    from lacvid.compose.trace import paint_trace_lines
    out = paint_trace_lines(fill, coloured, coloured.copy())
    assert (out[:, 5:7] == (100, 80, 60)).all() and (out[:, :5] == (200, 180, 160)).all()
    layers = Layers(np.dstack([out, np.full((9, 12), 255, np.uint8)]),
                    np.dstack([np.where(coloured[..., None], (70, 110, 230), 0).astype(np.uint8),
                               np.where(coloured, 200, 0).astype(np.uint8)]), trace_painted=True)
    assert (layers.flatten()[:, 5:7] == (100, 80, 60)).all()


def test_an_unknown_mode_is_refused_as_the_flag() -> None:
    with pytest.raises(InputError, match="--trace-lines"):
        ColorizeOptions(trace_lines="erase")
