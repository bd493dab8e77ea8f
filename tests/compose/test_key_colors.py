"""Only the keys' colours: a colour no key holds moves to the nearest one that does."""

from __future__ import annotations

import numpy as np
import pytest

from lacvid.compose.key_colors import KeyColors


def gradient_key(h: int = 32, w: int = 256) -> np.ndarray:
    """Grey levels 0..255 across, as a painted gradient background."""
    ramp = np.tile(np.arange(w, dtype=np.uint8), (h, 1))
    return np.dstack([ramp] * 3)


def test_a_grey_shot_stays_grey() -> None:
    key = gradient_key()
    colors = KeyColors.of([key], [np.ones(key.shape[:2], bool)])
    tinted = np.array([[[120, 200, 120], [250, 120, 200], [30, 40, 90]]], np.uint8)  # green, pink, blue
    out = colors.project(tinted)
    assert (out.max(-1) - out.min(-1)).max() <= 3, out   # grey, up to a cell's size
    assert np.abs(out[0, 0].astype(int) - 147).max() <= 20  # the nearest grey, not any grey


def test_every_level_of_a_painted_gradient_is_kept() -> None:
    key = gradient_key()
    colors = KeyColors.of([key], [np.ones(key.shape[:2], bool)])
    np.testing.assert_array_equal(colors.project(key), key)


def test_ink_in_a_key_is_not_a_colour_to_paint_with() -> None:
    key = np.full((8, 8, 3), (200, 50, 50), np.uint8)
    key[:, 4] = (0, 0, 0)                              # a stroke
    clean = np.ones((8, 8), bool)
    clean[:, 4] = False
    colors = KeyColors.of([key], [clean])
    assert (colors.project(np.zeros((1, 1, 3), np.uint8)) == (200, 50, 50)).all()


def test_no_key_no_colours() -> None:
    with pytest.raises(ValueError, match="at least one key"):
        KeyColors.of([], [])
