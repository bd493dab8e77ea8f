"""The keys' flat paint colours, and each key's regions as colour evidence.

Region medians of the painted keys (deep interior pixels first, so anti-aliased edges do not
vote), a colour within a few levels of a more used one joining it. The most used member keeps
its own colour: averaging members would tint white paper cream.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lacvid.propagate.segments import Segments
from lacvid.util.arrays import label_runs
from lacvid.util.kernels import distinct_colors, kernel, worth_compiling

MERGE = 10  # levels: region medians this close are one palette colour (``build_palette``, ``flat_colors``)
# Levels (every channel) a key region's deep pixels may stray from its median and still be flat paint:
# a painter's gentle shading within one fill (``flat_colors``), and what a flat fill keeps of it
# (``compose.fusion.paint_confident_regions``).
FLAT_SPREAD = 24


def region_colors(key: np.ndarray, seg: Segments) -> tuple[np.ndarray, np.ndarray]:
    """Median key colour float32 (n, 3) and the pixel count behind it float64 (n,) per region (the palette, its
    tolerance and its flat colours all read them: a caller making all three passes them as ``medians``)."""
    colors = np.zeros((seg.n, 3), np.float32)
    weight = np.zeros(seg.n, np.float64)
    order, bounds = label_runs(seg.labels.ravel(), seg.n)
    deep = (seg.dist.ravel() >= 1.5)[order]
    inner = seg.interior.ravel()[order]
    pixels = key.reshape(-1, 3)[order]
    for r in range(seg.n):
        a, b = bounds[r], bounds[r + 1]
        for chosen in (deep[a:b], inner[a:b], None):
            p = pixels[a:b] if chosen is None else pixels[a:b][chosen]
            if len(p):
                colors[r] = np.median(p, axis=0)
                weight[r] = len(p)
                break
    return colors, weight


Medians = tuple[np.ndarray, np.ndarray]  # one key's ``region_colors``


def paint_offsets(key: np.ndarray, seg: Segments, colors: np.ndarray) -> np.ndarray:
    """float32 (H, W): how far each pixel's paint lies from its region's median (``colors``, float32 (n, 3),
    ``region_colors``' first), in levels of its farthest channel: ``|key - colors[labels]|.max(-1)`` in
    float32, bit for bit, in one pass (the NumPy form makes four (H, W, 3) temporaries; frames under
    ``KERNEL_MIN_PIXELS`` take it)."""
    colors = np.ascontiguousarray(colors, np.float32)
    if not worth_compiling(seg.labels.size):
        return np.abs(key.astype(np.float32) - colors[seg.labels]).max(-1)
    return _paint_offsets(np.ascontiguousarray(key, np.uint8), np.ascontiguousarray(seg.labels, np.int32), colors)


@kernel(nogil=True)
def _paint_offsets(key, labels, colors):  # (H, W, 3) uint8, (H, W) int32, (n, 3) float32  # pragma: no cover
    h, w = labels.shape
    out = np.empty((h, w), np.float32)
    for y in range(h):
        for x in range(w):
            r = labels[y, x]
            d = abs(np.float32(key[y, x, 0]) - colors[r, 0])
            for c in range(1, 3):
                d = max(d, abs(np.float32(key[y, x, c]) - colors[r, c]))
            out[y, x] = d
    return out


def _medians(keys: Sequence[np.ndarray], segments: Sequence[Segments],
             medians: Sequence[Medians] | None) -> Sequence[Medians]:
    """Each key's ``region_colors``: the caller's, else made now."""
    if medians is None:
        return [region_colors(k, s) for k, s in zip(keys, segments)]
    if len(medians) != len(keys):
        raise ValueError(f"need one region_colors per key, got {len(medians)} for {len(keys)} keys")
    return medians


def merge_tolerance(keys: Sequence[np.ndarray], segments: Sequence[Segments], share: float = 0.9,
                    floor: int = 2, ceiling: int = MERGE, medians: Sequence[Medians] | None = None) -> int:
    """Levels within which two of the keys' region colours are one paint: the keys' own noise.

    Per key region (at least 30 deep pixels), the levels (largest channel) ``share`` of its deep
    pixels lie within of its median; the median of that over the regions, kept between ``floor`` and
    ``ceiling``. Cel paint exported losslessly is exact (0: a white dress 6 levels off the paper and
    the skin beside it stay three colours); shaded or compressed paint is not, and two colours
    closer than the paint's own spread cannot be told apart, so they merge (up to ``MERGE``).
    ``medians``: each key's ``region_colors``, when the caller has them."""
    spreads = []
    for key, seg, (colors, _) in zip(keys, segments, _medians(keys, segments, medians)):
        deep = seg.interior & (seg.dist >= 1.5)
        lab = seg.labels[deep]
        off = paint_offsets(key, seg, colors)[deep]                                                # (N,)
        order, bounds = label_runs(lab, seg.n)
        off = off[order]
        spreads += [np.quantile(off[a:b], share) for a, b in zip(bounds[:-1], bounds[1:]) if b - a >= 30]
    noise = float(np.median(spreads)) if spreads else float(ceiling)
    return int(np.clip(np.ceil(noise), floor, ceiling))


def build_palette(keys: Sequence[np.ndarray], segments: Sequence[Segments], tolerance: int = MERGE,
                  medians: Sequence[Medians] | None = None) -> np.ndarray:
    """uint8 (P, 3), most used first: the distinct region colours of the keys (``medians``: as
    ``merge_tolerance``)."""
    parts = _medians(keys, segments, medians)
    colors = np.concatenate([c for c, _ in parts])
    weights = np.concatenate([w for _, w in parts])
    centres: list[np.ndarray] = []
    for i in np.argsort(-weights, kind="stable"):
        if weights[i] <= 0:
            continue
        if not any(np.abs(c - colors[i]).max() <= tolerance for c in centres):
            centres.append(colors[i].copy())
    if not centres:
        return np.full((1, 3), 255, np.uint8)
    return np.clip(np.rint(np.array(centres)), 0, 255).astype(np.uint8).reshape(-1, 3)


def flat_colors(keys: Sequence[np.ndarray], segments: Sequence[Segments], palette: np.ndarray,
                tolerance: int = FLAT_SPREAD, share: float = 0.9, merge: int = MERGE,
                medians: Sequence[Medians] | None = None) -> np.ndarray:
    """bool (P,): which palette colours stand only for regions the keys paint flat.

    A key region is flat when ``share`` of its deep pixels lie within ``tolerance`` levels (every
    channel) of its median, as cel paint does (``compose.flat.palette_coverage`` uses the same
    tolerance); a gradient or a texture does not. A palette colour is flat when every key region
    whose median it took (within ``merge`` levels, as ``build_palette`` merges) is flat: where one
    colour stands for both, the region is treated as textured, which keeps its pixels as painted.
    ``medians``: as ``merge_tolerance``.
    """
    textured = np.zeros(len(palette), bool)
    used = np.zeros(len(palette), bool)
    pal = palette.astype(np.float32)
    for key, seg, (colors, weight) in zip(keys, segments, _medians(keys, segments, medians)):
        deep = seg.interior & (seg.dist >= 1.5)
        off = (paint_offsets(key, seg, colors) > tolerance) & deep                                 # (H, W)
        spread = np.bincount(seg.labels[off], minlength=seg.n) / np.maximum(
            np.bincount(seg.labels[deep], minlength=seg.n), 1)                                     # (n,)
        entry = np.abs(colors[:, None, :] - pal[None]).max(-1).argmin(1)                           # (n,)
        near = np.abs(colors - pal[entry]).max(-1) <= merge
        has = (weight > 0) & near
        used[entry[has]] = True
        textured[entry[has & (spread > 1.0 - share)]] = True
    return used & ~textured


def snap(rgb: np.ndarray, palette: np.ndarray, tolerance: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Nearest palette index per pixel (H, W) int32, and whether it lies within ``tolerance`` levels."""
    # Per distinct colour, not per pixel: a key holds few (cel paint), a frame millions of pixels.
    distinct, inverse = distinct_colors(np.ascontiguousarray(rgb, np.uint8).reshape(-1, 3))          # (U, 3), (N,)
    d = np.abs(distinct.astype(np.int16)[:, None, :] - palette[None].astype(np.int16)).max(-1)      # (U, P)
    index = d.argmin(-1)                                                                             # (U,)
    near = d[np.arange(len(d)), index] <= tolerance
    inverse = inverse.reshape(rgb.shape[:2])
    return index.astype(np.int32)[inverse], near[inverse]
