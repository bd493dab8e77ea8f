"""Preprocessing: what the networks and the propagation see of a frame.

- ``lines``: line art from colour footage (XDoG-style) and from drawings;
- ``ink``: a drawing's ink (strength, colour, paper), modelled once per clip;
- ``distance``: distance fields from line art;
- ``frame``: ONE preprocessing of a frame (full-size line art, working-size lines, distance
  field), shared by colorize and training so they never see different inputs.
"""

from lacvid.preprocess.frame import LINE_MODES, PreparedFrame, prepare_frame

__all__ = ["LINE_MODES", "PreparedFrame", "prepare_frame"]
