"""lacvid: colour line-art animation from a few painted key frames."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
