"""A finished frame as the two layers a compositor stacks: paint under ink.

- **paint** (RGBA): the fills without ink; transparent where the frame shows bare white paper;
- **ink** (RGBA): the artist's lines as drawn: black (or grey) ink as black with the stroke's
  strength as alpha, a coloured line in its own colour with its coverage as alpha.

Every finished frame lacvid writes *is* ``flatten(paint, ink)`` over white paper, computed in
integers, so the layers written with ``--layers`` recompose into the frame exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numba import njit

from lacvid.preprocess.ink import InkFrame
from lacvid.util.checks import check_array


@dataclass(frozen=True)
class IndexLayer:
    """A frame's palette index layer (``lacvid.compose.palette``): ``index`` uint8 (H, W) into ``colors``
    uint8 (P, 3), entry 0 paper, 255 a pixel whose paint is no palette colour (the paint layer holds it)."""

    index: np.ndarray
    colors: np.ndarray


@dataclass(frozen=True)
class Layers:
    paint: np.ndarray  # uint8 (H, W, 4)
    ink: np.ndarray    # uint8 (H, W, 4)
    index: IndexLayer | None = None  # flat shots with --layers: which palette entry each paint pixel is
    # --trace-lines paint: the ink's coloured lines stay in the ink layer as drawn but are left out of
    # the flatten; the paint beneath them holds the colour of the area they bound (compose.trace).
    trace_painted: bool = False
    # Where lacvid guessed (``lacvid.compose.doubt``): uint8 (H, W), 0 sure .. 255 guessed; never in the flatten.
    doubt: np.ndarray | None = None

    def flatten(self) -> np.ndarray:
        """uint8 (H, W, 3): ink over paint over white paper, rounded once per term as cv2 does.

        Paper shows through as ``255 * (255 - a) / 255``, which is exactly ``255 - a``: so it is
        written that way (a third faster at 1080p, the same bits)."""
        a_paint = _alpha3(self.paint)                                                        # (H, W, 3)
        on_paper = cv2.add(cv2.multiply(np.ascontiguousarray(self.paint[..., :3]), a_paint, scale=1 / 255),
                           cv2.bitwise_not(a_paint))                                         # (H, W, 3)
        a_ink = _alpha3(self.neutral_ink() if self.trace_painted else self.ink)
        return cv2.add(cv2.multiply(on_paper, cv2.bitwise_not(a_ink), scale=1 / 255),
                       cv2.multiply(np.ascontiguousarray(self.ink[..., :3]), a_ink, scale=1 / 255))  # (H, W, 3)


    def neutral_ink(self) -> np.ndarray:
        """uint8 (H, W, 4): the ink without its coloured lines (the only ink whose RGB is not black)."""
        black = cv2.inRange(np.ascontiguousarray(self.ink[..., :3]), (0, 0, 0), (0, 0, 0))  # (H, W) 255 on black
        ink = self.ink.copy()
        ink[..., 3] = cv2.bitwise_and(np.ascontiguousarray(self.ink[..., 3]), black)
        return ink


def _alpha3(rgba: np.ndarray) -> np.ndarray:
    """The alpha of an RGBA layer repeated over 3 channels, uint8 (H, W, 3)."""
    return cv2.cvtColor(np.ascontiguousarray(rgba[..., 3]), cv2.COLOR_GRAY2RGB)


@njit(cache=True, nogil=True)
def _paint_layer(fill):  # (H, W, 3) uint8 -> (H, W, 4) uint8
    h, w = fill.shape[:2]
    out = np.empty((h, w, 4), np.uint8)
    for y in range(h):
        for x in range(w):
            r, g, b = fill[y, x, 0], fill[y, x, 1], fill[y, x, 2]
            out[y, x, 0], out[y, x, 1], out[y, x, 2] = r, g, b
            out[y, x, 3] = 0 if (r == 255 and g == 255 and b == 255) else 255
    return out


def paint_layer(fill: np.ndarray) -> np.ndarray:
    """RGBA (H, W, 4): the fills, opaque, transparent where they are pure white paper; one pass
    over ``fill`` (uint8 (H, W, 3)) instead of a mask and a merge."""
    check_array(fill, "fill", np.uint8, ("H", "W", 3))
    return _paint_layer(np.ascontiguousarray(fill))


@njit(cache=True, nogil=True)
def _drawing_ink(colored, ink_rgb, alpha, strength):  # (H, W) bool, (H, W, 3) uint8, (H, W) float32 x2
    h, w = colored.shape
    out = np.empty((h, w, 4), np.uint8)
    full = np.float32(255.0)
    for y in range(h):
        for x in range(w):
            if colored[y, x]:
                out[y, x, 0], out[y, x, 1], out[y, x, 2] = ink_rgb[y, x, 0], ink_rgb[y, x, 1], ink_rgb[y, x, 2]
                a = alpha[y, x]
            else:
                out[y, x, 0], out[y, x, 1], out[y, x, 2] = 0, 0, 0
                a = strength[y, x]
            out[y, x, 3] = np.uint8(np.rint(full * a))  # the float32 product numpy makes, rounded half to even
    return out


def drawing_ink(ink: InkFrame) -> np.ndarray:
    """RGBA (H, W, 4) of a drawing's ink: neutral ink black with its strength as alpha (so over the paint
    it multiplies it), a coloured line in its own colour with its coverage as alpha. One pass, bit for
    bit ``np.where`` over the colour and ``rint(255 * where(colored, alpha, strength))``."""
    check_array(ink.colored, "colored", np.bool_, ("H", "W"))
    check_array(ink.ink_rgb, "ink_rgb", np.uint8, ink.colored.shape + (3,))
    check_array(ink.alpha, "alpha", np.float32, ink.colored.shape)
    check_array(ink.strength, "strength", np.float32, ink.colored.shape)
    return _drawing_ink(*(np.ascontiguousarray(a) for a in (ink.colored, ink.ink_rgb, ink.alpha, ink.strength)))


# What goes on top of the paint: the artist's ink as drawn (drawings), the line art multiplied,
# or nothing. ``auto``: as drawn for a drawing; nothing for colour footage, whose extracted lines
# are not an artist's ink (the footage's own outlines are already in the keys' paint carried onto
# each frame, and drawing the extracted lines again darkens every edge twice).
INK_MODES = ("auto", "drawn", "multiply", "none")


def resolve_ink(mode: str, drawing: bool) -> str:
    """``drawn``, ``multiply`` or ``none`` for ``mode`` (one of ``INK_MODES``) on a drawing or on colour
    footage (which has no drawn ink: ``drawn`` multiplies its extracted line art)."""
    if mode not in INK_MODES:
        raise ValueError(f"ink mode must be one of {', '.join(INK_MODES)}, got {mode!r}")
    if mode == "auto":
        return "drawn" if drawing else "none"
    return "multiply" if mode == "drawn" and not drawing else mode


def no_ink(shape: tuple[int, int]) -> np.ndarray:
    """A fully transparent ink layer, uint8 (H, W, 4)."""
    return np.zeros(tuple(shape) + (4,), np.uint8)


def line_art_ink(lines: np.ndarray) -> np.ndarray:
    """RGBA of line art (255 paper, 0 ink): black, alpha 255 - lines, so flattening multiplies the
    paint by the line art exactly as ``composite.multiply_lines`` does."""
    return cv2.merge([np.zeros(lines.shape + (3,), np.uint8), 255 - lines])  # (H, W, 4)


def key_layers(key: np.ndarray) -> Layers:
    """A painted key comes out exactly as painted: all of it paint (its ink included), no ink layer."""
    h, w = key.shape[:2]
    return Layers(np.dstack([key, np.full((h, w), 255, np.uint8)]), np.zeros((h, w, 4), np.uint8),
                  doubt=np.zeros((h, w), np.uint8))
