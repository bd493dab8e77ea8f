"""Scores of a colored frame against the truth: PSNR, SSIM and the flat-color share.

Used by ``benchmarks/quality.py`` and the tests; definitions follow the references cited per
function, so figures are comparable with published ones.
"""

from __future__ import annotations

import cv2
import numpy as np

from lacvid.preprocess.lines import line_mask
from lacvid.util.arrays import label_runs

__all__ = ["FLAT_TOLERANCE", "psnr", "ssim", "flat_share", "region_counts", "temporal_difference"]

FLAT_TOLERANCE = 24  # levels per channel for the flat-colour share


def psnr(pred: np.ndarray, truth: np.ndarray) -> float:
    """PSNR in dB over all pixels and channels of two uint8 images (inf when identical)."""
    mse = np.mean((pred.astype(np.float64) - truth.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10.0 * np.log10(255.0**2 / mse))


def ssim(pred: np.ndarray, truth: np.ndarray) -> float:
    """SSIM of two uint8 images (H, W) or (H, W, C): the mean over channels.

    Wang et al. 2004: Gaussian window 11x11, sigma 1.5, K1 = 0.01, K2 = 0.03, L = 255,
    averaged over window positions that lie fully inside the image ('valid').
    """
    if pred.shape != truth.shape:
        raise ValueError(f"images differ in shape: {pred.shape} vs {truth.shape}")
    a = pred.astype(np.float64)
    b = truth.astype(np.float64)
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    r = 5  # an 11x11 window reaches 5 px each side: crop those to keep 'valid' positions only

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(x, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)[r:-r, r:-r]

    scores = []
    for c in range(a.shape[2]):
        x, y = np.ascontiguousarray(a[..., c]), np.ascontiguousarray(b[..., c])
        mx, my = blur(x), blur(y)
        sxx = blur(x * x) - mx * mx
        syy = blur(y * y) - my * my
        sxy = blur(x * y) - mx * my
        s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
        scores.append(s.mean())
    return float(np.mean(scores))


def temporal_difference(pred: np.ndarray, pred_next: np.ndarray, truth: np.ndarray, truth_next: np.ndarray) -> float:
    """Flicker of one pair of consecutive frames (``tdiff``, lower is better): the mean absolute
    difference, over pixels and channels, between the output's change from one frame to the next
    and the truth's change. Still truth with a still output scores 0; an output that flickers
    where the truth holds still, or holds still where the truth moves, scores above it."""
    change = pred_next.astype(np.int16) - pred.astype(np.int16)          # (H, W, C)
    true_change = truth_next.astype(np.int16) - truth.astype(np.int16)
    return float(np.abs(change - true_change).mean())


def flat_share(pred: np.ndarray, truth: np.ndarray, lines: np.ndarray, paper_at: int | None = None) -> float:
    """Share of non-line pixels whose colour is within 24 levels of the truth on every channel.

    Non-line: ``lines`` (grey) not ink by ``line_mask``, or at or above ``paper_at`` when given
    (220 for hand-drawn pencil, whose faint strokes lie above the usual ink threshold).
    """
    paper = ~line_mask(lines) if paper_at is None else lines >= paper_at
    if not paper.any():
        return 1.0
    ok = (np.abs(pred.astype(np.int16) - truth.astype(np.int16)) <= FLAT_TOLERANCE).all(-1)
    return float(ok[paper].mean())


REGION_PAPER = 220   # line-art grey at or above this is paper, for region accuracy
REGION_MIN_AREA = 10


def region_counts(pred: np.ndarray, truth: np.ndarray, lines: np.ndarray) -> tuple[int, int]:
    """(correct, scored) regions of one frame: the paint-bucket metric of BasicPBC (CVPR 2024).

    Regions are the 4-connected components of ``lines`` (grey (H, W) or RGB) at or above grey
    220, of at least 10 px; one is correct when its median predicted colour lies within 24 levels
    of its median true colour on every channel. Pool the counts over frames for the accuracy.
    """
    grey = lines if lines.ndim == 2 else cv2.cvtColor(lines, cv2.COLOR_RGB2GRAY)
    paper = (grey >= REGION_PAPER).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(paper, connectivity=4)
    scored = [r for r in range(1, n) if stats[r, cv2.CC_STAT_AREA] >= REGION_MIN_AREA]
    order, bounds = label_runs(labels.ravel(), n)
    p, t = pred.reshape(-1, 3)[order], truth.reshape(-1, 3)[order]
    correct = 0
    for r in scored:
        a, b = bounds[r], bounds[r + 1]
        correct += int(np.all(np.abs(np.median(p[a:b], 0) - np.median(t[a:b], 0)) <= FLAT_TOLERANCE))
    return correct, len(scored)
