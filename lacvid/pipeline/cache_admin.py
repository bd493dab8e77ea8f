"""Looking after the cache folder: what is in it (``lacvid cache ls``) and removing entries
(``lacvid cache clean``), since a cache that is never cleaned grows with every input colorized.

An entry is one input's store (``<id>.zarr`` with its ``<id>.lock``), one model's exported
ONNX graphs (``onnx/<digest>-<versions>``) or a video piped in as ``-`` (``stdin/<digest>``).
Its last use is the mtime of its lock (touched by every run) or of its folder. An entry a
running ``colorize`` holds is never removed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from lacvid.errors import InputError
from lacvid.pipeline.cache import LOCK_SUFFIX, EntryLock

SIZE_WARNING_BYTES = 10 * 1000**3  # above this, colorize ends with a line saying so
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 86400, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(frozen=True)
class CacheEntry:
    name: str           # as ``lacvid cache clean NAME`` takes it
    path: Path
    size: int           # bytes on disk (file sizes)
    last_used: float    # seconds since the epoch
    input: str | None   # the input it caches, when recorded


def parse_age(text: str) -> float:
    """``30d``, ``12h``, ``90m``, ``2w`` or ``45s`` (a bare number is days) -> seconds."""
    match = _AGE.match(text)
    if not match:
        raise InputError(f"--older-than {text!r} is not an age; give e.g. 30d, 12h or 2w")
    return float(match.group(1)) * _UNITS[match.group(2)]


def tree_size(path: Path) -> int:
    """Bytes of every file under ``path`` (0 when it is gone)."""
    total = 0
    stack = [str(path)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                pass
    return total


def _input_of(store: Path) -> str | None:
    try:
        value = json.loads((store / "zarr.json").read_text()).get("attributes", {}).get("input")
    except (OSError, ValueError, AttributeError):
        return None
    return str(value) if value else None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def list_entries(root: Path) -> list[CacheEntry]:
    """Every entry of the cache folder ``root``, least recently used first."""
    root = Path(root)
    if not root.is_dir():
        return []
    entries = []
    for store in root.glob("*.zarr"):
        lock = store.with_suffix(LOCK_SUFFIX)
        used = _mtime(lock) if lock.exists() else _mtime(store)
        entries.append(CacheEntry(store.name, store, tree_size(store), used, _input_of(store)))
    for store in (root / "train").glob("*.zarr") if (root / "train").is_dir() else []:  # lacvid train's frames
        entries.append(CacheEntry(f"train/{store.name}", store, tree_size(store), _mtime(store), None))
    for export in (root / "onnx").glob("*") if (root / "onnx").is_dir() else []:
        entries.append(CacheEntry(f"onnx/{export.name}", export, tree_size(export), _mtime(export), None))
    for spool in (root / "stdin").glob("[!.]*") if (root / "stdin").is_dir() else []:  # videos piped in (-)
        entries.append(CacheEntry(f"stdin/{spool.name}", spool, tree_size(spool) or _size(spool), _mtime(spool),
                                  "(stdin)"))
    return sorted(entries, key=lambda e: e.last_used)


def clean(root: Path, names: list[str] | None = None, older_than: float | None = None) -> tuple[list[CacheEntry],
                                                                                                list[CacheEntry]]:
    """Remove the entries named (all when none are) not used for ``older_than`` seconds.

    Returns (removed, skipped because a running lacvid holds them).
    """
    entries = list_entries(root)
    if names:
        known = {e.name: e for e in entries}
        unknown = [n for n in names if n not in known and n.rstrip("/") not in known]
        if unknown:
            raise InputError(f"{Path(root) / unknown[0]} is not an entry of the cache {root}; see lacvid cache ls")
        entries = [known.get(n) or known[n.rstrip("/")] for n in names]
    if older_than is not None:
        entries = [e for e in entries if time.time() - e.last_used >= older_than]
    removed, busy = [], []
    for entry in entries:
        lock = EntryLock(entry.path.with_suffix(LOCK_SUFFIX)) if entry.path.suffix == ".zarr" else None
        if lock is not None and not lock.acquire(wait=False):
            busy.append(entry)
            continue
        try:
            if entry.path.is_dir():
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                entry.path.unlink(missing_ok=True)
            if lock is not None:
                lock.path.unlink(missing_ok=True)
        finally:
            if lock is not None:
                lock.release()
        removed.append(entry)
    return removed, busy


def human_size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def size_warning(root: Path, limit: int | None = None) -> str | None:
    """A line for the end of a colorize run when the cache folder has grown past ``limit``
    (default ``SIZE_WARNING_BYTES``)."""
    size = tree_size(Path(root))
    if size <= (SIZE_WARNING_BYTES if limit is None else limit):
        return None
    return (f"the cache {root} holds {human_size(size)}; lacvid cache ls shows what, and "
            "lacvid cache clean --older-than 30d removes what was not used for a month")
