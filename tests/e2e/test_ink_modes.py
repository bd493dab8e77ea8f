"""``--ink``: what goes over the paint. A drawing keeps its ink as drawn; colour footage, whose lines
lacvid extracted, gets none by default (they are not an artist's ink, and the footage's outlines
are already in the keys' paint); ``multiply`` and ``none`` on request."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lacvid.cli import app
from tests.support.checks import assert_one_error_line
from tests.support.cli import cli_runner
from tests.support.tiny_clip import make_clip, read_rgb


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> dict:
    clip = make_clip(tmp_path_factory.mktemp("ink"))
    footage = clip["root"] / "footage"
    footage.mkdir()
    for i, color in enumerate(clip["colors"]):
        assert cv2.imwrite(str(footage / f"{i:04d}.png"), cv2.cvtColor(color, cv2.COLOR_RGB2BGR))
    return {**clip, "footage": footage}


def ink_alpha(clip: dict, source, tmp_path, *flags: str) -> np.ndarray:
    """The alpha of every written ink layer, stacked (F, H, W)."""
    out, layers = tmp_path / "out", tmp_path / "layers"
    res = cli_runner().invoke(app, ["colorize", str(source), "--keys", str(clip["keys_dir"]), "-o", str(out), "-q",
                                   "--model", str(clip["model"]), "--cache", str(clip["cache"]), "--shots", "single",
                                   "--layers", str(layers), *flags])
    assert res.exit_code == 0, res.stderr
    return np.stack([cv2.imread(str(p), cv2.IMREAD_UNCHANGED)[..., 3] for p in sorted((layers / "ink").glob("*.png"))])


def test_a_drawing_keeps_its_ink_as_drawn(clip, tmp_path) -> None:
    alpha = ink_alpha(clip, clip["lines_dir"], tmp_path)
    lines = np.stack(clip["lines"])                         # (F, H, W) 255 paper
    inner = [i for i in range(len(lines)) if i not in (0, len(lines) - 1)]   # keys come out as painted
    assert (alpha[inner][lines[inner] < 64] > 128).mean() > 0.9


@pytest.mark.parametrize("flags, expect", [((), "none"), (("--ink", "multiply"), "multiply")])
def test_colour_footage_gets_no_ink_unless_asked(clip, tmp_path, flags, expect) -> None:
    alpha = ink_alpha(clip, clip["footage"], tmp_path, "--lines", "color", *flags)
    inner = alpha[1:-1]
    if expect == "none":
        assert inner.max() == 0
    else:
        assert inner.max() > 128, "the extracted line art multiplied: its strokes are in the ink layer"


def test_none_on_a_drawing_leaves_only_the_paint(clip, tmp_path) -> None:
    alpha = ink_alpha(clip, clip["lines_dir"], tmp_path, "--ink", "none")
    assert alpha[1:-1].max() == 0
    frame = read_rgb(tmp_path / "out" / "0003.png")
    paint = cv2.cvtColor(cv2.imread(str(tmp_path / "layers" / "paint" / "0003.png"), cv2.IMREAD_UNCHANGED),
                         cv2.COLOR_BGRA2RGBA)
    on_paint = paint[..., 3] == 255
    np.testing.assert_array_equal(frame[on_paint], paint[..., :3][on_paint])


def test_an_unknown_ink_mode_is_one_line(clip, tmp_path) -> None:
    res = cli_runner().invoke(app, ["colorize", str(clip["lines_dir"]), "--keys", str(clip["keys_dir"]), "-o",
                                   str(tmp_path / "out"), "--model", str(clip["model"]), "--ink", "sketch"])
    assert "--ink" in assert_one_error_line(res)
    assert not (tmp_path / "out").exists()
