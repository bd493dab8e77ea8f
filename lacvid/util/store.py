"""Zarr arrays that are never read half-written or damaged: the one "done" protocol of lacvid's caches.

Per frame, the data and its checksum are written first (together), then (last) the flag that says it is
complete; zarr (>= 3.1) writes every chunk to a temporary file and renames it into place. So
whatever stops a writer (Ctrl-C, kill, full disk), a reader sees complete data or no flag.
What the flag cannot catch (a chunk deleted or damaged later: zarr reads a missing chunk as
zeros) the checksum does: ``verify`` finds such frames and clears their flag so they are
computed again, and ``get`` never returns data that fails its checksum.

- ``FrameArrays``: per-frame arrays with a checksum and a ``done`` flag per frame (colorize's cache);
- ``mark_complete`` / ``is_complete``: one flag for a whole group (a finished scan, a finished
  training-data build), stored with the fingerprint of what the group was built from.
"""

from __future__ import annotations

import asyncio
import threading
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import zarr
import zarr.api.asynchronous
from zarr.core.sync import sync  # zarr's own runner of its I/O loop (what zarr.Array's methods call): one batch a call

from lacvid.errors import CacheError, disk_full, is_disk_full
from lacvid.util.kernels import kernel, worth_compiling

_VALID = np.uint64(1 << 32)  # set in every stored checksum, so 0 (zarr's fill value) never passes
# Every chunk is written as given: zarr's default first compares each chunk with the fill value
# (to skip writing empty ones), which made writing a finished 1080p frame's two RGBA layers take
# 98 ms instead of 25.
_WRITE = {"write_empty_chunks": True}


def checksum(array: np.ndarray) -> np.uint64:
    """32 bits of one frame's array, tagged so that a stored checksum is never 0 (zarr's fill): CRC-32, or for an
    array of a large frame's size (``worth_compiling`` of its bytes) a hash of its 64-bit words in four lanes
    (``_word_hash``), five times CRC-32's speed: a finished 1080p frame's three layers ~7 -> ~1.5 ms, on the
    composing threads. The same array (shape and dtype: a store's frames all have one) always takes the same one."""
    data = np.ascontiguousarray(array)
    if not worth_compiling(data.nbytes):
        return np.uint64(zlib.crc32(data.data)) | _VALID
    raw = data.reshape(-1).view(np.uint8)                                  # (bytes,)
    if not raw.flags.writeable:  # one kernel signature (read-only arrays type apart): rare, so copied
        raw = raw.copy()
    whole = raw.size // 8 * 8
    digest = int(_word_hash(raw[:whole].view(np.uint64), raw[whole:]))
    return np.uint64((digest ^ (digest >> 32)) & 0xFFFFFFFF) | _VALID


@kernel(nogil=True)
def _word_hash(words, tail):  # (N,) uint64, (T < 8,) uint8 -> uint64
    # FNV-1a's step (xor, then multiply by its odd prime: both invertible, so any change to one word changes its
    # lane's state for good) on whole words, in four lanes the CPU runs side by side, then the tail's bytes;
    # the lanes combined by odd multipliers, so a change in any one lane changes the result.
    prime = np.uint64(0x100000001B3)
    h0 = np.uint64(0xCBF29CE484222325)
    h1, h2, h3 = h0 ^ np.uint64(1), h0 ^ np.uint64(2), h0 ^ np.uint64(3)
    quads = words.shape[0] // 4
    for i in range(quads):
        h0 = (h0 ^ words[4 * i]) * prime
        h1 = (h1 ^ words[4 * i + 1]) * prime
        h2 = (h2 ^ words[4 * i + 2]) * prime
        h3 = (h3 ^ words[4 * i + 3]) * prime
    for j in range(4 * quads, words.shape[0]):
        h0 = (h0 ^ words[j]) * prime
    for j in range(tail.shape[0]):
        h1 = (h1 ^ np.uint64(tail[j])) * prime
    return h0 ^ (h1 * np.uint64(31)) ^ (h2 * np.uint64(961)) ^ (h3 * np.uint64(29791))


class FrameArrays:
    """A group of per-frame arrays plus a checksum per frame and array (``check``, (N, arrays))
    and a ``done`` flag per frame. Per array, so ``get`` reads and checks only what it returns.

    ``reserve(n)`` sizes the arrays once (to the probed frame count) instead of per frame, so
    a store is resized rarely; frames beyond it still grow the arrays. Threads may ``put`` frames side by
    side: growing the arrays and the done flags this object caches are taken in turns.
    """

    def __init__(self, group: zarr.Group, specs: dict[str, tuple[tuple[int, ...], str]], length: int = 0) -> None:
        """``length``: the frames a new store is made for (``reserve``'s, without resizing what was just made)."""
        self.group = group
        self.specs = specs
        self.reset = False  # True when a damaged layout was thrown away (every frame is computed again)
        try:
            present = set(group.keys()) & set(self._layout())  # one listing, not a look-up per array
            held = self._layout_length(present) if present else length
            if held is None:
                self._drop_arrays()
                present, held = set(), length
            missing = {name: spec for name, spec in self._layout().items() if name not in present}
            if missing:  # made at the length their siblings have (a new store: ``length``), in one batch
                sync(_create_arrays(group, missing, held))
            self._length = held  # frames the arrays are known to hold (they only grow): most puts need not ask
        except OSError as exc:
            raise self._write_error(exc, 1) from exc
        self._done_cache: np.ndarray | None = None
        self._unreadable: set[int] = set()  # frames whose done flag could not be read
        self._column = {name: j for j, name in enumerate(specs)}
        self._opened: dict[tuple[str, bool], zarr.Array] = {}  # see ``_array``
        self._lock = threading.Lock()  # growing the arrays, and the done flags cached here

    def _array(self, name: str, index: int, write: bool = False) -> zarr.Array:
        """The group's array ``name`` for frame ``index`` (configured for writing with ``write``), opened once:
        opening reads its metadata from the store, about 0.7 ms, a dozen times a composed frame. Opened
        again when ``index`` lies beyond the length it was opened with (another writer grew it)."""
        key = (name, write)
        array = self._opened.get(key)
        if array is None or index >= array.shape[0]:
            array = self.group[name]
            if write:
                array = array.with_config(_WRITE)
            self._opened[key] = array
        return array

    def _layout(self) -> dict[str, tuple[tuple[int, ...], str]]:
        """Each array's expected (per-frame shape, dtype); the checksum and flag arrays included."""
        return {**self.specs, "check": ((len(self.specs),), "uint64"), "done": ((), "bool")}

    def _layout_length(self, present: set[str]) -> int | None:
        """The frames the arrays ``present`` in the group hold; None when one's metadata disagrees with the layout
        (a damaged or foreign ``zarr.json``: a wrong frame shape, chunking, dtype, or arrays of different lengths)."""
        lengths = set()
        for name, (frame_shape, dtype) in self._layout().items():
            if name not in present:
                continue
            try:
                array = self.group[name]
                ok = (isinstance(array, zarr.Array) and tuple(array.shape[1:]) == tuple(frame_shape)
                      and tuple(array.chunks) == (1, *frame_shape) and array.dtype == np.dtype(dtype))
            except Exception:  # noqa: BLE001 - unreadable metadata fails in zarr or json with any type
                ok = False
            if not ok:
                return None
            lengths.add(array.shape[0])
        return lengths.pop() if len(lengths) == 1 else None

    def _drop_arrays(self) -> None:
        """Remove every array of the group's layout: its frames are simply not done, and computed again."""
        self._opened = {}
        for name in self._layout():
            if name in self.group:
                del self.group[name]
        self.reset = True

    @property
    def entry(self) -> str:
        """Where this group lives, for messages: ``STORE.zarr/GROUP``."""
        return f"{self.group.store_path}".replace("file://", "")

    def __len__(self) -> int:
        return self.group["done"].shape[0]

    def frame_bytes(self) -> int:
        """Uncompressed bytes of one frame (an upper bound of what it takes on disk)."""
        return sum(int(np.prod(shape)) * np.dtype(dtype).itemsize for shape, dtype in self.specs.values()) + 9

    def reserve(self, n: int | None) -> None:
        """Size the arrays for ``n`` frames up front (no-op when unknown or already that long)."""
        if n:
            self.ensure_length(n)

    def ensure_length(self, n: int) -> None:
        if n <= self._length:
            return
        with self._lock:  # two threads growing at once could shrink what the other grew
            self._length = len(self)
            if n <= self._length:
                return
            try:
                for name, (frame_shape, _) in self.specs.items():
                    self.group[name].resize((n, *frame_shape))
                self.group["check"].resize((n, len(self.specs)))
                self.group["done"].resize((n,))
            except OSError as exc:
                raise self._write_error(exc, n - len(self)) from exc
            self._length = n
            self._done_cache = None
            self._opened.clear()

    def _read_flags(self, name: str) -> np.ndarray:
        """A whole flag array; a damaged chunk reads as "not done" rather than failing the run."""
        array = self.group[name]
        try:
            return np.asarray(array[:])
        except Exception:  # noqa: BLE001 - any codec error of one chunk: read the rest one by one
            out = np.zeros(array.shape, array.dtype)
            for i in range(array.shape[0]):
                try:
                    out[i] = array[i]
                except Exception:  # noqa: BLE001
                    self._unreadable.add(i)  # ``verify`` decides from the frame's checksum
            return out

    def done_mask(self) -> np.ndarray:
        with self._lock:
            if self._done_cache is None:
                self._done_cache = self._read_flags("done").astype(bool)
            return self._done_cache

    def is_done(self, index: int) -> bool:
        mask = self.done_mask()
        return index < len(mask) and bool(mask[index])

    def put(self, index: int, **arrays: np.ndarray) -> None:
        """Write one frame's arrays and its checksums, then (last) its done flag.

        The arrays and checksums go to zarr's I/O loop as one batch, each as its whole chunk (a ``[index]`` write
        first fills a fresh chunk with the fill value and copies into it, ~1.5 ms of an 8 MB chunk): two round trips
        to that loop a frame instead of one per array (each a hand-over between threads that queues behind every
        other thread wanting the GIL)."""
        self.ensure_length(index + 1)
        values = {name: np.asarray(arrays[name], dtype=dtype) for name, (_, dtype) in self.specs.items()}
        sums = np.array([checksum(v) for v in values.values()], dtype=np.uint64)
        writes = [(self._array(name, index, write=True), value) for name, value in values.items()]
        writes.append((self._array("check", index, write=True), sums))
        try:
            sync(_set_frames(index, writes))
            self._array("done", index)[index] = True
        except OSError as exc:
            raise self._write_error(exc, len(self) - int(self.done_mask().sum())) from exc
        with self._lock:
            if self._done_cache is not None:
                self._done_cache[index] = True

    def _read(self, index: int, names: Iterable[str]) -> dict[str, np.ndarray] | None:
        """The frame's arrays ``names`` if they match their checksums; None when missing or damaged. Read as one
        batch, as ``put`` writes them."""
        names = list(names)
        try:
            stored, *arrays = sync(_get_frames(index, [self._array(n, index) for n in ("check", *names)]))
        except Exception:  # noqa: BLE001 - a damaged chunk fails in the codec with any error type
            return None
        values = dict(zip(names, arrays))
        ok = all(stored[self._column[name]] == checksum(value) for name, value in values.items())
        return values if ok else None

    def verify(self, indices: Iterable[int] | None = None) -> list[int]:
        """Check every done frame (of ``indices``) against its checksum; clear and return the bad ones.

        A cleared frame is simply not done: whoever fills the store computes it again.
        """
        mask = self.done_mask()
        todo = range(len(mask)) if indices is None else indices
        bad = [i for i in todo if i < len(mask) and mask[i] and self._read(i, self.specs) is None]
        for i in bad:
            self.clear(i)
        for i in sorted(self._unreadable.intersection(todo)):  # a damaged flag: the checksum says which
            whole = self._read(i, self.specs) is not None
            try:
                self.group["done"][i] = whole  # rewrites the damaged chunk
            except OSError as exc:
                raise self._write_error(exc, 0) from exc
            mask[i] = whole
            self._unreadable.discard(i)
            if not whole:
                bad.append(i)
        return sorted(bad)

    def clear(self, index: int) -> None:
        """Mark frame ``index`` not done (it is computed again), e.g. when its partner data is damaged."""
        mask = self.done_mask()
        if index < len(mask) and mask[index]:
            try:
                self.group["done"][index] = False
            except OSError as exc:
                raise self._write_error(exc, 0) from exc
            mask[index] = False

    def checksums(self, name: str, frames: range) -> np.ndarray:
        """uint64 (len(frames),): the stored checksums of array ``name`` for ``frames`` (0 where a frame was never
        written): equal for equal frames, so they tell repeated frames apart without reading them."""
        column = self._column[name]
        return np.asarray(self._array("check", frames.stop - 1)[frames.start:frames.stop, column], np.uint64)

    def get(self, name: str, index: int) -> np.ndarray:
        if not self.is_done(index):
            raise KeyError(f"frame {index} of {name} is not complete in the cache")
        values = self._read(index, (name,))
        if values is None:
            self.clear(index)  # so the next run computes it again
            raise CacheError(f"cache entry {self.entry} frame {index} was damaged while lacvid ran; run again "
                             "to recompute it, or remove it with lacvid cache clean")
        return values[name]

    def _write_error(self, exc: OSError, frames_left: int) -> Exception:
        if is_disk_full(exc):
            return disk_full(Path(self.entry), frames_left * self.frame_bytes(), "pass --cache DIR on another disk")
        return CacheError(f"cannot write the cache entry {self.entry} ({exc.strerror or exc}); remove it with "
                          "lacvid cache clean, or pass --cache DIR with a writable folder")


async def _create_arrays(group: zarr.Group, layout: dict[str, tuple[tuple[int, ...], str]], length: int) -> None:
    """The arrays of ``layout`` (name: per-frame shape, dtype) made in ``group``, ``length`` frames each, one chunk a
    frame, concurrently: a shot's stores are made while the shot before it composes, where each call that waits
    on zarr's I/O loop queues behind every thread wanting the GIL (one at a time they took ~0.3 s a shot there)."""
    where = f"{group.path}/" if group.path else ""
    await asyncio.gather(*(
        zarr.api.asynchronous.create_array(group.store, name=where + name, shape=(length, *frame_shape),
                                           chunks=(1, *frame_shape), dtype=dtype,
                                           fill_value=False if dtype == "bool" else 0)
        for name, (frame_shape, dtype) in layout.items()))


async def _set_frames(index: int, writes: list[tuple[zarr.Array, np.ndarray]]) -> None:
    """Frame ``index`` of each array set to its value, whole chunks (``(1, *frame)``), concurrently."""
    await asyncio.gather(*(array.async_array.setitem(slice(index, index + 1), value[None]) for array, value in writes))


async def _get_frames(index: int, arrays: list[zarr.Array]) -> list[np.ndarray]:
    """Frame ``index`` of each array, concurrently."""
    got = await asyncio.gather(*(array.async_array.getitem(slice(index, index + 1)) for array in arrays))
    return [np.asarray(g)[0] for g in got]


def mark_incomplete(group: zarr.Group, fingerprint: str, **attrs: Any) -> None:
    """Start (re)writing ``group``: until ``mark_complete`` no reader takes it as finished."""
    group.attrs.update({"fingerprint": fingerprint, "complete": False, **attrs})


def mark_complete(group: zarr.Group, **attrs: Any) -> None:
    """Call after every array of ``group`` is written: the flag goes last."""
    if attrs:
        group.attrs.update(attrs)
    group.attrs["complete"] = True


def is_complete(group: zarr.Group, fingerprint: str | None = None) -> bool:
    """True when ``group`` was finished (from ``fingerprint``, when given)."""
    attrs = group.attrs
    return attrs.get("complete") is True and (fingerprint is None or attrs.get("fingerprint") == fingerprint)
