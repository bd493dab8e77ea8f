"""colorize on drawings whose keys are not all flat paint (clip13's kind: flat grey tones on the
characters over a radial-gradient background): the background keeps its gradient, and every area
the keys paint flat comes out in that key colour, whole, however far it moved (no blotches of what a
per-pixel warp met), with no more than the painter's own shading in it. End to end through the CLI,
with a tiny random model."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.support.drawings import colorize_drawings

H, W, N = 96, 160, 7
HOOD, COAT = (236, 236, 236), (176, 176, 176)


def background() -> np.ndarray:
    """A radial gradient, light at the top centre, dark at the edges: uint8 (H, W, 3)."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    r = np.hypot((x - W / 2) / W, y / H)
    return np.repeat(np.clip(140 - 160 * r, 10, 255)[..., None], 3, -1).astype(np.uint8)


def frame(t: int) -> tuple[np.ndarray, np.ndarray]:
    """(drawing, painted truth): a figure (a light head over a grey coat, with a gentle shade
    inside each, as a painter's tone) moving right by 12 px a frame over the gradient."""
    drawing = np.full((H, W, 3), 255, np.uint8)
    color = background()
    cx = 35 + 12 * t
    shade = np.mgrid[0:H, 0:W][0].astype(np.int16) // 12       # a few levels darker further down
    head, coat = np.zeros((H, W), np.uint8), np.zeros((H, W), np.uint8)
    cv2.circle(head, (cx, 34), 16, 1, -1)
    cv2.rectangle(coat, (cx - 22, 52), (cx + 22, H + 5), 1, -1)
    for mask, tone in ((head, HOOD), (coat, COAT)):
        color[mask > 0] = np.clip(np.array(tone, np.int16) - shade[mask > 0, None], 0, 255).astype(np.uint8)
    cv2.circle(drawing, (cx, 34), 16, (40, 40, 40), 1, cv2.LINE_AA)
    cv2.rectangle(drawing, (cx - 22, 52), (cx + 22, H + 5), (40, 40, 40), 1, cv2.LINE_AA)
    return drawing, color


@pytest.fixture(scope="module")
def painted(tmp_path_factory):
    frames = [frame(t) for t in range(N)]
    return frames, colorize_drawings(tmp_path_factory.mktemp("gradient"), frames, "--ink", "none")


def test_areas_the_keys_paint_flat_come_out_whole(painted) -> None:
    frames, out = painted
    for t in range(1, N - 1):
        cx = 35 + 12 * t
        inside = (slice(28, 41), slice(cx - 6, cx + 7)), (slice(62, 90), slice(cx - 15, cx + 16))  # head, coat
        for (ys, xs), tone in zip(inside, (HOOD, COAT)):
            area = out[t][ys, xs].reshape(-1, 3).astype(int)
            truth = frames[t][1][ys, xs].reshape(-1, 3).astype(int)
            assert np.abs(area - truth).max() <= 12, t                      # no blotch: the tone and its shade
            assert np.abs(np.median(area, 0) - tone).max() <= 12, t          # the keys' tone of it


def test_the_gradient_stays_a_gradient(painted) -> None:
    frames, out = painted
    for t in range(1, N - 1):
        truth, got = frames[t][1], out[t]
        for y, x in ((4, 4), (4, W // 2), (H - 4, 4), (H - 4, W - 4)):  # corners and the top centre: never covered
            assert np.abs(got[y, x].astype(int) - truth[y, x]).max() <= 12, (t, y, x)
        assert int(got[4, W // 2, 0]) - int(got[4, 4, 0]) >= 60, t           # light centre, dark edge
