"""The votes between two frames read from either side (``propagate.hops``): one flow for both chains."""

from __future__ import annotations

import numpy as np
import pytest

import lacvid.propagate.hops as hops_module
from lacvid.preprocess.ink import InkModel
from lacvid.propagate.evidence import CarrySettings, HopVotes
from lacvid.propagate.flow import distance_image
from lacvid.propagate.hops import ShotHops
from lacvid.propagate.segments import segment
from tests.propagate.test_propagate import frame

DX = 5  # the generated ball moves 5 px right a frame


def _two_frames():
    drawn = [frame(t)[0] for t in (3, 4)]
    ink = InkModel.fit(drawn[:1])
    return [segment(ink.frame(d).mask) for d in drawn]


def _shift(shape: tuple[int, int], dx: float) -> np.ndarray:
    flow = np.zeros((*shape, 2), np.float32)
    flow[..., 0] = dx
    return flow


def test_votes_read_backward_are_the_pixel_pairs_the_flow_the_other_way_finds() -> None:
    """Where the drawing moved by a whole pixel count, pushing the later frame's pixels along its flow to the
    earlier meets the same pixel pairs as pulling the earlier's along the opposite flow: the same votes (up to
    the order they are summed in), and each region moved by minus the flow."""
    earlier, later = _two_frames()
    settings = CarrySettings()
    pulled_back = HopVotes.along(earlier, later, _shift(earlier.labels.shape, DX), settings)   # earlier -> later
    pushed = HopVotes.along(later, earlier, _shift(later.labels.shape, -DX), settings).reversed()
    assert pushed.votes.shape == (earlier.n, later.n)
    np.testing.assert_allclose(pushed.votes, pulled_back.votes, rtol=1e-12, atol=1e-12)
    landed = pushed.count > 0
    np.testing.assert_allclose(pushed.moved[landed] / pushed.count[landed, None], [[DX, 0.0]] * int(landed.sum()))


def _hops(n: int, keys: list[int], needed: list[tuple[int, int]]) -> ShotHops:
    return ShotHops(lambda t: None, keys, list(range(n)), CarrySettings(), True, False, needed)


@pytest.mark.parametrize("keys, pair, flow_from", [
    ([0, 8], (1, 2), 2),    # near the first key: the forward chain's (it pulls)
    ([0, 8], (6, 7), 6),    # near the last key: the backward chain's
    ([0, 8], (3, 5), 5),    # the middle goes forward: 5 hops from key 0, 5 from key 8
    ([0, 4, 8], (5, 6), 6),
    ([2, 8], (0, 1), 0),    # before the first key only the backward chain walks
    ([0, 6], (7, 8), 8),    # after the last only the forward one
])
def test_a_pair_read_by_both_chains_runs_its_flow_for_the_nearer_key(keys, pair, flow_from) -> None:
    a, b = pair
    hops = _hops(9, keys, [(a, b), (b, a)])
    assert hops._direction(pair)[0] == flow_from
    assert hops.pulls(flow_from, a + b - flow_from)


def test_a_pair_read_by_one_chain_runs_its_flow_for_that_chain() -> None:
    hops = _hops(9, [0, 8], [(6, 7)])   # only a backward chain reads (6, 7), e.g. --directions backward
    assert hops.pulls(6, 7)
    hops = _hops(9, [0, 8], [(2, 1)])
    assert hops.pulls(2, 1)


def test_a_pair_read_by_both_chains_is_made_once_and_then_dropped(monkeypatch) -> None:
    earlier, later = _two_frames()
    fields = {0: (earlier, distance_image(earlier.dist)), 1: (later, distance_image(later.dist))}
    made: list[int] = []
    real = hops_module.HopVotes.along

    def counted(*args, **kwargs):
        made.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hops_module.HopVotes, "along", counted)
    hops = ShotHops(fields.__getitem__, [0, 1], [0, 1], CarrySettings(), True, False, needed=[(1, 0), (0, 1)])
    forward = hops.votes(1, 0, fields)
    assert hops.held() == 1                       # kept for the chain that reads it second
    backward = hops.votes(0, 1, fields)
    assert len(made) == 1 and hops.held() == 0
    np.testing.assert_array_equal(backward.votes, forward.votes.T)
