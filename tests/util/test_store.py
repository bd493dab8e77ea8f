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


def test_a_new_store_is_made_at_its_length_and_a_lost_array_at_its_siblings(tmp_path: Path) -> None:
    """A new store is made at the length asked for (every array, no resize after); one that lost an array makes it
    again at the length the others hold, so the frames they keep still read and new frames still put."""
    specs = {"a": ((6, 5), "uint8"), "b": ((2,), "uint8")}
    group = zarr.open_group(tmp_path / "s.zarr", mode="w")
    arrays = FrameArrays(group, specs, length=7)
    assert {name: group[name].shape[0] for name in ("a", "b", "check", "done")} == dict.fromkeys(("a", "b", "check",
                                                                                                  "done"), 7)
    for i in range(7):
        arrays.put(i, a=_frame(i), b=np.array([i + 1, i + 1], np.uint8))  # never the fill value
    del group["b"]  # lost: its frames no longer pass their checksums
    again = FrameArrays(zarr.open_group(tmp_path / "s.zarr", mode="r+"), specs, length=3)
    assert again.group["b"].shape == (7, 2) and not again.reset
    assert again.verify() == list(range(7))  # every frame's b is gone: each is computed again
    again.put(8, a=_frame(8), b=np.array([8, 8], np.uint8))  # past the length: the arrays grow together
    np.testing.assert_array_equal(again.get("a", 8), _frame(8))
    assert again.group["b"].shape[0] == again.group["a"].shape[0] == 9


def test_a_large_frames_checksum_tells_every_changed_byte() -> None:
    """Arrays of a large frame's size take the word hash (``_word_hash``): equal arrays agree (read-only or not),
    one changed byte anywhere changes it (in each of the four lanes, in the last whole word, in the tail bytes
    past it), and like the CRC of small arrays it is never 0 (zarr's fill: a chunk never written)."""
    from lacvid.util.kernels import worth_compiling
    from lacvid.util.store import _VALID, checksum

    rng = np.random.default_rng(3)
    array = rng.integers(0, 256, (517, 203, 3), dtype=np.uint8)  # 314,853 bytes: whole words and a tail of 5
    assert worth_compiling(array.nbytes) and array.nbytes % 8 == 5
    first = checksum(array)
    assert first & _VALID and first == checksum(array.copy())
    frozen = array.copy()
    frozen.flags.writeable = False
    assert checksum(frozen) == first
    assert checksum(array[:, ::-1]) != first  # the same bytes in another order
    seen = {int(first)}
    for at in (0, 9, 17, 25, array.nbytes - 9, array.nbytes - 1):  # words of each lane, the last word, the tail
        changed = array.copy().reshape(-1)
        changed[at] ^= 1 << (at % 8)
        seen.add(int(checksum(changed.reshape(array.shape))))
    assert len(seen) == 7
    assert checksum(np.zeros((1024, 1024), np.uint8)) & _VALID  # zeros still tagged
