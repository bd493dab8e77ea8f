"""Colour evidence per region, carried from one frame to the next along optical flow.

A ``Belief`` says, for every region of a frame, how likely each palette colour is (``prob``)
and how far to trust that (``conf``). ``carry`` moves it to a neighbouring frame; ``mix``
pools several sources of one chain; ``fuse`` combines the chains from both keys.

Why vote per palette colour: a region split in one drawing and merged in the next still gets
its colour, since evidence for the same colour adds up whichever source regions it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lacvid.propagate.segments import Segments


@dataclass(frozen=True)
class CarrySettings:
    area_power: float = 0.5       # confidence lost to a source/target region area mismatch
    area_vote_power: float = 2.0  # how strongly an area mismatch discounts a source region's vote
    decay: float = 0.98           # confidence lost per hop: drift grows with the chain's length
    deep_px: float = 2.0          # pixels this far from ink vote fully, nearer ones less
    proximity: float = 0.5        # weight of the centroid-proximity evidence (0: flow overlap only)
    proximity_px: float = 3.0     # its spatial scale, at least; grows with the region's size


@dataclass(frozen=True)
class Belief:
    prob: np.ndarray  # float64 (n, P), rows sum to 1
    conf: np.ndarray  # float64 (n,) in [0, 1]


def key_belief(palette_index: np.ndarray, on_palette: np.ndarray, seg: Segments, n_colors: int) -> Belief:
    """A painted key as evidence: each region's histogram of palette colours (pixels far from ink
    weigh more), fully trusted. Per pixel, so a key region that leaked through a gap still hands
    each of its parts its own colour."""
    w = (on_palette * np.clip(seg.dist, 0.05, 2.0)).ravel()
    hist = np.bincount(seg.labels.ravel() * n_colors + palette_index.ravel(), weights=w,
                       minlength=seg.n * n_colors).reshape(seg.n, n_colors)   # (n, P)
    total = hist.sum(1, keepdims=True)
    return Belief(np.where(total > 0, hist / np.maximum(total, 1e-12), 1.0 / n_colors), np.ones(seg.n))


def _landing(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each target pixel lands in the source (rounded, clipped) and whether it is inside."""
    h, w = flow.shape[:2]
    gy, gx = np.mgrid[0:h, 0:w]
    x = np.rint(gx + flow[..., 0]).astype(np.int64)
    y = np.rint(gy + flow[..., 1]).astype(np.int64)
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    return np.clip(y, 0, h - 1), np.clip(x, 0, w - 1), inside


def _proximity(target: Segments, source: Segments, flow: np.ndarray, trusted: np.ndarray,
               settings: CarrySettings) -> np.ndarray:
    """(nt, ns): how near each target region's flow-moved centroid lies to each source centroid.
    Flow smooths over small regions such as eyes and misses them by a few pixels; this does not."""
    labels = target.labels.ravel()
    count = np.maximum(np.bincount(labels, weights=trusted, minlength=target.n), 1e-9)
    moved = np.stack([np.bincount(labels, weights=flow[..., c].ravel() * trusted, minlength=target.n)
                      for c in (0, 1)], 1) / count[:, None]                     # (nt, 2) mean flow
    d2 = (((target.centroids + moved)[:, None, :] - source.centroids[None]) ** 2).sum(-1)  # (nt, ns)
    sigma = np.maximum(settings.proximity_px, 0.5 * np.sqrt(np.maximum(target.area, 1)))[:, None]
    return np.exp(-d2 / (2 * sigma * sigma))


def carry(target: Segments, source: Segments, flow: np.ndarray, belief: Belief,
          settings: CarrySettings = CarrySettings()) -> Belief:
    """``belief`` of ``source`` moved to ``target`` along ``flow`` (target -> source, (H, W, 2)).

    A target region's evidence for a source region is the share of its pixels the flow lands in
    it (plus the proximity term), scaled by how alike the two areas are (an eye should not take
    the colour of the face around it)."""
    y, x, inside = _landing(flow)
    wt = np.clip(target.dist / settings.deep_px, 0.02, 1.0)
    ws = np.clip(source.dist[y, x] / settings.deep_px, 0.02, 1.0)
    w = (wt * ws * inside).ravel().astype(np.float64)
    rt, rs = target.labels.ravel(), source.labels[y, x].ravel()
    votes = np.bincount(rt * source.n + rs, weights=w, minlength=target.n * source.n).reshape(target.n, source.n)
    total = votes.sum(1)
    share = votes / np.maximum(total, 1e-9)[:, None]                            # (nt, ns)
    at = np.maximum(target.area, 1).astype(np.float64)[:, None]
    as_ = np.maximum(source.area, 1).astype(np.float64)[None]
    alike = np.minimum(at, as_) / np.maximum(at, as_)                           # (nt, ns)
    evidence = share
    if settings.proximity > 0:
        trusted = (wt.ravel() > 0.5).astype(np.float64)
        evidence = share + settings.proximity * _proximity(target, source, flow, trusted, settings)
    color = (evidence * alike ** settings.area_vote_power) @ belief.prob       # (nt, P)
    conf = (share * alike ** settings.area_power * belief.conf[None]).sum(1) * settings.decay
    s = color.sum(1, keepdims=True)
    prob = np.where(s > 0, color / np.maximum(s, 1e-12), 1.0 / color.shape[1])
    return Belief(prob, np.where(total > 0, conf, 0.0))


def mix(beliefs: list[Belief], weights: list[float]) -> Belief:
    """Several sources of one chain (the frames one and two steps back): evidence weighted by
    source weight times confidence."""
    score = sum(w * b.prob * b.conf[:, None] for b, w in zip(beliefs, weights))
    total = score.sum(1, keepdims=True)
    prob = np.where(total > 0, score / np.maximum(total, 1e-12), 1.0 / score.shape[1])
    return Belief(prob, sum(w * b.conf for b, w in zip(beliefs, weights)) / sum(weights))


def fuse(beliefs: list[Belief], power: float = 4.0) -> Belief:
    """Chains from both keys: evidence weighted by confidence to ``power`` (higher trusts the more
    confident chain more), summed per colour; conf = the winner's share x the best chain's conf."""
    score = sum(b.prob * (b.conf ** power)[:, None] for b in beliefs)
    prob = score / np.maximum(score.sum(1), 1e-12)[:, None]
    best = np.max(np.stack([b.conf for b in beliefs]), 0)
    return Belief(prob, prob.max(1) * best)
