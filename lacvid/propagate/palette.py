"""The keys' flat paint colours, and each key's regions as colour evidence.

Region medians of the painted keys (deep interior pixels first, so anti-aliased edges do not
vote), a colour within a few levels of a more used one joining it. The most used member keeps
its own colour: averaging members would tint white paper cream.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lacvid.propagate.segments import Segments
from lacvid.util.kernels import distinct_colors


def _region_colors(key: np.ndarray, seg: Segments) -> tuple[np.ndarray, np.ndarray]:
    """Median key colour (n, 3) and the pixel count behind it (n,) per region."""
    colors = np.zeros((seg.n, 3), np.float32)
    weight = np.zeros(seg.n, np.float64)
    lab = seg.labels.ravel()
    order = np.argsort(lab, kind="stable")
    bounds = np.searchsorted(lab[order], np.arange(seg.n + 1))
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


def build_palette(keys: Sequence[np.ndarray], segments: Sequence[Segments], tolerance: int = 10) -> np.ndarray:
    """uint8 (P, 3), most used first: the distinct region colours of the keys."""
    parts = [_region_colors(k, s) for k, s in zip(keys, segments)]
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


def snap(rgb: np.ndarray, palette: np.ndarray, tolerance: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Nearest palette index per pixel (H, W) int32, and whether it lies within ``tolerance`` levels."""
    # Per distinct colour, not per pixel: a key holds few (cel paint), a frame millions of pixels.
    distinct, inverse = distinct_colors(np.ascontiguousarray(rgb, np.uint8).reshape(-1, 3))          # (U, 3), (N,)
    d = np.abs(distinct.astype(np.int16)[:, None, :] - palette[None].astype(np.int16)).max(-1)      # (U, P)
    index = d.argmin(-1)                                                                             # (U,)
    near = d[np.arange(len(d)), index] <= tolerance
    inverse = inverse.reshape(rgb.shape[:2])
    return index.astype(np.int32)[inverse], near[inverse]
