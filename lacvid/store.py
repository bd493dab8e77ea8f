"""Zarr arrays that are never read half-written: the one "done" protocol of lacvid's caches.

Data is always written before the flag that says it is complete, and zarr (>= 3.1) writes
every chunk to a temporary file and renames it into place. So whatever stops a writer
(Ctrl-C, kill, full disk), a reader sees either complete data or no flag, and recomputes.

- ``FrameArrays``: per-frame arrays with a ``done`` flag per frame (colorize's cache);
- ``mark_complete`` / ``is_complete``: one flag for a whole group (a finished scan, a finished
  training-data build), stored with the fingerprint of what the group was built from.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import zarr


class FrameArrays:
    """A group of per-frame arrays plus a ``done`` flag per frame, grown as frames arrive."""

    def __init__(self, group: zarr.Group, specs: dict[str, tuple[tuple[int, ...], str]]) -> None:
        self.group = group
        self.specs = specs
        for name, (frame_shape, dtype) in specs.items():
            if name not in group:
                group.create_array(name, shape=(0, *frame_shape), chunks=(1, *frame_shape), dtype=dtype,
                                   fill_value=0)
        if "done" not in group:
            group.create_array("done", shape=(0,), chunks=(1,), dtype="bool", fill_value=False)
        self._done_cache: np.ndarray | None = None

    def __len__(self) -> int:
        return self.group["done"].shape[0]

    def ensure_length(self, n: int) -> None:
        if n <= len(self):
            return
        for name, (frame_shape, _) in self.specs.items():
            self.group[name].resize((n, *frame_shape))
        self.group["done"].resize((n,))
        self._done_cache = None

    def done_mask(self) -> np.ndarray:
        if self._done_cache is None:
            self._done_cache = np.asarray(self.group["done"][:], dtype=bool)
        return self._done_cache

    def is_done(self, index: int) -> bool:
        mask = self.done_mask()
        return index < len(mask) and bool(mask[index])

    def put(self, index: int, **arrays: np.ndarray) -> None:
        """Write one frame's arrays, then (last) its done flag."""
        self.ensure_length(index + 1)
        for name, value in arrays.items():
            self.group[name][index] = value
        self.group["done"][index] = True
        if self._done_cache is not None:
            self._done_cache[index] = True

    def get(self, name: str, index: int) -> np.ndarray:
        if not self.is_done(index):
            raise KeyError(f"frame {index} of {name} is not complete in the cache")
        return np.asarray(self.group[name][index])


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
