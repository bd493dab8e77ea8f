"""``util.store.FrameArrays``: frames put from several threads at once, the arrays grown past their reserve."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import zarr

from lacvid.util.store import FrameArrays


def _frame(i: int) -> np.ndarray:
    return np.full((6, 5), i, np.uint8) + np.arange(30, dtype=np.uint8).reshape(6, 5)


def test_threads_putting_frames_past_the_reserve_lose_none(tmp_path: Path) -> None:
    """Two threads growing the arrays at once must not shrink what the other grew (a resize drops the
    chunks outside its shape): every frame comes back whole, and a second reader agrees."""
    group = zarr.open_group(tmp_path / "s.zarr", mode="w")
    arrays = FrameArrays(group, {"a": ((6, 5), "uint8")})
    arrays.reserve(3)
    n = 40
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: arrays.put(i, a=_frame(i)), reversed(range(n))))
    assert len(arrays) == n and arrays.done_mask().all()
    again = FrameArrays(zarr.open_group(tmp_path / "s.zarr", mode="r+"), {"a": ((6, 5), "uint8")})
    assert again.verify() == []
    for i in range(n):
        np.testing.assert_array_equal(again.get("a", i), _frame(i))
