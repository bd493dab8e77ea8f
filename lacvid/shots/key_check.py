"""Does a painted key belong to the frame it is named after? A cheap check before any work.

A key painted over another frame (a typo in its name, a key from another shot) would paint
every frame near it wrongly and silently. The drawing's strokes should lie on the key's colour
edges (fills meet along the lines, and a painted key usually carries the ink itself): the share
of the frame's ink farther than a few pixels from any edge of the key measures the mismatch.
"""

from __future__ import annotations

import cv2
import numpy as np

# Above this share of ink off the key's edges a key gets a warning (own keys measured 0.01-0.16).
MISMATCH_WARNING = 0.35
_REACH = 3.0            # px (at 512 px on the short side) an edge may lie from the stroke it follows


def key_mismatch(key: np.ndarray, lines: np.ndarray) -> float:
    """Share of the ink of ``lines`` (uint8 (H, W), 255 paper) with no colour edge of ``key``
    (uint8 (H, W, 3)) within reach: near 0 for the key of this frame, near 1 for another drawing."""
    ink = lines < 128
    if ink.sum() < 50:  # a blank or nearly blank page: nothing to compare
        return 0.0
    scale = min(1.0, 512.0 / min(lines.shape))  # large frames are compared at 512 px, small ones as they are
    small = (max(16, round(lines.shape[1] * scale)), max(16, round(lines.shape[0] * scale)))
    key_small = cv2.resize(key, small, interpolation=cv2.INTER_AREA)
    edges = cv2.Canny(cv2.GaussianBlur(key_small, (3, 3), 0), 40, 120) > 0          # (h, w)
    if not edges.any():
        return 1.0
    dist = cv2.distanceTransform((~edges).astype(np.uint8), cv2.DIST_L2, 3)       # px to the nearest edge
    ink_small = cv2.resize(ink.astype(np.uint8), small, interpolation=cv2.INTER_NEAREST) > 0
    return float((dist[ink_small] > _REACH).mean()) if ink_small.any() else 0.0
