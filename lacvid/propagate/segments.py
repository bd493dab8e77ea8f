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
        for x in range(w):
            r = labels[y, x]
            weight = 1.0 if interior[y, x] else 1e-3
            mass[r] += weight
            sx[r] += weight * np.float64(x)
            sy[r] += weight * np.float64(y)
    return mass, sx, sy


def _centroid_sums_numpy(labels: np.ndarray, interior: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """``_centroid_sums`` as NumPy computes it, for frames too small to be worth compiling the kernel for."""
    h, w = labels.shape
    gy, gx = np.mgrid[0:h, 0:w]
    weight = np.where(interior, 1.0, 1e-3).ravel()
    lab = labels.ravel()
    return (np.bincount(lab, weights=weight, minlength=n), np.bincount(lab, weights=weight * gx.ravel(), minlength=n),
            np.bincount(lab, weights=weight * gy.ravel(), minlength=n))


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
        has_core = np.zeros(ncc, bool)
        has_core[cc[markers > 0]] = True  # (a scatter: a third of the time of np.unique's sort)
    else:
        n_cores, markers = 1, np.zeros_like(cc, np.int32)
        has_core = np.zeros(ncc, bool)
    seedless = ~has_core & (stats[:, cv2.CC_STAT_AREA] >= min_area)     # thin strips seed themselves
    seedless[0] = False
    ids = np.zeros(ncc, np.int32)
    ids[seedless] = n_cores + np.arange(int(seedless.sum()), dtype=np.int32)
    extra = ids[cc]
    markers = np.where((markers == 0) & (extra > 0), extra, markers).astype(np.int32)
    if markers.max() == 0:  # nothing but ink (or a blank page): one region
        labels = np.zeros(ink.shape, np.int32)
    else:
        # Flood cost: ink is a wall (crossed last), paper is cheaper the farther from ink.
        cost = np.where(free > 0, 200 - np.minimum(dist, 10.0) * 20, 255).astype(np.uint8)
        labels = ndimage.watershed_ift(cost, markers).astype(np.int32)
    present = np.bincount(labels.ravel()) > 0                           # compact ids 0..n-1, order kept
    compact = (np.cumsum(present) - 1).astype(np.int32)
    labels = compact[labels]
    n = int(present.sum())
    interior = free > 0
    area = np.bincount(labels[interior], minlength=n).astype(np.int64)
    return Segments(labels, n, interior, area, dist)
