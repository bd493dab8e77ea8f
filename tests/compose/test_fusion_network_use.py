"""``fuse_regions`` with the network's colour made on demand: asked for only where its vote could change
a region, and where it is not asked for, the frame is the one any network colour would give, bit for bit."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lacvid.compose.fusion import Candidate, FusionSettings, fuse_regions, network_may_decide
from lacvid.compose.regions import label_regions
from lacvid.pipeline.compose import NEAREST_KEY_WEIGHT, PROPAGATED_NETWORK_WEIGHT

H, W = 48, 64
PALETTE = np.array([(255, 255, 255), (200, 40, 40), (40, 60, 200), (40, 180, 60)], np.uint8)
SETTINGS = FusionSettings(network_weight=PROPAGATED_NETWORK_WEIGHT, min_confidence=PROPAGATED_NETWORK_WEIGHT)


def _lines() -> np.ndarray:
    lines = np.full((H, W), 255, np.uint8)
    lines[:, 20] = lines[:, 42] = lines[24, :] = 0     # six regions
    return lines


def _candidates(rng: np.random.Generator, confidence: float) -> list[Candidate]:
    """A propagation of region colours at half size with ``confidence`` (0: no evidence) and the nearest key."""
    h, w = H // 2, W // 2
    propagated = PALETTE[rng.integers(1, 4, (2, 3))].repeat(h // 2, 0).repeat(w // 3 + 1, 1)[:h, :w]
    key = PALETTE[rng.integers(1, 4, (2, 3))].repeat(h // 2, 0).repeat(w // 3 + 1, 1)[:h, :w]
    return [Candidate(np.ascontiguousarray(propagated), np.full((h, w), confidence, np.float32)),
            Candidate(np.ascontiguousarray(key), np.full((h, w), NEAREST_KEY_WEIGHT, np.float32))]


def _networks(rng: np.random.Generator) -> list[np.ndarray]:
    """Every network guess that could sway a region: each palette colour everywhere, and noise."""
    flat = [np.broadcast_to(c, (H // 2, W // 2, 3)).copy() for c in PALETTE]
    return flat + [PALETTE[rng.integers(0, 4, (H // 2, W // 2))] for _ in range(3)]


@pytest.mark.parametrize("confidence", [1.0, 0.6, 0.02])
def test_a_network_not_asked_for_could_not_have_changed_the_frame(confidence: float) -> None:
    rng = np.random.default_rng(1)
    lines = _lines()
    labels = label_regions(lines, close_gaps=SETTINGS.close_gaps, min_area=SETTINGS.min_area)
    candidates = _candidates(rng, confidence)
    asked = []

    def network() -> np.ndarray:
        asked.append(1)
        return _networks(rng)[0]

    lazy = fuse_regions(lines, network, candidates, PALETTE, SETTINGS, labels=labels, with_ink=False)
    assert not asked, "a propagation with any evidence outvotes the network in every region"
    for guess in _networks(rng):
        np.testing.assert_array_equal(lazy, fuse_regions(lines, guess, candidates, PALETTE, SETTINGS, labels=labels,
                                                         with_ink=False))


def test_the_network_is_asked_where_it_could_decide_and_then_decides_as_before() -> None:
    rng = np.random.default_rng(2)
    lines = _lines()
    h, w = H // 2, W // 2
    key = np.empty((h, w, 3), np.uint8)
    key[:, :w // 2], key[:, w // 2:] = PALETTE[1], PALETTE[2]   # the key splits a region between two colours
    candidates = [Candidate(np.full((h, w, 3), 255, np.uint8), np.zeros((h, w), np.float32)),  # no evidence
                  Candidate(key, np.full((h, w), NEAREST_KEY_WEIGHT, np.float32))]
    for guess in _networks(rng):
        asked = []
        lazy = fuse_regions(lines, lambda g=guess, asked=asked: asked.append(1) or g, candidates, PALETTE, SETTINGS,
                            with_ink=False)
        assert asked == [1]
        np.testing.assert_array_equal(lazy, fuse_regions(lines, guess, candidates, PALETTE, SETTINGS, with_ink=False))


def test_network_may_decide_by_the_margin() -> None:
    votes = [np.array([[0.0, 0.0], [5.0, 2.0], [1.0, 1.0]])]   # row 0 ink; region 1 leads by 3; region 2 tied
    assert not network_may_decide(votes, np.array([0.0, 2.9, 0.0]), 2), "less than the lead, and a tie it cannot touch"
    assert network_may_decide(votes, np.array([0.0, 3.0, 0.0]), 2), "as much as the lead: it could tie or win"
    assert network_may_decide(votes, np.array([0.0, 0.0, 1e-12]), 2), "a tie is broken by any weight"
    assert not network_may_decide(votes[:1], np.array([0.0, 9.0, 9.0]), 1), "one palette colour: nothing to decide"
    for weights in itertools.product([0.0, 1.0], repeat=2):
        assert network_may_decide([], np.array([0.0, *weights]), 3) == any(weights)


@pytest.mark.parametrize("confidence, decides", [(0.0150, False), (0.0149, True)])
def test_the_line_is_where_the_network_could_win(confidence: float, decides: bool) -> None:
    """The propagation says red with ``confidence``, the nearest key blue (weight 0.01), the network blue:
    red leads by (c - 0.01) per pixel and the network weighs 0.005 (1 - c), so it wins below c = 0.014925."""
    lines, h, w = _lines(), H // 2, W // 2
    candidates = [Candidate(np.broadcast_to(PALETTE[1], (h, w, 3)).copy(), np.full((h, w), confidence, np.float32)),
                  Candidate(np.broadcast_to(PALETTE[2], (h, w, 3)).copy(), np.full((h, w), NEAREST_KEY_WEIGHT,
                                                                                      np.float32))]
    blue = np.broadcast_to(PALETTE[2], (h, w, 3)).copy()
    asked = []
    lazy = fuse_regions(lines, lambda: asked.append(1) or blue, candidates, PALETTE, SETTINGS, with_ink=False)
    eager = fuse_regions(lines, blue, candidates, PALETTE, SETTINGS, with_ink=False)
    np.testing.assert_array_equal(lazy, eager)
    assert bool(asked) == decides
    assert (eager[2, 2] == PALETTE[2 if decides else 1]).all()
