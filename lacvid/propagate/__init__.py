"""Region colours propagated frame to frame from the painted keys: how lacvid follows real drawings.

``segments`` (every pixel in one region, small gaps closed) -> ``palette`` (the keys' flat
colours) -> ``evidence`` (colour beliefs per region, carried along flow) -> ``shot`` (chains
from every key in both directions, fused per region).
"""

from lacvid.propagate.shot import FrameColors, PropagationSettings, ShotPropagation

__all__ = ["FrameColors", "PropagationSettings", "ShotPropagation"]
