"""The propagation's one-pass kernels (a carry's votes and moved centroids, a frame's centroids)
against the NumPy forms they replaced, bit for bit: the propagated colours are cached and the
finished frames compared bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from lacvid.preprocess.ink import InkModel
from lacvid.propagate.evidence import Belief, CarrySettings, carry
from lacvid.propagate.segments import Segments, segment
from lacvid.util import kernels
from tests.propagate.test_propagate import N, frame


def _old_centroids(seg: Segments) -> np.ndarray:
    h, w = seg.labels.shape
    gy, gx = np.mgrid[0:h, 0:w]
    weight = np.where(seg.interior, 1.0, 1e-3).ravel()
    lab = seg.labels.ravel()
    mass = np.maximum(np.bincount(lab, weights=weight, minlength=seg.n), 1e-12)
    cx = np.bincount(lab, weights=weight * gx.ravel(), minlength=seg.n) / mass
    cy = np.bincount(lab, weights=weight * gy.ravel(), minlength=seg.n) / mass
    return np.stack([cx, cy], 1)


def _old_carry(target: Segments, source: Segments, flow: np.ndarray, belief: Belief, s: CarrySettings) -> Belief:
    h, w = flow.shape[:2]
    gy, gx = np.mgrid[0:h, 0:w]
    x = np.rint(gx + flow[..., 0]).astype(np.int64)
    y = np.rint(gy + flow[..., 1]).astype(np.int64)
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    y, x = np.clip(y, 0, h - 1), np.clip(x, 0, w - 1)
    wt = np.clip(target.dist / s.deep_px, 0.02, 1.0)
    ws = np.clip(source.dist[y, x] / s.deep_px, 0.02, 1.0)
    wgt = (wt * ws * inside).ravel().astype(np.float64)
    rt, rs = target.labels.ravel(), source.labels[y, x].ravel()
    votes = np.bincount(rt * source.n + rs, weights=wgt, minlength=target.n * source.n).reshape(target.n, source.n)
    total = votes.sum(1)
    share = votes / np.maximum(total, 1e-9)[:, None]
    at = np.maximum(target.area, 1).astype(np.float64)[:, None]
    as_ = np.maximum(source.area, 1).astype(np.float64)[None]
    alike = np.minimum(at, as_) / np.maximum(at, as_)
    trusted = (wt.ravel() > 0.5).astype(np.float64)
    labels = target.labels.ravel()
    count = np.maximum(np.bincount(labels, weights=trusted, minlength=target.n), 1e-9)
    moved = np.stack([np.bincount(labels, weights=flow[..., c].ravel() * trusted, minlength=target.n)
                      for c in (0, 1)], 1) / count[:, None]
    d2 = (((_old_centroids(target) + moved)[:, None, :] - _old_centroids(source)[None]) ** 2).sum(-1)
    sigma = np.maximum(s.proximity_px, 0.5 * np.sqrt(np.maximum(target.area, 1)))[:, None]
    evidence = share + s.proximity * np.exp(-d2 / (2 * sigma * sigma))
    color = (evidence * alike ** s.area_vote_power) @ belief.prob
    conf = (share * alike ** s.area_power * belief.conf[None]).sum(1) * s.decay
    total_color = color.sum(1, keepdims=True)
    prob = np.where(total_color > 0, color / np.maximum(total_color, 1e-12), 1.0 / color.shape[1])
    return Belief(prob, np.where(total > 0, conf, 0.0))


def _segments() -> list[Segments]:
    drawn = [frame(t)[0] for t in range(N)]
    ink = InkModel.fit(drawn[:1])
    return [segment(ink.frame(d).mask) for d in drawn]


@pytest.fixture(params=["kernel", "numpy"])
def path(request, monkeypatch) -> str:
    """Both ways a pass runs: its Numba kernel (large frames) and its NumPy form (``kernels.worth_compiling``)."""
    monkeypatch.setattr(kernels, "KERNEL_MIN_PIXELS", 0 if request.param == "kernel" else 1 << 40)
    return request.param


def test_centroids_equal_the_bincount_form(path: str) -> None:
    for seg in _segments():
        np.testing.assert_array_equal(seg.centroids, _old_centroids(seg))


@pytest.mark.parametrize("kind", ["still", "shift", "half pixels", "random", "off the frame"])
def test_carry_equals_the_numpy_form(kind: str, path: str) -> None:
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
    got, old = carry(target, source, flow, belief, settings), _old_carry(target, source, flow, belief, settings)
    np.testing.assert_array_equal(got.prob, old.prob)
    np.testing.assert_array_equal(got.conf, old.conf)
    assert got.conf.max() > 0
