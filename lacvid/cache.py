"""The Zarr cache that lets an interrupted ``colorize`` resume where it stopped.

One store per input (keyed by the input's path and file stats), holding:

- ``prep-<fingerprint>``: every frame's line art at full resolution and at the working size,
  its distance field, the shot list once the scan is complete;
- ``run-<fingerprint>``: the colour network's and the temporal network's output per frame
  at the working size (uint8), keyed by the model file and inference settings.

Each frame's data is written before its ``done`` flag, and zarr (>= 3.1) writes every chunk
to a temporary file and renames it into place, so an entry interrupted at any point (Ctrl-C,
kill, full disk) is never taken as complete: it is simply computed again. Everything
downstream reads the stored uint8 values, never the in-memory floats, so a resumed run
produces exactly the frames an uninterrupted run would.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from lacvid.errors import InputError

CACHE_FORMAT = 1


def default_cache_dir() -> Path:
    """``$LACVID_CACHE``, else ``$XDG_CACHE_HOME/lacvid``, else ``~/.cache/lacvid``."""
    if os.environ.get("LACVID_CACHE"):
        return Path(os.environ["LACVID_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "lacvid"


def fingerprint(*parts: Any) -> str:
    """A short stable hash of JSON-able parts (settings, file stats)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def input_fingerprint(path: Path, names: Iterable[str] | None = None) -> str:
    """Identify an input by where it is and the size and mtime of what it holds."""
    path = Path(path).resolve()
    if path.is_dir():
        files = [path / n for n in (names if names is not None else sorted(os.listdir(path)))]
        stats = [(f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    else:
        st = path.stat()
        stats = [(path.name, st.st_size, st.st_mtime_ns)]
    return fingerprint(CACHE_FORMAT, str(path), stats)


def file_digest(path: Path) -> str:
    """Content hash of a file (a model checkpoint), so a retrained model invalidates its outputs."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


class _FrameArrays:
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


class ColorizeCache:
    """The per-input store; see the module docstring for its layout."""

    def __init__(self, root: Path, input_id: str) -> None:
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create the cache folder {self.root} ({exc.strerror}); pass --cache DIR "
                             "with a writable folder") from exc
        self.path = self.root / f"{input_id}.zarr"
        self.store = zarr.open_group(str(self.path), mode="a")
        if self.store.attrs.get("format") != CACHE_FORMAT:
            self.store.attrs["format"] = CACHE_FORMAT

    def prep(self, settings_id: str, full_size: tuple[int, int], work_size: tuple[int, int]) -> "PrepEntry":
        group = self.store.require_group(f"prep-{settings_id}")
        return PrepEntry(group, full_size, work_size)

    def run_stage(self, settings_id: str, stage: str, work_size: tuple[int, int]) -> _FrameArrays:
        """Per-frame outputs of one network stage (``colour`` or ``refined``)."""
        group = self.store.require_group(f"run-{settings_id}/{stage}")
        h, w = work_size
        return _FrameArrays(group, {"rgb": ((h, w, 3), "uint8")})


class PrepEntry:
    """Preprocessed frames of one input under one set of preprocessing settings."""

    def __init__(self, group: zarr.Group, full_size: tuple[int, int], work_size: tuple[int, int]) -> None:
        H, W = full_size
        h, w = work_size
        self.group = group
        self.frames = _FrameArrays(group, {
            "lines_full": ((H, W), "uint8"),   # original-resolution line art, kept as drawn
            "lines": ((h, w), "uint8"),        # working-size line art the networks see
            "dist": ((h, w), "float16"),       # working-size normalised distance field
        })

    @property
    def scan(self) -> dict | None:
        """The completed scan (frame count, names, shots), or None if it never finished."""
        scan = self.group.attrs.get("scan")
        return scan if scan and scan.get("complete") else None

    def finish_scan(self, n_frames: int, names: list[str], shots: list[tuple[int, int]]) -> None:
        self.group.attrs["scan"] = {"complete": True, "n_frames": n_frames, "names": names,
                                    "shots": [list(s) for s in shots]}
