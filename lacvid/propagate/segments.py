"""Regions for matching: every pixel of a frame in exactly one region, small gaps closed.

Plain connected components of paper leak through every pencil gap. Here paper pixels farther
than ``gap_radius`` from ink are the region cores (a gap narrower than about twice the radius
cuts a core in two); paper components with no core (eyes, highlights thinner than the
radius) seed themselves; everything else, ink included, is flooded from the seeds by a
watershed on the distance to ink. Narrow necks may be split: that over-segmentation is
harmless, because colours are voted per palette colour, never per region id.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np
from scipy import ndimage

from lacvid.util.checks import check_array
from lacvid.util.kernels import kernel, worth_compiling


@dataclass(frozen=True)
class Segments:
    """One frame's regions."""

    labels: np.ndarray    # int32 (H, W), 0..n-1, every pixel
    n: int
    interior: np.ndarray  # bool (H, W): not ink
    area: np.ndarray      # int64 (n,): interior pixels per region
    dist: np.ndarray      # float32 (H, W): px to the nearest ink

    @cached_property
    def centroids(self) -> np.ndarray:
        """(n, 2) float64 (x, y): the mean of each region's interior pixels (all of them when it has
        none). Computed once per frame: every hop to or from the frame asks for it."""
        sums = _centroid_sums if worth_compiling(self.labels.size) else _centroid_sums_numpy
        mass, sx, sy = sums(self.labels, self.interior, self.n)
        mass = np.maximum(mass, 1e-12)
        return np.stack([sx / mass, sy / mass], 1)


@kernel(nogil=True)
def _centroid_sums(labels, interior, n):  # pragma: no cover
    # Per region, in pixel order: the weight (1 inside, 1e-3 on ink) and the weighted x and y sums, as
    # ``np.bincount`` with those weights adds them.
    h, w = labels.shape
    mass = np.zeros(n, np.float64)
    sx = np.zeros(n, np.float64)
    sy = np.zeros(n, np.float64)
    for y in range(h):
        # A region's three sums stay in registers along its run of pixels: the same additions, in the same order.
        run_r = labels[y, 0] if w > 0 else 0
        m, a, b = mass[run_r], sx[run_r], sy[run_r]
        for x in range(w):
            r = labels[y, x]
            if r != run_r:
                mass[run_r], sx[run_r], sy[run_r] = m, a, b
                run_r = r
                m, a, b = mass[r], sx[r], sy[r]
            weight = 1.0 if interior[y, x] else 1e-3
            m += weight
            a += weight * np.float64(x)
            b += weight * np.float64(y)
        mass[run_r], sx[run_r], sy[run_r] = m, a, b
    return mass, sx, sy


def _centroid_sums_numpy(labels: np.ndarray, interior: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """``_centroid_sums`` as NumPy computes it, for frames too small to be worth compiling the kernel for."""
    h, w = labels.shape
    gy, gx = np.mgrid[0:h, 0:w]
    weight = np.where(interior, 1.0, 1e-3).ravel()
    lab = labels.ravel()
    return (np.bincount(lab, weights=weight, minlength=n), np.bincount(lab, weights=weight * gx.ravel(), minlength=n),
            np.bincount(lab, weights=weight * gy.ravel(), minlength=n))


@kernel(nogil=True)
def _flood_kernel(cost_image, markers):  # (H, W) uint8, int32 >= 0 -> (H, W) int32  # pragma: no cover
    # scipy.ndimage.watershed_ift(cost_image, markers), 4-connected, step for step: the image-foresting
    # transform with one bucket per path cost (a path costs its largest step between neighbouring
    # pixels' values), the buckets' lists kept as scipy keeps them (a pixel whose label improves goes to
    # the front of its new bucket; one left alone in its old bucket is not unlinked from it), and scipy's
    # neighbours: its bound test is on the flat index, so a pixel at the left or right edge has the last
    # or first pixel of the row above or below as a neighbour. Markers here are never negative (scipy's
    # background markers), so every insertion is at a bucket's front.
    # In int32 (a frame has fewer than 2**31 pixels, a cost at most 256) and without the buckets' last pixels,
    # which scipy keeps but only front insertions happen here: half the memory traffic, 18 -> 9 ms at 576 px.
    h, w = cost_image.shape
    n = h * w
    image = cost_image.ravel()
    out = markers.copy().ravel()
    top = 0
    for i in range(n):
        top = max(top, np.int32(image[i]))
    cost = np.empty(n, np.int32)
    after = np.full(n, -1, np.int32)    # the next pixel in its bucket
    before = np.full(n, -1, np.int32)   # the previous one (-1 at a bucket's front)
    done = np.zeros(n, np.bool_)
    first = np.full(top + 2, -1, np.int32)
    for i in range(n):  # the markers in bucket 0, each at the front (raster order reversed)
        if out[i] != 0:
            cost[i] = 0
            if first[0] != -1:
                after[i] = first[0]
                before[first[0]] = i
            first[0] = i
        else:
            cost[i] = top + 1
    for level in range(top + 1):
        while first[level] != -1:
            v = first[level]
            following = after[v]
            first[level] = following
            if following != -1:
                before[following] = -1
            after[v] = -1
            done[v] = True
            cost_v, value_v, label_v = cost[v], np.int32(image[v]), out[v]
            for k in range(4):  # above, left, right, below
                p = v - w if k == 0 else (v - 1 if k == 1 else (v + 1 if k == 2 else v + w))
                if p < 0 or p >= n or done[p]:
                    continue
                step = abs(np.int32(image[p]) - value_v)
                reach = max(cost_v, step)
                old = cost[p]
                if reach >= old:
                    continue
                cost[p] = reach
                out[p] = label_v
                prev, nxt = before[p], after[p]
                if nxt != -1 or prev != -1:  # out of its old bucket
                    if first[old] == p:
                        first[old] = nxt
                    if prev != -1:
                        after[prev] = nxt
                    if nxt != -1:
                        before[nxt] = prev
                front = first[reach]  # to the front of its new one
                after[p] = front
                before[p] = -1
                if front != -1:
                    before[front] = p
                first[reach] = p
    return out.reshape(h, w)


def flood(cost_image: np.ndarray, markers: np.ndarray) -> np.ndarray:
    """int32 (H, W): ``markers`` (int32 (H, W), > 0 seeds, 0 unlabelled) flooded over ``cost_image`` (uint8
    (H, W)) as ``scipy.ndimage.watershed_ift`` floods them, bit for bit; about a third of its time at the
    matching size (frames under ``KERNEL_MIN_PIXELS`` call scipy)."""
    check_array(cost_image, "cost_image", np.uint8, ("H", "W"), contiguous=True)
    check_array(markers, "markers", np.int32, cost_image.shape, contiguous=True)
    if not worth_compiling(cost_image.size):
        return ndimage.watershed_ift(cost_image, markers).astype(np.int32)
    if markers.size and markers.min() < 0:
        raise ValueError("markers must be >= 0 (background markers are not supported)")
    return _flood_kernel(cost_image, markers)


def segment(ink: np.ndarray, gap_radius: float = 1.5, min_area: int = 3) -> Segments:
    """Regions of one frame from its bool (H, W) ink mask (True = ink).

    ``gap_radius``: px; gaps narrower than about twice this are closed (0: plain components).
    ``min_area``: paper components smaller than this (px) get no seed and join a neighbour.
    """
    free = (~ink).astype(np.uint8)
    dist = cv2.distanceTransform(free, cv2.DIST_L2, 5)                  # (H, W) px to ink
    ncc, cc, stats, _ = cv2.connectedComponentsWithStats(free, connectivity=4)
    if gap_radius > 0:
        n_cores, markers = cv2.connectedComponents((dist > gap_radius).astype(np.uint8), connectivity=4)
    else:
        n_cores, markers = 1, np.zeros_like(cc, np.int32)
    # A paper component holding no core seeds itself (a thin strip), unless it is a speck under min_area.
    areas = np.ascontiguousarray(stats[:, cv2.CC_STAT_AREA])                 # (ncc,) int32
    seeds = _seed_markers if worth_compiling(ink.size) else _seed_markers_numpy
    markers = seeds(cc, markers, areas, n_cores, min_area)                  # (H, W) int32
    if markers.max() == 0:  # nothing but ink (or a blank page): one region
        labels = np.zeros(ink.shape, np.int32)
    else:
        # Flood cost: ink is a wall (crossed last), paper is cheaper the farther from ink.
        cost = np.where(free > 0, 200 - np.minimum(dist, 10.0) * 20, 255).astype(np.uint8)
        labels = flood(cost, markers)
    interior = free > 0
    compact = _compact_labels if worth_compiling(ink.size) else _compact_labels_numpy
    labels, area = compact(labels, interior)                               # ids 0..n-1, order kept; pixels each
    return Segments(labels, len(area), interior, area, dist)


def _seed_markers_numpy(cc: np.ndarray, markers: np.ndarray, areas: np.ndarray, n_cores: int, min_area: int
                        ) -> np.ndarray:
    """``_seed_markers`` as NumPy computes it, for frames too small to compile it for."""
    has_core = np.zeros(len(areas), bool)
    has_core[cc[markers > 0]] = True  # (a scatter: a third of the time of np.unique's sort)
    seedless = ~has_core & (areas >= min_area)                          # thin strips seed themselves
    seedless[0] = False
    ids = np.zeros(len(areas), np.int32)
    ids[seedless] = n_cores + np.arange(int(seedless.sum()), dtype=np.int32)
    extra = ids[cc]
    return np.where((markers == 0) & (extra > 0), extra, markers).astype(np.int32)


@kernel(nogil=True)
def _seed_markers(cc, markers, areas, n_cores, min_area):  # (H, W) int32 x2, (C,) int32, int x2 -> (H, W) int32
    # The NumPy form in two passes and no temporaries: which paper components hold a core, then each pixel's
    # marker, its core's or (a component without one, of min_area px or more) the component's own, numbered
    # after the cores in component order.
    h, w = cc.shape
    has_core = np.zeros(areas.shape[0], np.bool_)
    for y in range(h):
        for x in range(w):
            if markers[y, x] > 0:
                has_core[cc[y, x]] = True
    ids = np.zeros(areas.shape[0], np.int32)
    following = n_cores
    for c in range(1, areas.shape[0]):
        if not has_core[c] and areas[c] >= min_area:
            ids[c] = following
            following += 1
    out = np.empty((h, w), np.int32)
    for y in range(h):
        for x in range(w):
            m = markers[y, x]
            out[y, x] = m if m != 0 else ids[cc[y, x]]
    return out


def _compact_labels_numpy(labels: np.ndarray, interior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_compact_labels`` as NumPy computes it, for frames too small to compile it for."""
    present = np.bincount(labels.ravel()) > 0
    compact = (np.cumsum(present) - 1).astype(np.int32)
    labels = compact[labels]
    return labels, np.bincount(labels[interior], minlength=int(present.sum())).astype(np.int64)


@kernel(nogil=True)
def _compact_labels(labels, interior):  # (H, W) int32, bool -> (H, W) int32, (n,) int64
    # The labels that occur renumbered 0..n-1 in their order, and each one's interior pixels, in two passes.
    h, w = labels.shape
    top = 0
    for y in range(h):
        for x in range(w):
            top = max(top, labels[y, x])
    present = np.zeros(top + 1, np.bool_)
    for y in range(h):
        for x in range(w):
            present[labels[y, x]] = True
    compact = np.empty(top + 1, np.int32)
    n = 0
    for i in range(top + 1):
        if present[i]:
            n += 1
        compact[i] = n - 1
    out = np.empty((h, w), np.int32)
    area = np.zeros(n, np.int64)
    for y in range(h):  # each run of one region's interior pixels counted in a register, added when the run ends
        current, run = compact[labels[y, 0]], 0
        for x in range(w):
            c = compact[labels[y, x]]
            out[y, x] = c
            if c != current:
                area[current] += run
                current, run = c, 0
            if interior[y, x]:
                run += 1
        area[current] += run
    return out, area
