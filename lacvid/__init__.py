"""lacvid: color line-art animation from a few painted key frames.

The public API: ``colorize(input, keys_dir, output, ColorizeOptions(...))`` and
``load_model(path)``. They load lazily, so ``import lacvid`` (and ``lacvid --help``) stays
fast and torch loads only when a model is needed.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["ColorizeOptions", "ColorizeResult", "__version__", "colorize", "load_model"]


def __getattr__(name: str) -> Any:
    import importlib

    if name in ("colorize", "ColorizeOptions", "ColorizeResult"):
        package = importlib.import_module("lacvid.colorize")  # callable: see lacvid/colorize/__init__.py
        return package if name == "colorize" else getattr(package, name)
    if name == "load_model":
        from lacvid.inference import load_model

        return load_model
    raise AttributeError(f"module 'lacvid' has no attribute {name!r}")
