"""Stable identities for caches: a hash of settings, of file contents, of file stats.

Every cache lacvid keeps (colorize's Zarr store, the training data cache, the exported ONNX
graphs) is keyed by these, so "has anything that decides this data changed?" has one answer.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def fingerprint(*parts: Any) -> str:
    """A short stable hash (16 hex digits) of JSON-able parts: settings, names, file stats."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_digest(path: str | os.PathLike) -> str:
    """Content hash of a file (16 hex digits): a retrained model or repainted key gets a new one."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def file_stats(files: Iterable[Path], relative_to: Path | None = None) -> list[tuple[str, int, int]]:
    """(name, size, mtime in ns) per file: cheap to compute, changes when a file is rewritten."""
    out = []
    for f in files:
        st = Path(f).stat()
        name = str(Path(f).relative_to(relative_to)) if relative_to is not None else Path(f).name
        out.append((name, st.st_size, st.st_mtime_ns))
    return out
