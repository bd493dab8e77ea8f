"""A finished frame as the two layers a compositor stacks: paint under ink.

- **paint** (RGBA): the fills without ink; transparent where the frame shows bare white paper;
- **ink** (RGBA): the artist's lines as drawn: black (or grey) ink as black with the stroke's
  strength as alpha, a coloured line in its own colour with its coverage as alpha.

Every finished frame lacvid writes *is* ``flatten(paint, ink)`` over white paper, computed in
integers, so the layers written with ``--layers`` recompose into the frame exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from lacvid.preprocess.ink import InkFrame
from lacvid.util.checks import check_array
from lacvid.util.kernels import kernel


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

        Bit for bit ``cv2.add(cv2.multiply(paint, a, scale=1/255), 255 - a)`` for the paint on paper, then
        the same with the ink's alpha (paper shows through as ``255 * (255 - a) / 255``, exactly
        ``255 - a``), in one pass: each rounded product is looked up in cv2's own table of them
        (``_products``) instead of making six (H, W, 3) temporaries (a 1080p frame 49 -> 8 ms); a pixel without ink
        on opaque paint or bare paper, most of a frame, is copied without the lookups."""
        check_array(self.paint, "paint", np.uint8, ("H", "W", 4))
        check_array(self.ink, "ink", np.uint8, self.paint.shape)
        return _flatten(np.ascontiguousarray(self.paint), np.ascontiguousarray(self.ink), _products(),
                        self.trace_painted)                                                  # (H, W, 3)

    def neutral_ink(self) -> np.ndarray:
        """uint8 (H, W, 4): the ink without its coloured lines (the only ink whose RGB is not black)."""
        black = cv2.inRange(np.ascontiguousarray(self.ink[..., :3]), (0, 0, 0), (0, 0, 0))  # (H, W) 255 on black
        ink = self.ink.copy()
        ink[..., 3] = cv2.bitwise_and(np.ascontiguousarray(self.ink[..., 3]), black)
        return ink


@lru_cache(maxsize=1)
def _products() -> np.ndarray:
    """uint8 (256, 256): ``cv2.multiply(a, b, scale=1/255)`` of every pair, made by cv2 itself."""
    a = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 256, 1)                 # (256, 256) rows: a
    return cv2.multiply(a, np.ascontiguousarray(a.T), scale=1 / 255)               # (256, 256)


@kernel(nogil=True)
def _flatten(paint, ink, product, neutral):  # (H, W, 4) uint8 x2, (256, 256) uint8, bool -> (H, W, 3)
    h, w = paint.shape[:2]
    out = np.empty((h, w, 3), np.uint8)
    for y in range(h):
        for x in range(w):
            a = paint[y, x, 3]
            b = ink[y, x, 3]
            if neutral and (ink[y, x, 0] != 0 or ink[y, x, 1] != 0 or ink[y, x, 2] != 0):
                b = 0  # a coloured line is left out of the flatten (Layers.trace_painted)
            if b == 0 and (a == 255 or a == 0):  # most of a frame: no ink on opaque paint or on bare paper, where
                for c in range(3):               # the products below are the paint itself or white (x*255/255, 0)
                    out[y, x, c] = paint[y, x, c] if a == 255 else 255
                continue
            for c in range(3):  # cv2.add saturates: min(255, sum)
                on_paper = min(255, np.int32(product[paint[y, x, c], a]) + (255 - np.int32(a)))
                out[y, x, c] = min(255, np.int32(product[on_paper, 255 - b]) + np.int32(product[ink[y, x, c], b]))
    return out


@kernel(nogil=True)
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


@kernel(nogil=True)
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
    opaque = cv2.cvtColor(np.ascontiguousarray(key), cv2.COLOR_RGB2RGBA)  # (H, W, 4), alpha 255: one pass, not a stack
    return Layers(opaque, np.zeros((h, w, 4), np.uint8), doubt=np.zeros((h, w), np.uint8))
