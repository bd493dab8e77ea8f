"""Where the propagation found no evidence, the nearest key's paint at that place decides, not the
network; wherever the propagation is at all sure, it decides."""

from __future__ import annotations

import numpy as np

from lacvid.compose.fusion import Candidate, FusionSettings, fuse_regions
from lacvid.pipeline.compose import NEAREST_KEY_WEIGHT, PROPAGATED_NETWORK_WEIGHT

H, W = 40, 60
PAPER, RED, BLUE, GREEN = (255, 255, 255), (200, 40, 40), (40, 60, 200), (40, 180, 60)


def test_the_nearest_key_not_the_network_where_the_propagation_knows_nothing() -> None:
    lines = np.full((H, W), 255, np.uint8)
    lines[:, 30] = 0                                       # two regions: left and right
    palette = np.array([PAPER, RED, BLUE, GREEN], np.uint8)
    network = np.full((H, W, 3), PAPER, np.uint8)          # the network guesses bare paper everywhere
    propagated = np.zeros((H, W, 3), np.uint8)
    propagated[:, :30] = GREEN
    confidence = np.zeros((H, W), np.float32)
    confidence[:, :30] = 0.02                              # a weak chain reached the left region only
    key = np.zeros((H, W, 3), np.uint8)
    key[:] = RED
    key[:, 30:] = BLUE                                     # the nearest key paints the right region blue
    settings = FusionSettings(network_weight=PROPAGATED_NETWORK_WEIGHT, min_confidence=PROPAGATED_NETWORK_WEIGHT)
    fill = fuse_regions(lines, network, [Candidate(propagated, confidence),
                                         Candidate(key, np.full((H, W), NEAREST_KEY_WEIGHT, np.float32))],
                        palette, settings, with_ink=False)
    assert (fill[:, 5] == GREEN).all(), "any evidence the propagation carried outvotes the key at that place"
    assert (fill[:, 50] == BLUE).all(), "no evidence: the key's paint there, never the network's paper"
