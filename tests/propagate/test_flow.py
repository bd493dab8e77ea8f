"""Flows between drawings: composed through a middle frame, and estimated once per pair of neighbouring frames."""

from __future__ import annotations

import numpy as np
import pytest

import lacvid.propagate.hops as hops_module
from lacvid.preprocess.ink import InkModel
from lacvid.propagate import PropagationSettings, ShotPropagation
from lacvid.propagate.flow import compose_flows, warp
from tests.propagate.test_propagate import N, frame


def test_composed_translations_add_up() -> None:
    first = np.zeros((40, 60, 2), np.float32)
    first[..., 0], first[..., 1] = 3.0, -2.0
    then = np.zeros_like(first)
    then[..., 0], then[..., 1] = 4.5, 1.0
    both = compose_flows(first, then)                                  # (40, 60, 2)
    assert both.shape == first.shape and both.dtype == np.float32
    np.testing.assert_allclose(both[..., 0], 7.5)
    np.testing.assert_allclose(both[..., 1], -1.0)


def test_the_second_flow_is_read_where_the_first_lands() -> None:
    """A -> B moves everything 5 px right; B -> C moves only B's right half: a pixel of A whose
    counterpart in B lies in the right half takes that half's motion, though it is in the left half."""
    h, w = 20, 40
    first = np.zeros((h, w, 2), np.float32)
    first[..., 0] = 5.0
    then = np.zeros_like(first)
    then[:, w // 2:, 1] = 2.0
    both = compose_flows(first, then)
    assert both[10, w // 2 - 3, 1] == pytest.approx(2.0)   # lands at x = w // 2 + 2 in B
    assert both[10, 5, 1] == pytest.approx(0.0)            # lands at x = 10: the still half
    # Warping by the composed flow is warping twice, where the flows are smooth.
    image = np.random.default_rng(0).integers(0, 255, (h, w, 3)).astype(np.uint8)
    once = warp(image, both)
    twice = warp(warp(image, then), first)
    np.testing.assert_array_equal(once[:, :10], twice[:, :10])


def test_composing_rejects_flows_of_two_sizes() -> None:
    with pytest.raises(ValueError, match="differ in size"):
        compose_flows(np.zeros((4, 6, 2), np.float32), np.zeros((4, 7, 2), np.float32))


def _counting_estimates(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = hops_module.estimate_flow

    def counted(target, source, pan_prior=True):
        calls.append(1)
        return real(target, source, pan_prior)

    monkeypatch.setattr(hops_module, "estimate_flow", counted)
    return calls


def _shot() -> tuple[list[np.ndarray], dict[int, np.ndarray]]:
    drawn, truth = zip(*(frame(t) for t in range(N)))
    ink = InkModel.fit(drawn[:1])
    return [ink.frame(d).mask for d in drawn], {0: truth[0], N - 1: truth[N - 1]}


@pytest.mark.parametrize("composed", [True, False])
def test_a_chain_estimates_one_flow_per_hop_and_composes_the_rest(monkeypatch, composed: bool) -> None:
    masks, keys = _shot()
    calls = _counting_estimates(monkeypatch)
    settings = PropagationSettings(directions="forward", composed_flows=composed)
    beliefs = ShotPropagation(masks, keys, settings)._chain(0, 1, list(range(1, N - 1)))
    hops = N - 2
    # Each frame but the first after the key has two sources: one DIS each when not composed.
    assert len(calls) == (hops if composed else 2 * hops - 1)
    assert sorted(beliefs) == list(range(N - 1))


@pytest.mark.parametrize("keys", [(0, N - 1), (0, 3, N - 1)])
def test_both_chains_share_one_flow_per_pair_of_neighbouring_frames(monkeypatch, keys: tuple[int, ...]) -> None:
    """The forward and backward chains cross every pair of neighbours between two keys: one DIS flow each
    pair, not one per chain (``propagate.hops``), plus at most one a key interval for the second source whose
    hops run two ways (the interval's middle); every frame between the keys still coloured."""
    masks, _ = _shot()
    calls = _counting_estimates(monkeypatch)
    colors = ShotPropagation(masks, {k: frame(k)[1] for k in keys}).run()
    assert N - 1 <= len(calls) <= N - 1 + len(keys) - 1      # was 2 (N - 1) - (len(keys) - 1) - ... a flow each hop
    assert sorted(colors) == [t for t in range(N) if t not in keys]


def test_composed_flows_paint_the_shot_as_flows_of_their_own() -> None:
    """What the composed second source is for: the same colours as a flow estimated for it, here
    every region of every frame (the generated ball, eye and entering box)."""
    masks, keys = _shot()
    both = [ShotPropagation(masks, keys, PropagationSettings(composed_flows=c)) for c in (True, False)]
    runs = [p.run() for p in both]
    for t in range(1, N - 1):
        painted = [r[t].image(p.palette) for r, p in zip(runs, both)]
        np.testing.assert_array_equal(painted[0], painted[1])
        assert tuple(painted[0][44, 30 + 5 * t + 6]) == (240, 170, 180)   # the eye, a small region


def _panned_fields(dx: int) -> tuple[np.ndarray, np.ndarray]:
    """Distance fields of the generated drawing on a wider page and of the same page moved ``dx`` px right."""
    import cv2

    from lacvid.propagate.flow import distance_image
    from lacvid.propagate.segments import segment

    page = np.full((192, 320), 255, np.uint8)
    page[40:136, 60:220] = cv2.cvtColor(frame(4)[0], cv2.COLOR_RGB2GRAY)
    moved = np.roll(page, dx, axis=1)
    return distance_image(segment(moved < 128).dist), distance_image(segment(page < 128).dist)


@pytest.mark.parametrize("dx, starts", [(3, 1), (12, 1), (40, 2)])
def test_the_pan_start_is_tried_only_where_dis_from_rest_did_not_find_the_motion(monkeypatch, dx: int,
                                                                               starts: int) -> None:
    """A pan DIS finds from rest (3, 12 px) costs one DIS; one beyond its reach (40 px) is found from the
    phase-correlation shift, a second DIS. Either way the flow is the pan."""
    import lacvid.propagate.flow as flow_module

    target, source = _panned_fields(dx)
    calls: list[int] = []
    real = flow_module.dis_flow
    monkeypatch.setattr(flow_module, "dis_flow", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    flow = flow_module.estimate_flow(target, source)
    assert len(calls) == starts
    drawn = target < 128
    assert np.median(flow[..., 0][drawn]) == pytest.approx(-dx, abs=0.5)
    assert np.median(np.abs(flow[..., 1][drawn])) < 0.5
