"""The propagation's one-pass kernels (a carry's votes and moved centroids, a frame's centroids and regions)
against their NumPy forms (the code they replaced; small frames still run it), bit for bit: the
propagated colours are cached and the finished frames compared bit for bit."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from lacvid.preprocess.ink import InkModel
from lacvid.propagate.evidence import Belief, CarrySettings, HopVotes, carry_votes
from lacvid.propagate.segments import Segments, segment
from lacvid.util import kernels
from tests.propagate.test_propagate import N, frame


def _segments() -> list[Segments]:
    drawn = [frame(t)[0] for t in range(N)]
    ink = InkModel.fit(drawn[:1])
    return [segment(ink.frame(d).mask) for d in drawn]


def _both_ways(monkeypatch, compute):
    """``compute()`` with its passes run as Numba kernels (large frames) and as their NumPy forms (small ones)."""
    got = []
    for min_pixels in (0, 1 << 40):
        monkeypatch.setattr(kernels, "KERNEL_MIN_PIXELS", min_pixels)
        got.append(compute())
    return got


def test_centroids_equal_the_bincount_form(monkeypatch) -> None:
    for seg in _segments():
        def fresh(seg: Segments = seg) -> np.ndarray:   # a new Segments: centroids are cached per object
            return Segments(seg.labels, seg.n, seg.interior, seg.area, seg.dist).centroids

        kernel, numpy_form = _both_ways(monkeypatch, fresh)
        np.testing.assert_array_equal(kernel, numpy_form)
        assert np.isfinite(kernel).all() and kernel.shape == (seg.n, 2)


@pytest.mark.parametrize("kind", ["still", "shift", "half pixels", "random", "off the frame"])
def test_carry_equals_the_numpy_form(kind: str, monkeypatch) -> None:
    segs = _segments()
    target, source = segs[4], segs[3]
    h, w = target.labels.shape
    rng = np.random.default_rng(5)
    flow = np.zeros((h, w, 2), np.float32)
    if kind == "shift":
        flow[..., 0] = -5.0
    elif kind == "half pixels":   # ties of the rounding: half to even, as np.rint
        flow[..., 0], flow[..., 1] = 0.5, -1.5
    elif kind == "random":
        flow[:] = rng.normal(0, 3, (h, w, 2)).astype(np.float32)
    elif kind == "off the frame":
        flow[..., 0] = np.linspace(-40, 40, w, dtype=np.float32)[None]
        flow[..., 1] = 30.0
    belief = Belief(rng.dirichlet(np.ones(6), source.n), rng.uniform(0.2, 1.0, source.n))
    settings = CarrySettings()
    kernel, numpy_form = _both_ways(monkeypatch, lambda: carry_votes(
        target, source, HopVotes.along(target, source, flow, settings), belief, settings))
    np.testing.assert_array_equal(kernel.prob, numpy_form.prob)
    np.testing.assert_array_equal(kernel.conf, numpy_form.conf)
    assert kernel.conf.max() > 0


def _scipy_wraps_at_row_ends() -> bool:
    """Whether ``scipy.ndimage.watershed_ift`` takes a pixel at a row's end and the next row's first pixel for
    neighbours (its bound test is on the flat index): the behaviour ``segments.flood`` keeps."""
    from scipy import ndimage

    cost = np.array([[100, 255, 0], [0, 255, 0]], np.uint8)   # the middle column walls the sides apart
    markers = np.array([[3, 0, 7], [0, 0, 0]], np.int32)
    return bool(ndimage.watershed_ift(cost, markers)[1, 0] == 7)  # 7 across the row's end (a step of 0), not 3


def test_flood_equals_scipys_watershed(monkeypatch) -> None:
    """``segments.flood`` (a Numba kernel on large frames) floods as scipy does, bit for bit: random costs,
    walls of 255, several seeds, one seed, none, and the floods ``segment`` makes of generated drawings."""
    from scipy import ndimage

    from lacvid.propagate import segments

    if not _scipy_wraps_at_row_ends():
        pytest.skip("this scipy's watershed_ift no longer wraps at row ends; lacvid's flood keeps the old "
                    "behaviour its results were made with")
    monkeypatch.setattr(kernels, "KERNEL_MIN_PIXELS", 0)
    rng = np.random.default_rng(11)
    for trial in range(120):
        h, w = (int(v) for v in rng.integers(2, 30, 2))
        cost = rng.integers(0, int(rng.integers(1, 256)), (h, w)).astype(np.uint8)
        if trial % 2:
            cost[rng.random((h, w)) < 0.3] = 255
        markers = np.zeros((h, w), np.int32)
        k = int(rng.integers(0, 5))
        markers.flat[rng.choice(h * w, k, replace=False)] = rng.integers(1, 4, k)
        np.testing.assert_array_equal(segments.flood(cost, markers), ndimage.watershed_ift(cost, markers))
    floods = []
    real = segments.flood
    monkeypatch.setattr(segments, "flood", lambda c, m: floods.append((c, m)) or real(c, m))
    _segments()
    assert len(floods) == N
    for cost, markers in floods:
        assert markers.max() > 1
        np.testing.assert_array_equal(real(cost, markers), ndimage.watershed_ift(cost, markers))
    with pytest.raises(ValueError, match="markers must be >= 0"):
        segments.flood(cost, -markers)


def test_paint_offsets_equal_the_numpy_form(monkeypatch) -> None:
    """How far each key pixel's paint lies from its region's median: the kernel and the NumPy form (small
    frames) agree bit for bit, on painted keys of generated drawings with noise added to the paint."""
    from lacvid.propagate.palette import paint_offsets, region_colors

    rng = np.random.default_rng(4)
    drawn = [frame(t) for t in (0, N - 1)]
    ink = InkModel.fit([d for d, _ in drawn])
    for lines, painted in drawn:
        seg = segment(ink.frame(lines).mask)
        key = np.clip(painted.astype(int) + rng.integers(-9, 10, painted.shape), 0, 255).astype(np.uint8)
        colors = region_colors(key, seg)[0]
        kernel, numpy_form = _both_ways(monkeypatch, lambda k=key, s=seg, c=colors: paint_offsets(k, s, c))
        np.testing.assert_array_equal(kernel, numpy_form)
        assert kernel.dtype == np.float32 and kernel.max() > 0


def test_segments_equal_the_numpy_form(monkeypatch) -> None:
    """A frame's regions with their seeding and renumbering as kernels (large frames) and as the NumPy form (small
    ones), bit for bit: generated drawings, random ink with specks and thin strips, a blank page, all ink, and no
    gap closing."""
    rng = np.random.default_rng(8)
    inks = [InkModel.fit([frame(0)[0]]).frame(frame(t)[0]).mask for t in range(0, N, 3)]
    inks += [rng.random((47, 61)) < p for p in (0.05, 0.3, 0.6)]
    inks += [np.zeros((20, 30), bool), np.ones((20, 30), bool)]
    for ink in inks:
        for gap_radius, min_area in ((1.5, 3), (0.0, 1), (2.5, 6)):
            kernel, numpy_form = _both_ways(monkeypatch, functools.partial(segment, ink, gap_radius, min_area))
            for name in ("labels", "n", "interior", "area", "dist"):
                np.testing.assert_array_equal(getattr(kernel, name), getattr(numpy_form, name), err_msg=name)
            assert kernel.labels.dtype == np.int32 and kernel.area.dtype == np.int64
