"""Where lacvid keeps what it can recompute: colorize's Zarr stores, exported ONNX graphs."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """``$LACVID_CACHE``, else ``$XDG_CACHE_HOME/lacvid``, else ``~/.cache/lacvid``."""
    if os.environ.get("LACVID_CACHE"):
        return Path(os.environ["LACVID_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "lacvid"
