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

from lacvid.preprocess.ink import InkFrame


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


def paint_layer(fill: np.ndarray) -> np.ndarray:
    """RGBA: the fills, opaque, transparent where they are pure white paper."""
    alpha = 255 - cv2.inRange(fill, (255, 255, 255), (255, 255, 255))   # (H, W) uint8: 0 on bare paper
    return cv2.merge([np.ascontiguousarray(fill), alpha])              # (H, W, 4)


def drawing_ink(ink: InkFrame) -> np.ndarray:
    """RGBA of a drawing's ink: neutral ink black with its strength as alpha (so over the paint it
    multiplies it), a coloured line in its own colour with its coverage as alpha."""
    rgb = np.where(ink.colored[..., None], ink.ink_rgb, 0).astype(np.uint8)
    alpha = np.rint(255 * np.where(ink.colored, ink.alpha, ink.strength)).astype(np.uint8)
    return cv2.merge([rgb, alpha])                                     # (H, W, 4)


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
