"""The propagation's one-pass kernels (a carry's votes and moved centroids, a frame's centroids)
against their NumPy forms (the code they replaced; small frames still run it), bit for bit: the
propagated colours are cached and the finished frames compared bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from lacvid.preprocess.ink import InkModel
from lacvid.propagate.evidence import Belief, CarrySettings, carry
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
    kernel, numpy_form = _both_ways(monkeypatch, lambda: carry(target, source, flow, belief, settings))
    np.testing.assert_array_equal(kernel.prob, numpy_form.prob)
    np.testing.assert_array_equal(kernel.conf, numpy_form.conf)
    assert kernel.conf.max() > 0
