"""Colorize: line art and a few painted keys in, every frame painted out.

The passes, in the order a frame meets them: ``scan`` (decode, preprocess, shots) ->
``networks`` (color transform, temporal constraint) -> ``compose`` (fusion with warped keys,
full resolution, encode); ``run`` ties them together over the ``cache``; ``options`` says what
each pass is asked to do.
"""

from lacvid.colorize.options import DEFAULT_MODEL, ColorizeOptions, ColorizeResult
from lacvid.colorize.run import colorize

__all__ = ["DEFAULT_MODEL", "ColorizeOptions", "ColorizeResult", "colorize"]
