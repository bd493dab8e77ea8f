"""Colorize: line art and a few painted keys in, every frame painted out.

The passes, in the order a frame meets them: ``scan`` (decode, preprocess, shots) ->
``networks`` (color transform, temporal constraint) -> ``propagation`` (drawings: region
colours from the keys) -> ``compose`` (fusion, full resolution, ink, encode); ``run`` ties them
together over the ``cache``; ``options`` says what each pass is asked to do.

``lacvid.colorize`` is this package and, called, the function ``run.colorize``: so both
``from lacvid import colorize; colorize(...)`` and ``from lacvid.colorize import colorize`` work.
"""

import sys
import types

from lacvid.colorize.options import DEFAULT_MODEL, ColorizeOptions, ColorizeResult
from lacvid.colorize.run import colorize

__all__ = ["DEFAULT_MODEL", "ColorizeOptions", "ColorizeResult", "colorize"]


class _CallablePackage(types.ModuleType):
    """The package, callable as ``colorize(input, keys_dir, output, options, progress)``."""

    def __call__(self, *args, **kwargs) -> ColorizeResult:
        return colorize(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
