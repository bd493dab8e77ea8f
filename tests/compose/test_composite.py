"""Compositing: original ink kept exactly, size kept, halos along lines removed."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lacvid.compose.composite import composite_full_resolution, guided_refill, multiply_lines, upsample_color
from lacvid.compose.regions import label_regions


def split_frame(h: int = 120, w: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Red left of a vertical anti-aliased stroke, blue right of it; (colour, lines)."""
    lines = np.full((h, w), 255, np.uint8)
    cv2.line(lines, (w // 2, 0), (w // 2, h - 1), 0, 3, lineType=cv2.LINE_AA)
    lines[:, w // 2 - 3] = 160  # a light anti-aliased edge, drawn on purpose
    color = np.empty((h, w, 3), np.uint8)
    color[:, : w // 2] = (220, 30, 30)
    color[:, w // 2 :] = (30, 30, 220)
    return color, lines


def test_ink_is_kept_exactly_and_size_is_full() -> None:
    color, lines = split_frame()
    small = cv2.resize(color, (50, 30), interpolation=cv2.INTER_AREA)
    # flat fills: lacvid.compose.fusion.fuse_regions (tests/compose/test_flat.py)
    for kwargs in ({}, {"guided": False}):
        out = composite_full_resolution(small, lines, **kwargs)
        assert out.shape == (120, 200, 3) and out.dtype == np.uint8
        assert (out[lines == 0] == 0).all()  # ink as drawn
        # anti-aliased ink darkens the colour beneath it by its own darkness
        under = out[lines == 160].astype(int)
        assert (under <= np.rint(255 * 160 / 255)).all() and under.max() > 0


def test_multiply_lines_is_exact_at_paper_and_ink() -> None:
    color = np.full((4, 4, 3), 200, np.uint8)
    lines = np.array([[0, 128, 255, 255]] * 4, np.uint8)
    out = multiply_lines(color, lines)
    np.testing.assert_array_equal(out[:, 0], 0)
    np.testing.assert_array_equal(out[:, 1], 100)  # round(200 * 128 / 255)
    np.testing.assert_array_equal(out[:, 2:], 200)


def test_guided_refill_removes_the_halo_next_to_lines() -> None:
    color, lines = split_frame()
    small = cv2.resize(color, (50, 30), interpolation=cv2.INTER_AREA)
    plain = composite_full_resolution(small, lines, guided=False)
    guided = composite_full_resolution(small, lines, guided=True)
    paper = lines == 255
    err_plain = np.abs(plain.astype(int) - color)[paper].mean()
    err_guided = np.abs(guided.astype(int) - color)[paper].mean()
    assert err_guided < 0.25 * err_plain
    assert (guided[:, :90][paper[:, :90]] == (220, 30, 30)).all()  # no blue bleeds left of the stroke


def test_guided_refill_keeps_far_pixels() -> None:
    color, lines = split_frame()
    paper = label_regions(lines)[0] > 0
    noisy = np.random.default_rng(0).integers(0, 256, color.shape).astype(np.uint8)
    out = guided_refill(noisy, paper, band=3)
    far = cv2.distanceTransform(paper.astype(np.uint8), cv2.DIST_L2, 3) > 3
    np.testing.assert_array_equal(out[far], noisy[far])


def test_upsample_sizes() -> None:
    img = np.zeros((10, 20, 3), np.uint8)
    assert upsample_color(img, (30, 60)).shape == (30, 60, 3)
    assert upsample_color(img, (5, 10)).shape == (5, 10, 3)


def test_bad_inputs_are_refused() -> None:
    color, lines = split_frame()
    with pytest.raises(ValueError, match="lines"):
        composite_full_resolution(color, lines.astype(np.float32))
    with pytest.raises(ValueError, match="colour"):
        composite_full_resolution(color[..., 0], lines)
    with pytest.raises(ValueError, match="differ"):
        multiply_lines(color, lines[:10])
