"""The Zarr cache that lets an interrupted ``colorize`` resume where it stopped.

One store per input (keyed by the input's path and file stats), holding:

- ``prep-<fingerprint>``: every frame's line art at full resolution and at the working size,
  its distance field (``lacvid.preprocess.frame``), and the shot list once the scan is complete;
- ``run-<fingerprint>``: the color network's and the temporal network's output per frame
  at the working size (uint8), keyed by the model file and inference settings.

Writes follow ``lacvid.util.store``'s protocol (data first, done flag last), so an entry interrupted
at any point is never taken as complete: it is simply computed again. Everything downstream
reads the stored uint8 values, never the in-memory floats, so a resumed run produces exactly
the frames an uninterrupted run would. Every frame also carries a checksum (``lacvid.util.store``):
a chunk deleted or damaged later is found by ``verify`` and computed again, never read as zeros.

Two runs may share a cache folder: each holds an exclusive lock on its input's entry
(``<entry>.lock``, ``fcntl.flock``) while it works, so a second run on the same input waits
for the first (then finds its work done) and runs on other inputs never meet.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np
import zarr

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, runs must not share an entry
    fcntl = None  # type: ignore[assignment]

from lacvid.compose.held import is_same_drawing
from lacvid.errors import CacheError, InputError, disk_full, is_disk_full
from lacvid.preprocess.frame import PreparedFrame
from lacvid.preprocess.ink import InkModel
from lacvid.progress import NULL_PROGRESS, Progress
from lacvid.shots.detect import Shot
from lacvid.util.hashing import file_stats, fingerprint
from lacvid.util.store import FrameArrays, is_complete, mark_complete

CACHE_FORMAT = 3  # 2: a checksum beside every done flag; 3: a large frame's checksum by word hash (util.store)
LOCK_SUFFIX = ".lock"


def input_fingerprint(path: Path, names: Iterable[str] | None = None) -> str:
    """Identify an input by where it is and the size and mtime of what it holds."""
    path = Path(path).resolve()
    if path.is_dir():
        files = [path / n for n in (names if names is not None else sorted(os.listdir(path)))]
    else:
        files = [path]
    return fingerprint(CACHE_FORMAT, str(path), file_stats(files))


class EntryLock:
    """An exclusive ``flock`` on ``<entry>.lock``: held by one run at a time, released by the kernel
    when the process dies (a SIGKILLed run never leaves a stale lock). Its mtime is the entry's last use."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._file: IO[bytes] | None = None

    def acquire(self, wait: bool = True, progress: Progress = NULL_PROGRESS, what: str = "") -> bool:
        """Take the lock; with ``wait`` block (saying so once) until the holder is done, else return False."""
        self._file = open(self.path, "ab")
        if fcntl is None:
            return True
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                self._file.close()
                self._file = None
                return False
            progress.log(f"waiting for another lacvid run that is using the cache of {what or self.path}")
            fcntl.flock(self._file, fcntl.LOCK_EX)
        os.utime(self.path)
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the last descriptor drops the flock
            self._file = None


class ColorizeCache:
    """The per-input store; see the module docstring for its layout. Use it as a context manager:
    the entry's lock is held from ``__enter__`` to ``__exit__``."""

    def __init__(self, root: Path, input_id: str, input_path: Path | None = None,
                 progress: Progress = NULL_PROGRESS, locked: bool = True) -> None:
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create the cache folder {self.root} ({exc.strerror}); pass --cache DIR "
                             "with a writable folder") from exc
        self.path = self.root / f"{input_id}.zarr"
        self.input_path = input_path
        self.progress = progress
        self.lock = EntryLock(self.root / f"{input_id}{LOCK_SUFFIX}")
        # locked=False: a worker of a run whose driver holds the lock (lacvid.pipeline.ray_executor)
        self.locked = locked
        self.store: Any = None

    def __enter__(self) -> ColorizeCache:
        try:
            if self.locked:
                self.lock.acquire(progress=self.progress, what=str(self.input_path or self.path))
        except OSError as exc:
            raise CacheError(f"cannot lock the cache entry {self.path} ({exc.strerror or exc}); pass --cache DIR "
                             "with a writable folder") from exc
        try:
            self.store = zarr.open_group(str(self.path), mode="a" if self.locked else "r+")
            if self.locked and self.store.attrs.get("format") != CACHE_FORMAT:
                self.store.attrs["format"] = CACHE_FORMAT
            source = str(Path(self.input_path).resolve()) if self.input_path is not None else None
            if self.locked and source is not None and self.store.attrs.get("input") != source:
                self.store.attrs["input"] = source  # for lacvid cache ls
        except BaseException as exc:
            self.lock.release()
            if isinstance(exc, Exception) and not isinstance(exc, InputError):
                raise self.unreadable(exc) from exc
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.lock.release()

    def unreadable(self, exc: BaseException, part: str = "") -> CacheError:
        """The error for an entry that cannot be read: which one, and how to remove it."""
        where = f"{self.path}/{part}" if part else str(self.path)
        reason = getattr(exc, "strerror", None) or f"{type(exc).__name__}: {exc}"
        return CacheError(f"cannot read the cache entry {where} ({' '.join(str(reason).split())[:160]}); "
                          f"lacvid cache clean --cache {self.root} {self.path.name} removes it")

    def _group(self, name: str) -> zarr.Group:
        try:
            return self.store.require_group(name)
        except OSError as exc:
            if is_disk_full(exc):
                raise disk_full(self.path, 1_000_000, "pass --cache DIR on another disk") from exc
            raise self.unreadable(exc, name) from exc
        except Exception as exc:  # noqa: BLE001 - damaged metadata fails in zarr or json with any type
            raise self.unreadable(exc, name) from exc

    def prep(self, settings_id: str, full_size: tuple[int, int], work_size: tuple[int, int]) -> PrepEntry:
        group = self._group(f"prep-{settings_id}")
        try:
            return PrepEntry(group, full_size, work_size)
        except (ValueError, KeyError, TypeError) as exc:
            raise self.unreadable(exc, group.path) from exc

    def run_stage(self, settings_id: str, stage: str, work_size: tuple[int, int], channels: int = 3,
                  length: int = 0) -> FrameArrays:
        """Per-frame outputs of one stage (``colour``, ``refined``: RGB; ``propagated``: RGB + confidence); ``length``:
        the frames a new entry is made for (``FrameArrays``)."""
        group = self._group(f"run-{settings_id}/{stage}")
        h, w = work_size
        try:
            return FrameArrays(group, {"rgb": ((h, w, channels), "uint8")}, length)
        except (ValueError, KeyError, TypeError) as exc:
            raise self.unreadable(exc, group.path) from exc

    def finished(self, settings_id: str, full_size: tuple[int, int], length: int = 0) -> FrameArrays:
        """Finished frames as the two layers ``lacvid.compose.layers`` flattens (paint, ink: RGBA at full
        resolution) and their doubt (``lacvid.compose.doubt``: uint8 (H, W)); ``length`` as ``run_stage``'s."""
        group = self._group(f"run-{settings_id}/finished")
        H, W = full_size
        try:
            return FrameArrays(group, {"paint": ((H, W, 4), "uint8"), "ink": ((H, W, 4), "uint8"),
                                       "doubt": ((H, W), "uint8")}, length)
        except (ValueError, KeyError, TypeError) as exc:
            raise self.unreadable(exc, group.path) from exc


class PrepEntry:
    """Preprocessed frames of one input under one set of preprocessing settings."""

    def __init__(self, group: zarr.Group, full_size: tuple[int, int], work_size: tuple[int, int]) -> None:
        H, W = full_size
        h, w = work_size
        self.group = group
        self.frames = FrameArrays(group, {
            "lines_full": ((H, W), "uint8"),   # original-resolution line art, kept as drawn
            "lines": ((h, w), "uint8"),        # working-size line art the networks see
            "dist": ((h, w), "float16"),       # working-size normalised distance field
        })
        # A drawing as given (line-art inputs only), to put the artist's ink back as drawn.
        self.drawn = FrameArrays(group.require_group("drawn"), {"rgb": ((H, W, 3), "uint8")})

    def verify(self) -> list[int]:
        """Clear (and return) frames that fail their checksum, or whose done flag or drawing was lost
        (a damaged chunk or ``zarr.json``); a finished scan missing one is unfinished, so the scan
        computes them again."""
        bad = set(self.frames.verify()) | set(self.drawn.verify())
        if self.drawn.reset:  # which frames were drawings is lost: every frame is prepared again
            bad |= set(np.flatnonzero(self.frames.done_mask()).tolist())
        scan = self.scan
        if scan is not None:  # a finished scan vouches for every frame: one not done was lost
            mask = self.frames.done_mask()
            bad |= {i for i in range(scan[0]) if i >= len(mask) or not mask[i]}
        for index in sorted(bad):  # a frame is whole or not at all: its line art and its drawing together
            self.frames.clear(index)
            self.drawn.clear(index)
        if bad and is_complete(self.group):
            self.group.attrs["complete"] = False
        return sorted(bad)

    def put(self, index: int, frame: PreparedFrame) -> None:
        if frame.drawn is not None:  # first: the frame's done flag below vouches for both
            self.drawn.put(index, rgb=frame.drawn)
        self.frames.put(index, lines_full=frame.lines_full, lines=frame.lines, dist=frame.dist)

    def repeats(self, shot: Shot) -> frozenset[int]:
        """The frames of ``shot`` that show the previous frame's drawing again (``compose.held.is_same_drawing``:
        a drawing held on twos or threes, a still): their line art within ``SAME_INK`` levels of the previous
        frame's everywhere, a lossy video's noise included. Equal stored checksums are equal pixels, unread."""
        if len(shot) < 2:
            return frozenset()
        sums = self.frames.checksums("lines_full", range(shot.start, shot.stop))
        held, before = set(), None
        for t in range(shot.start + 1, shot.stop):
            if sums[t - shot.start] == sums[t - 1 - shot.start] != 0:
                held.add(t)
                continue
            if before is None or before[0] != t - 1:
                before = (t - 1, self.frames.get("lines_full", t - 1))
            lines = self.frames.get("lines_full", t)
            if is_same_drawing(lines, before[1]):
                held.add(t)
            before = (t, lines)
        return frozenset(held)

    def has_drawing(self, index: int) -> bool:
        """True when frame ``index`` came from a drawing (its ink is kept as drawn)."""
        return self.drawn.is_done(index)

    @property
    def scan(self) -> tuple[int, list[str], list[Shot]] | None:
        """The completed scan (frame count, names, shots), or None if it never finished."""
        if not is_complete(self.group):
            return None
        scan = self.group.attrs["scan"]
        return scan["n_frames"], list(scan["names"]), [Shot(a, b) for a, b in scan["shots"]]

    def finish_scan(self, n_frames: int, names: list[str], shots: list[Shot], ink: InkModel | None = None) -> None:
        """Mark the scan complete; ``ink``: the drawing's ink model it fitted (None: colour footage)."""
        mark_complete(self.group, scan={"n_frames": n_frames, "names": names,
                                        "shots": [[s.start, s.stop] for s in shots]},
                      ink=ink.to_dict() if ink is not None else None)

    def ink_model(self) -> InkModel | None:
        """The ink model the completed scan fitted (the very one it drew the line art with), or None (footage, an
        unfinished scan, or a cache written before scans kept it)."""
        if not is_complete(self.group):
            return None
        data = self.group.attrs.get("ink")
        return InkModel.from_dict(data) if data else None


def damaged_message(arrays: FrameArrays, bad: list[int]) -> str:
    """The warning (for ``lacvid.progress.warn``) for frames found missing or damaged in the cache (they are
    computed again)."""
    shown = ", ".join(str(i) for i in bad[:8]) + (", ..." if len(bad) > 8 else "")
    return (f"{len(bad)} cached frame(s) of {arrays.entry} were missing or damaged (frames {shown}); "
            "computing them again")
