"""Colour evidence per region, carried from one frame to the next along optical flow.

A ``Belief`` says, for every region of a frame, how likely each palette colour is (``prob``)
and how far to trust that (``conf``). ``carry_votes`` moves it to a neighbouring frame by the
``HopVotes`` a flow between the two finds; ``mix`` pools several sources of one chain; ``fuse``
combines the chains from both keys.

Why vote per palette colour: a region split in one drawing and merged in the next still gets
its colour, since evidence for the same colour adds up whichever source regions it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lacvid.propagate.segments import Segments
from lacvid.util.kernels import kernel, worth_compiling


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


@kernel(nogil=True)
def _carry_sums(target_labels, target_dist, source_labels, source_dist, flow, n_target, n_source,
                deep_px):  # pragma: no cover
    # One pass over the target's pixels, each landing where the flow sends it in the source (rounded half
    # to even as np.rint, clamped to the frame): (nt, ns) votes, weighted by how deep in its region the
    # pixel lies in both frames (none from outside the frame); per target region, the pixels deep enough
    # to trust and their summed flow (x, y). Sums in pixel order, in the float32 then float64 steps of
    # the NumPy form (``np.bincount`` over ``np.rint(grid + flow)``), so the bits are the same. np.rint is one
    # rounding instruction (a floor and two tie branches an axis before: a 576 px hop 7 -> 4 ms); the source's
    # depth is read only for a pixel that lands inside (outside, the NumPy form adds a weight of 0.0: no change).
    h, w = target_labels.shape
    votes = np.zeros((n_target, n_source), np.float64)
    count = np.zeros(n_target, np.float64)
    moved = np.zeros((n_target, 2), np.float64)
    low, high, half = np.float32(0.02), np.float32(1.0), np.float32(0.5)
    for y in range(h):
        for x in range(w):
            fx = flow[y, x, 0]
            fy = flow[y, x, 1]
            sx = int(np.rint(np.float64(x) + np.float64(fx)))
            sy = int(np.rint(np.float64(y) + np.float64(fy)))
            wt = min(max(target_dist[y, x] / deep_px, low), high)
            r = target_labels[y, x]
            if sx >= 0 and sx < w and sy >= 0 and sy < h:
                ws = min(max(source_dist[sy, sx] / deep_px, low), high)
                votes[r, source_labels[sy, sx]] += np.float64(wt * ws)
            if wt > half:
                count[r] += 1.0
                moved[r, 0] += np.float64(fx)
                moved[r, 1] += np.float64(fy)
    return votes, count, moved


def _carry_sums_numpy(target_labels: np.ndarray, target_dist: np.ndarray, source_labels: np.ndarray,
                      source_dist: np.ndarray, flow: np.ndarray, n_target: int, n_source: int,
                      deep_px: np.float32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_carry_sums`` as NumPy computes it, for frames too small to be worth compiling the kernel for."""
    h, w = flow.shape[:2]
    gy, gx = np.mgrid[0:h, 0:w]
    x = np.rint(gx + flow[..., 0]).astype(np.int64)
    y = np.rint(gy + flow[..., 1]).astype(np.int64)
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    y, x = np.clip(y, 0, h - 1), np.clip(x, 0, w - 1)
    wt = np.clip(target_dist / deep_px, 0.02, 1.0)
    ws = np.clip(source_dist[y, x] / deep_px, 0.02, 1.0)
    weight = (wt * ws * inside).ravel().astype(np.float64)
    rt, rs = target_labels.ravel(), source_labels[y, x].ravel()
    votes = np.bincount(rt * n_source + rs, weights=weight, minlength=n_target * n_source).reshape(n_target, n_source)
    trusted = (wt.ravel() > 0.5).astype(np.float64)
    count = np.bincount(rt, weights=trusted, minlength=n_target)
    moved = np.stack([np.bincount(rt, weights=flow[..., c].ravel() * trusted, minlength=n_target) for c in (0, 1)], 1)
    return votes, count, moved                                      # (nt, ns), (nt,), (nt, 2)


def _proximity(target: Segments, source: Segments, count: np.ndarray, moved: np.ndarray,
               settings: CarrySettings) -> np.ndarray:
    """(nt, ns): how near each target region's flow-moved centroid lies to each source centroid.
    Flow smooths over small regions such as eyes and misses them by a few pixels; this does not.
    ``count``, ``moved``: per target region, its trusted pixels and their summed flow (``_carry_sums``)."""
    moved = moved / np.maximum(count, 1e-9)[:, None]                            # (nt, 2) mean flow
    d2 = (((target.centroids + moved)[:, None, :] - source.centroids[None]) ** 2).sum(-1)  # (nt, ns)
    sigma = np.maximum(settings.proximity_px, 0.5 * np.sqrt(np.maximum(target.area, 1)))[:, None]
    return np.exp(-d2 / (2 * sigma * sigma))


@dataclass(frozen=True)
class HopVotes:
    """What the flow between two frames says of their regions: ``votes`` (nt, ns) float64, how much of each
    target region lands in each source region (pixels weighted by how deep they lie in both); per target
    region, ``count`` (nt,) its pixels deep enough to trust and ``moved`` (nt, 2) their summed flow (x, y)."""

    votes: np.ndarray
    count: np.ndarray
    moved: np.ndarray

    @classmethod
    def along(cls, target: Segments, source: Segments, flow: np.ndarray, settings: CarrySettings) -> HopVotes:
        """The votes of ``target``'s pixels where ``flow`` (target -> source, (H, W, 2)) lands them in ``source``."""
        sums = _carry_sums if worth_compiling(target.labels.size) else _carry_sums_numpy
        return cls(*sums(target.labels, target.dist, source.labels, source.dist,
                         np.ascontiguousarray(flow, np.float32), target.n, source.n,
                         np.float32(settings.deep_px)))              # (nt, ns), (nt,), (nt, 2)

    def reversed(self) -> HopVotes:
        """The same pixel pairs read from the source's side: where each source region's pixels came from in
        the target, the flow pushed rather than pulled (``propagate.hops``). Per source region, its votes
        stand for its trusted pixels, and its flow is minus the mean flow of the target regions that landed
        on it, weighted by their votes."""
        votes = np.ascontiguousarray(self.votes.T)                                    # (ns, nt)
        mean = self.moved / np.maximum(self.count, 1e-9)[:, None]                     # (nt, 2) mean flow
        return HopVotes(votes, votes.sum(1), -(votes @ mean))                          # (ns, nt), (ns,), (ns, 2)


def carry_votes(target: Segments, source: Segments, hop: HopVotes, belief: Belief,
                settings: CarrySettings = CarrySettings()) -> Belief:
    """``belief`` of ``source`` moved to ``target`` by ``hop``, the votes of target regions for source regions.

    A target region's evidence for a source region is the share of its pixels the flow lands in
    it (plus the proximity term), scaled by how alike the two areas are (an eye should not take
    the colour of the face around it)."""
    votes, count, moved = hop.votes, hop.count, hop.moved                      # (nt, ns), (nt,), (nt, 2)
    total = votes.sum(1)
    share = votes / np.maximum(total, 1e-9)[:, None]                            # (nt, ns)
    at = np.maximum(target.area, 1).astype(np.float64)[:, None]
    as_ = np.maximum(source.area, 1).astype(np.float64)[None]
    alike = np.minimum(at, as_) / np.maximum(at, as_)                           # (nt, ns)
    evidence = share
    if settings.proximity > 0:
        evidence = share + settings.proximity * _proximity(target, source, count, moved, settings)
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
