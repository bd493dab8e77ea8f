"""Conversions between uint8 images and the float32 arrays networks take, in one place.

Images are uint8 ``(H, W)`` or ``(H, W, C)``; network arrays are float32 ``(N, C, H, W)`` in
[0, 1] (docs/ARCHITECTURE.md). The rounding is fixed here, so the colours colorize caches and
the sample grids training draws agree to the last bit whatever computed them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_255 = np.float32(255.0)
_HALF = np.float32(0.5)


def images_to_float(images: Sequence[np.ndarray]) -> np.ndarray:
    """uint8 ``(H, W)`` or ``(H, W, C)`` images -> float32 ``(N, C, H, W)`` in [0, 1]."""
    arr = np.stack(images)
    if arr.ndim == 3:
        arr = arr[..., None]                                         # (N, H, W, 1)
    return np.ascontiguousarray(arr.transpose(0, 3, 1, 2)).astype(np.float32) / _255  # (N, C, H, W)


def float_to_image(x: np.ndarray, rgb: bool = False) -> np.ndarray:
    """float ``(C, H, W)`` in [0, 1] -> uint8 ``(H, W, C)``, rounded half up.

    ``rgb``: a one-channel image is repeated to three (for pictures of line art).
    """
    x = np.clip(np.asarray(x, dtype=np.float32), 0, 1)
    if rgb and x.shape[0] == 1:
        x = np.repeat(x, 3, axis=0)                                  # (3, H, W)
    return (x * _255 + _HALF).astype(np.uint8).transpose(1, 2, 0)     # (H, W, C)


# Codes counted for ``most_common`` (a group and a value as one number) up to this many places are one
# ``np.bincount`` (32 MB of int64 at most: a 1080p frame's regions by a key's), not ``np.unique``'s sort.
COUNT_TABLE = 1 << 22


def most_common(groups: np.ndarray, values: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For (group, value, count) triples (1-D arrays of one length): each group that occurs, in
    ascending order, and its value with the largest count; a tie goes to the value met first."""
    order = np.lexsort((-counts, groups))                       # by group, largest count first (stable)
    g = groups[order]
    first = np.ones(len(order), bool)
    first[1:] = g[1:] != g[:-1]
    return g[first], values[order][first]


def label_runs(labels: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(order (N,), bounds (n + 1,)): ``labels`` (N,) ints in 0..n-1 sorted stably; the items of label r are
    ``order[bounds[r]:bounds[r + 1]]``, in their first order. For per-region statistics NumPy has no
    grouped form of (medians, quantiles): one sort, then a slice per region."""
    order = np.argsort(labels, kind="stable")
    return order, np.searchsorted(labels[order], np.arange(n + 1))


def rgb_cells(rgb: np.ndarray, bits: int) -> np.ndarray:
    """int32 (...): the cell of every uint8 RGB colour (..., 3) in a cube quantised to ``bits`` a channel."""
    q = (rgb >> (8 - bits)).astype(np.int32)
    return (q[..., 0] << (2 * bits)) | (q[..., 1] << bits) | q[..., 2]
