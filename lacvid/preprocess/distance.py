"""Distance fields: how far every pixel is from the nearest line, in pixels and normalised.

The networks match target and reference frames through these fields, so training and
inference must normalise them identically: ``normalized_distance`` is the only place that
does, and nothing else should rescale a distance field.

Normalisation (shared contract)::

    d  = exact Euclidean distance in pixels to the nearest ink pixel (lines < 128)
    nd = 1 - exp(-d / scale)          scale = DEFAULT_SCALE = 8 px, float32 in [0, 1)

``scale`` is in pixels of the image you pass, which should be the network's working size
(e.g. 256 px short side): resize the line art first, then compute the field. 0 on ink,
0.63 at 8 px, 0.95 at 24 px; unlike ``min(d / scale, 1)`` it never saturates, so large flat
regions keep a gradient towards their centre. An image without ink is 1 everywhere ("infinitely
far from any line"), never inf or NaN.
"""

from __future__ import annotations

import cv2
import numpy as np

from lacvid.preprocess.lines import INK_THRESHOLD, line_mask
from lacvid.util.kernels import gather_by_label

DEFAULT_SCALE = 8.0
"""Pixels (at the working size) at which the normalised distance reaches 1 - 1/e."""


def distance_transform(mask: np.ndarray) -> np.ndarray:
    """Exact Euclidean distance float32 ``(H, W)`` from every pixel to the nearest True pixel.

    ``mask`` is a bool (or uint8, non-zero = ink) ``(H, W)`` line mask. OpenCV's precise
    transform (exact, ~10x faster than scipy's EDT). With no ink at all every pixel gets the
    image diagonal ``hypot(H, W)``: farther than any ink could be, and finite.
    """
    if not isinstance(mask, np.ndarray) or mask.ndim != 2 or mask.dtype not in (np.bool_, np.uint8):
        raise ValueError(f"mask must be a bool or uint8 (H, W) array, got {getattr(mask, 'dtype', type(mask))} "
                         f"{getattr(mask, 'shape', '')}")
    h, w = mask.shape
    paper = (mask == 0).view(np.uint8)  # (H, W) 1 on paper, 0 on ink: cv2 measures to the zeros
    if paper.all():
        return np.full((h, w), np.hypot(h, w), np.float32)
    return cv2.distanceTransform(paper, cv2.DIST_L2, cv2.DIST_MASK_PRECISE, dstType=cv2.CV_32F)


def normalize(dist: np.ndarray, scale: float = DEFAULT_SCALE) -> np.ndarray:
    """``1 - exp(-dist / scale)`` as float32 ``(H, W)`` in [0, 1]: the shared normalisation."""
    if scale <= 0:
        raise ValueError(f"scale must be > 0 pixels, got {scale}")
    e = cv2.exp(dist.astype(np.float32, copy=False) * np.float32(-1.0 / scale))
    return np.subtract(np.float32(1.0), e, dtype=np.float32)


def normalized_distance(lines: np.ndarray, scale: float = DEFAULT_SCALE,
                        threshold: int = INK_THRESHOLD) -> np.ndarray:
    """Normalised distance field float32 ``(H, W)`` in [0, 1] of line art uint8 ``(H, W)``.

    0 on ink, rising towards 1 with distance; ``scale`` in pixels of ``lines`` (pass line
    art already resized to the network's working size). 1 everywhere when there is no ink.
    """
    mask = line_mask(lines, threshold)
    if not mask.any():
        return np.ones(lines.shape, np.float32)
    return normalize(distance_transform(mask), scale)


def nearest_values(values: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """``values`` ((H, W) or (H, W, C), any dtype) copied to every pixel from its nearest True pixel of ``sources``
    (bool (H, W), at least one True): sources keep their own value.

    OpenCV's labelled distance transform (5x5 mask, near-Euclidean) gives every pixel the label of
    its nearest source, one label per source pixel; a table from label to value then takes one
    gather. About 1/6 of the time of scipy's exact feature transform at 1080p; the two can differ
    only between sources at almost equal distances.
    """
    return gather_by_label(nearest_source(sources), np.ascontiguousarray(sources), values)  # (H, W) or (H, W, C)


def nearest_source(sources: np.ndarray) -> np.ndarray:
    """int32 (H, W): the id of every pixel's nearest True pixel of ``sources`` (bool (H, W)), each source pixel
    its own id (OpenCV's labelled distance transform, as ``nearest_values`` measures)."""
    _, label = cv2.distanceTransformWithLabels((~sources).view(np.uint8), cv2.DIST_L2, 5,
                                               labelType=cv2.DIST_LABEL_PIXEL)  # (H, W) int32
    return label
