"""Colour-trace lines painted in their area's colour (``--trace-lines paint``).

Productions draw shadow and highlight boundaries as coloured pencil lines (blue, red, green); in
the finished frame such a line is painted in the colour of the area it bounds on its shadow side,
so no coloured line shows (OpenToonz's "Autopaint for lines"). Here every coloured-line pixel
takes the darkest region colour within the line's width of it, reached through the line itself
(never across a neutral ink line), and the ink layer keeps the line as drawn: the flatten leaves
the ink's coloured pixels out (``Layers.trace_painted``).
"""

from __future__ import annotations

import cv2
import numpy as np

from lacvid.compose.palette import OFF_PALETTE, index_of
from lacvid.util.checks import check_array
from lacvid.util.kernels import distinct_colors

TRACE_MODES = ("keep", "paint")
_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
_MAX_STEPS = 64  # a coloured stroke wider than this is not a line
_RIM = 2


def paint_trace_lines(fill: np.ndarray, colored: np.ndarray, ink: np.ndarray,
                      palette: np.ndarray | None = None) -> np.ndarray:
    """uint8 (H, W, 3): ``fill`` (H, W, 3) with each ``colored`` (bool (H, W)) line pixel painted the
    darkest colour of the regions it bounds; ``ink`` (bool (H, W)): every ink pixel (no region).

    ``palette`` (uint8 (P, 3)): a flat shot's colours; only paint in them is a region's colour (a held
    key's pencil-darkened edge is not), so a painted line keeps its palette entry for ``repalette``."""
    check_array(fill, "fill", np.uint8, ("H", "W", 3))
    check_array(colored, "colored", np.bool_, fill.shape[:2])
    check_array(ink, "ink", np.bool_, fill.shape[:2])
    if not colored.any():
        return fill
    open_ = ~ink & ~colored                                            # (H, W): paint, not line
    # Colours are read 2 px or more inside a region: its rim may hold a key's anti-aliased edge
    # (held paste), which would pass for the darkest side; the rim passes the colour on.
    region = cv2.erode(open_.view(np.uint8), _CROSS, iterations=_RIM).astype(bool)  # (H, W)
    if palette is not None:
        region &= index_of(fill, palette) != OFF_PALETTE
    passable = colored | (open_ & ~region)                             # (H, W): where colour travels
    each, which = distinct_colors(np.ascontiguousarray(fill[region]))  # (U, 3), (N,)
    if len(each) == 0:
        return fill
    luma = each.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)  # (U,)
    order = np.argsort(luma, kind="stable")                            # darkest first
    rank = np.empty(len(each), np.float32)
    rank[order] = np.arange(len(each), dtype=np.float32)
    unknown = np.float32(len(each))                                    # larger than any rank: a barrier
    value = np.full(fill.shape[:2], unknown, np.float32)               # (H, W) rank of the colour seen
    value[region] = rank[which]
    # Fill the line from both sides, then as many steps again: every pixel then has seen the regions
    # on both sides of it within the line's width, and keeps the darkest.
    _spread(value, colored, passable, unknown)
    # A line end walled in by neutral ink: the darkest region colour nearest it, across the ink.
    walled = colored & (value == unknown)                              # (H, W)
    if walled.any():
        _spread(value, walled, ~region & ~(colored & ~walled), unknown)
    out = fill.copy()
    reached = colored & (value < unknown)
    out[reached] = each[order[value[reached].astype(np.int64)]]
    return out


def _spread(value: np.ndarray, colored: np.ndarray, passable: np.ndarray, unknown: np.float32) -> None:
    """Carry the smallest rank in ``value`` (float32 (H, W), in place) through ``passable`` pixels
    until every ``colored`` one has one, then as many steps again (across the line's width)."""
    steps = extra = 0
    while steps < _MAX_STEPS:
        grown = cv2.erode(value, _CROSS)                               # (H, W): min over the cross
        np.copyto(value, grown, where=passable)
        steps += 1
        if extra == 0 and not (value[colored] == unknown).any():
            extra = steps
        if extra and steps >= 2 * extra:
            return
