"""The two baselines lacvid is measured against (benchmarks and tests, not the product).

- ``copy_nearest_key``: every frame gets the color of the nearest key (what a colourist
  would start from by hand).
- ``flow_warp_nearest_key``: the nearest key warped onto the target by dense optical flow
  between the distance fields of the target's and the key's line art (``lacvid.propagate.flow``).

Both compose the target's line art over the color exactly as lacvid does
(``lacvid.compose.composite.multiply_lines``), so the comparison measures the color only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from lacvid.compose.composite import multiply_lines
from lacvid.propagate.flow import warp_key

__all__ = ["nearest_key", "copy_nearest_key", "flow_warp_nearest_key"]


def nearest_key(index: int, key_indices: Sequence[int]) -> int:
    """The key frame index closest in time to ``index`` (the earlier one on a tie)."""
    if len(key_indices) == 0:
        raise ValueError("at least one key frame is needed")
    return min(sorted(key_indices), key=lambda k: abs(k - index))


def _check_inputs(lines_frames: Sequence[np.ndarray], keys: Mapping[int, np.ndarray]) -> None:
    if not keys:
        raise ValueError("at least one key frame is needed")
    for k, key in keys.items():
        if not 0 <= k < len(lines_frames):
            raise ValueError(f"key index {k} lies outside the {len(lines_frames)} frames")
        if key.shape != lines_frames[k].shape + (3,):
            raise ValueError(f"key {k} has shape {key.shape}, expected {lines_frames[k].shape + (3,)}")


def copy_nearest_key(
    lines_frames: Sequence[np.ndarray], keys: Mapping[int, np.ndarray], *, compose_lines: bool = True
) -> list[np.ndarray]:
    """Baseline: each frame = its nearest key's colour under the frame's own line art.

    ``compose_lines=False`` returns the key as it is (no lines multiplied on top).
    """
    _check_inputs(lines_frames, keys)
    out = []
    for i, ln in enumerate(lines_frames):
        color = keys[nearest_key(i, list(keys))]
        out.append(multiply_lines(color, ln) if compose_lines else color.copy())
    return out


def flow_warp_nearest_key(
    lines_frames: Sequence[np.ndarray], keys: Mapping[int, np.ndarray], *, compose_lines: bool = True
) -> list[np.ndarray]:
    """Baseline: each frame = its nearest key warped by distance-field flow, under its line art.

    Key frames come out as their key. ``compose_lines=False``: the warped key as it is.
    """
    _check_inputs(lines_frames, keys)
    out = []
    for i, ln in enumerate(lines_frames):
        k = nearest_key(i, list(keys))
        color = keys[k] if k == i else warp_key(ln, keys[k], lines_frames[k])
        out.append(multiply_lines(color, ln) if compose_lines else color.copy())
    return out
