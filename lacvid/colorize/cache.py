"""The Zarr cache that lets an interrupted ``colorize`` resume where it stopped.

One store per input (keyed by the input's path and file stats), holding:

- ``prep-<fingerprint>``: every frame's line art at full resolution and at the working size,
  its distance field (``lacvid.preprocess``), and the shot list once the scan is complete;
- ``run-<fingerprint>``: the color network's and the temporal network's output per frame
  at the working size (uint8), keyed by the model file and inference settings.

Writes follow ``lacvid.store``'s protocol (data first, done flag last), so an entry interrupted
at any point is never taken as complete: it is simply computed again. Everything downstream
reads the stored uint8 values, never the in-memory floats, so a resumed run produces exactly
the frames an uninterrupted run would.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import zarr

from lacvid.cache_home import default_cache_dir  # noqa: F401  (re-exported for callers)
from lacvid.errors import InputError
from lacvid.hashing import file_stats, fingerprint
from lacvid.preprocess import PreparedFrame
from lacvid.shots import Shot
from lacvid.store import FrameArrays, is_complete, mark_complete

CACHE_FORMAT = 1


def input_fingerprint(path: Path, names: Iterable[str] | None = None) -> str:
    """Identify an input by where it is and the size and mtime of what it holds."""
    path = Path(path).resolve()
    if path.is_dir():
        files = [path / n for n in (names if names is not None else sorted(os.listdir(path)))]
    else:
        files = [path]
    return fingerprint(CACHE_FORMAT, str(path), file_stats(files))


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

    def prep(self, settings_id: str, full_size: tuple[int, int], work_size: tuple[int, int]) -> PrepEntry:
        group = self.store.require_group(f"prep-{settings_id}")
        return PrepEntry(group, full_size, work_size)

    def run_stage(self, settings_id: str, stage: str, work_size: tuple[int, int]) -> FrameArrays:
        """Per-frame outputs of one network stage (``colour`` or ``refined``)."""
        group = self.store.require_group(f"run-{settings_id}/{stage}")
        h, w = work_size
        return FrameArrays(group, {"rgb": ((h, w, 3), "uint8")})


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

    def put(self, index: int, frame: PreparedFrame) -> None:
        self.frames.put(index, lines_full=frame.lines_full, lines=frame.lines, dist=frame.dist)

    @property
    def scan(self) -> tuple[int, list[str], list[Shot]] | None:
        """The completed scan (frame count, names, shots), or None if it never finished."""
        if not is_complete(self.group):
            return None
        scan = self.group.attrs["scan"]
        return scan["n_frames"], list(scan["names"]), [Shot(a, b) for a, b in scan["shots"]]

    def finish_scan(self, n_frames: int, names: list[str], shots: list[Shot]) -> None:
        mark_complete(self.group, scan={"n_frames": n_frames, "names": names,
                                        "shots": [[s.start, s.stop] for s in shots]})
