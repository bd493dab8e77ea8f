"""Never worse than pasting the key where the drawing holds still: a held background (a painted
gradient, or flat paint) and a box whose divider has a gap (one region, two colours), while a
ball moves in front of part of it. End to end through the CLI, with a random model (its guesses
are noise)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from lacvid.eval.metrics import psnr
from tests.support.tiny_clip import read_rgb, tiny_model

H, W, N = 96, 160, 7
PENCIL, HAIR, SHIRT, BALL = (150, 150, 150), (240, 200, 80), (200, 50, 60), (60, 90, 220)


def frame(t: int, gradient: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(drawing RGB, painted truth RGB) of frame ``t``; the sky a gradient, or flat cel paint."""
    drawing = np.full((H, W, 3), 255, np.uint8)
    ramp = np.linspace(120, 230, W).astype(np.uint8) if gradient else np.full(W, 170, np.uint8)
    color = np.dstack([np.tile(ramp, (H, 1))] * 2 + [np.full((H, W), 250, np.uint8)])  # a painted sky gradient
    color[20:50, 20:70], color[50:80, 20:70] = HAIR, SHIRT                             # one region, two colours
    cv2.rectangle(drawing, (20, 20), (70, 80), PENCIL, 1, cv2.LINE_AA)
    cv2.line(drawing, (20, 50), (58, 50), PENCIL, 1, cv2.LINE_AA)                      # the gap: x 58..70
    cx = 95 + 6 * t
    cv2.circle(color, (cx, 60), 12, BALL, -1)
    cv2.circle(drawing, (cx, 60), 12, PENCIL, 1, cv2.LINE_AA)
    color[drawing.min(-1) < 200] = PENCIL                                              # ink as drawn
    return drawing, color


def colorize(root, gradient: bool, *flags: str) -> tuple[list, list]:
    from lacvid.cli import app
    from tests.support.cli import cli_runner

    (root / "lines").mkdir()
    (root / "keys").mkdir()
    frames = [frame(t, gradient) for t in range(N)]
    for t, (drawing, color) in enumerate(frames):
        cv2.imwrite(str(root / "lines" / f"{t:04d}.png"), cv2.cvtColor(drawing, cv2.COLOR_RGB2BGR))
        if t in (0, N - 1):
            cv2.imwrite(str(root / "keys" / f"{t:04d}.png"), cv2.cvtColor(color, cv2.COLOR_RGB2BGR))
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        res = cli_runner().invoke(app, ["colorize", str(root / "lines"), "--keys", str(root / "keys"), "-o",
                                       str(root / "out"), "-q", "--model", str(tiny_model(root / "tiny.pt")),
                                       "--cache", str(root / "cache"), "--shots", "single", *flags])
    finally:
        torch.set_num_threads(before)
    assert res.exit_code == 0, res.stderr
    return frames, [read_rgb(root / "out" / f"{t:04d}.png") for t in range(N)]


@pytest.fixture(scope="module")
def gradient_sky(tmp_path_factory):
    """Keys painted with a gradient: not flat cel paint, so the keys are warped onto each frame."""
    return colorize(tmp_path_factory.mktemp("held-gradient"), gradient=True)


@pytest.fixture(scope="module")
def flat_sky(tmp_path_factory):
    """Flat cel paint (``--flat``: the leaky box holds two colours in one region, which the automatic
    check would take for paint that is not flat): region colours propagated from the keys."""
    return colorize(tmp_path_factory.mktemp("held-flat"), False, "--flat")


@pytest.mark.parametrize("shot", ["gradient_sky", "flat_sky"])
def test_what_holds_still_is_the_key_pixel_for_pixel(shot, request) -> None:
    frames, out = request.getfixturevalue(shot)
    drawing0 = frames[0][0]
    far_from_ink = cv2.distanceTransform((drawing0.min(-1) >= 250).astype(np.uint8), cv2.DIST_L2, 3) > 2
    for t in range(1, N - 1):
        clear_of_ball = np.hypot(*(np.mgrid[0:H, 0:W] - np.array([60, 95 + 6 * t])[:, None, None])) > 16
        still = far_from_ink & clear_of_ball & (np.mgrid[0:H, 0:W][1] < 90)
        diff = np.abs(out[t].astype(int) - frames[t][1].astype(int)).max(-1)
        assert diff[still].max() <= 2, f"frame {t}: the held background and both halves of the box are the key's"


def test_never_worse_than_pasting_the_nearest_key(flat_sky) -> None:
    """(Keys painted with gradients are warped by flow, which loses the ball in the middle of the
    shot, 18 px from either key: that case is not held and stays below the floor for now.)"""
    frames, out = flat_sky
    for t in range(1, N - 1):
        nearest = frames[0 if t < N / 2 else N - 1][1]
        assert psnr(out[t], frames[t][1]) >= psnr(nearest, frames[t][1]), f"frame {t}"
