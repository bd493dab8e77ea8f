"""lacvid: color line-art animation from a few painted key frames.

The public API: ``colorize(input, keys_dir, output, ColorizeOptions(...) or refs=2, ...,
progress=callback)`` and ``load_model(path)``. Warnings go to the ``lacvid`` logger (which has
only a ``NullHandler``, as a library's should: configure ``logging`` to see them) and into
``ColorizeResult.warnings``. They load lazily, so ``import lacvid`` (and ``lacvid --help``) stays
fast and torch loads only when a model is needed; what they return is the library's own
function or class (``lacvid.pipeline.run.colorize``, ``lacvid.models.runtime.load_model``).
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from lacvid._version import __version__

logging.getLogger("lacvid").addHandler(logging.NullHandler())

if TYPE_CHECKING:  # for type checkers and IDEs; at run time they load on first use
    from lacvid.models.runtime import load_model
    from lacvid.pipeline.options import ColorizeOptions, ColorizeResult
    from lacvid.pipeline.run import colorize
    from lacvid.progress import ProgressEvent

__all__ = ["ColorizeOptions", "ColorizeResult", "ProgressEvent", "__version__", "colorize", "load_model"]

_LAZY = {
    "colorize": "lacvid.pipeline.run",
    "ColorizeOptions": "lacvid.pipeline.options",
    "ColorizeResult": "lacvid.pipeline.options",
    "load_model": "lacvid.models.runtime",
    "ProgressEvent": "lacvid.progress",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # once loaded, a plain attribute
        return value
    raise AttributeError(f"module 'lacvid' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
