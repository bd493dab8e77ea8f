"""Colour at working size back to full resolution, under the artist's original lines.

The networks paint at a small working size; the user wants the video's own resolution
with the line work exactly as drawn. So the colour is upsampled and the original line art
multiplied over it: paper (255) shows the colour, ink (0) stays black, and anti-aliased
ink darkens the colour beneath it in proportion, as ink on a cel does.

Upsampled colour is soft where it crosses a line (a halo of the neighbour's colour beside
the ink). ``guided`` repaints a band along the lines from the nearest pixel further
inside the same region. (``lacvid.compose.fusion.fuse_regions`` goes further: each full-resolution
region takes one palette colour.)
"""

from __future__ import annotations

import cv2
import numpy as np

from lacvid.compose.regions import grow_labels
from lacvid.preprocess.lines import line_mask
from lacvid.util.checks import check_array

__all__ = ["upsample_color", "multiply_lines", "guided_refill", "refill_from_nearest", "composite_full_resolution"]


def _check_pair(color: np.ndarray, lines: np.ndarray) -> None:
    check_array(color, "colour", np.uint8, ("H", "W", 3))
    check_array(lines, "lines", np.uint8, ("H", "W"))


def upsample_color(color: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize uint8 (h, w, 3) colour to ``size`` = (H, W): bicubic up, area down."""
    h, w = color.shape[:2]
    if (h, w) == tuple(size):
        return color.copy()
    H, W = size
    interp = cv2.INTER_CUBIC if H * W > h * w else cv2.INTER_AREA
    return cv2.resize(color, (W, H), interpolation=interp)  # uint8 saturates: no overshoot wrap


def multiply_lines(color: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Ink over colour: ``colour * lines / 255``, rounded; (H, W, 3) uint8.

    Where ``lines`` is 0 the result is exactly 0 (ink as drawn), where 255 exactly the
    colour, in between the anti-aliasing the artist drew.
    """
    _check_pair(color, lines)
    if color.shape[:2] != lines.shape:
        raise ValueError(f"colour {color.shape[:2]} and lines {lines.shape} differ in size")
    ink = cv2.merge([lines, lines, lines])  # (H, W, 3)
    return cv2.multiply(color, ink, scale=1.0 / 255.0)  # rounded and saturated per pixel


def guided_refill(color: np.ndarray, paper: np.ndarray, band: int) -> np.ndarray:
    """Repaint pixels within ``band`` px of ink with the colour of the nearest pixel beyond
    the band in the same region (reached without crossing ink); (H, W, 3) uint8.

    ``paper``: bool (H, W), True off the ink (``~line_mask(lines)`` or ``labels > 0``).
    This removes the halo an upsampled colour image leaves along lines, where the
    working-size colour mixed both sides of the stroke.
    """
    if band <= 0:
        return color
    if paper.shape != color.shape[:2] or paper.dtype != np.bool_:
        raise ValueError(f"paper must be bool {color.shape[:2]}, got {paper.dtype} {paper.shape}")
    dist = cv2.distanceTransform(paper.view(np.uint8), cv2.DIST_L2, 3)  # px to ink
    return refill_from_nearest(color, paper, dist > band)


def refill_from_nearest(color: np.ndarray, paper: np.ndarray, reliable: np.ndarray) -> np.ndarray:
    """``color`` (uint8 (H, W, 3)) with every ``paper`` pixel that is not ``reliable`` (bool (H, W) each) taking the
    colour of the nearest reliable pixel of its own region, reached without crossing ink (4-connected growth over
    ``paper``); a region without one keeps its own."""
    h, w = paper.shape
    seeds = np.where(reliable & paper, np.arange(1, h * w + 1, dtype=np.int32).reshape(h, w), 0).astype(np.int32)
    grown = grow_labels(seeds, np.ascontiguousarray(paper))  # (H, W): 1 + flat index of source
    take = paper & ~reliable & (grown > 0)
    out = color.copy()
    out[take] = color.reshape(-1, 3)[grown[take] - 1]
    return out


def composite_full_resolution(
    color_small: np.ndarray,
    lines_full: np.ndarray,
    *,
    guided: bool = True,
    labels: tuple[np.ndarray, int] | None = None,
    with_ink: bool = True,
) -> np.ndarray:
    """The finished frame: ``color_small`` uint8 (h, w, 3) at working size, under
    ``lines_full`` uint8 (H, W), the original line art -> uint8 (H, W, 3).

    ``guided`` removes color halos along lines (``guided_refill``). ``labels``: a precomputed
    ``label_regions(lines_full)``, whose region mask then bounds the refill. (Flat, palette-exact
    fills are ``lacvid.compose.fusion.fuse_regions``.) ``with_ink=False``: the paint alone, the paint layer under
    ``lacvid.compose.layers``' ink layer.
    """
    _check_pair(color_small, lines_full)
    H, W = lines_full.shape
    up = upsample_color(color_small, (H, W))  # (H, W, 3)
    if labels is not None and labels[0].shape != (H, W):
        raise ValueError(f"labels must have shape {(H, W)}, got {labels[0].shape}")
    if guided:
        # Growth stops at ink only: regions need not be labelled (gaps may leak a few pixels).
        paper = np.ascontiguousarray(labels[0] > 0) if labels is not None else ~line_mask(lines_full)
        scale = max(H / color_small.shape[0], W / color_small.shape[1])
        up = guided_refill(up, paper, band=max(1, int(round(1.5 * scale))))
    return multiply_lines(up, lines_full) if with_ink else up
