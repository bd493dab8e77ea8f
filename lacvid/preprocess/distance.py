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
from lacvid.util.checks import check_array
from lacvid.util.kernels import gather_by_label, kernel, worth_compiling

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
    only between sources at almost equal distances. At 1080p and up an int32 (H, W) ``values`` is carried by
    the transform itself (``_nearest_source_kernel``), the same bits without the table.
    """
    if values.dtype == np.int32 and values.ndim == 2 and worth_compiling(sources.size):
        check_array(sources, "sources", np.bool_, values.shape)
        return _nearest_source_kernel(np.ascontiguousarray(sources), np.ascontiguousarray(values), _CARRY_VALUE)
    return gather_by_label(nearest_source(sources), np.ascontiguousarray(sources), values)  # (H, W) or (H, W, C)


def nearest_source(sources: np.ndarray) -> np.ndarray:
    """int32 (H, W): the id of every pixel's nearest True pixel of ``sources`` (bool (H, W)), each source pixel
    its own id, 1, 2, ... in raster order (OpenCV's labelled distance transform, as ``nearest_values`` measures).

    At 1080p and up, the same transform as a kernel that spends its work on the pixels that are not sources
    (``_nearest_source_kernel``): every caller's sources cover nearly the whole frame (paper, regions) and
    the rest is thin strokes, so it takes a few ms where OpenCV's full-frame passes took 20-30."""
    check_array(sources, "sources", np.bool_, ("H", "W"))
    if worth_compiling(sources.size):
        return _nearest_source_kernel(np.ascontiguousarray(sources), _NO_VALUES, _CARRY_RANK)
    _, label = cv2.distanceTransformWithLabels((~sources).view(np.uint8), cv2.DIST_L2, 5,
                                               labelType=cv2.DIST_LABEL_PIXEL)  # (H, W) int32
    return label


def nearest_source_index(sources: np.ndarray) -> np.ndarray:
    """int32 (H, W): where every pixel's nearest True pixel of ``sources`` (bool (H, W), at least one True) lies,
    as its flat index ``y * W + x`` (the source ``nearest_source`` names)."""
    check_array(sources, "sources", np.bool_, ("H", "W"))
    if worth_compiling(sources.size):
        return _nearest_source_kernel(np.ascontiguousarray(sources), _NO_VALUES, _CARRY_INDEX)
    where = np.flatnonzero(sources).astype(np.int32)                        # (S,) the sources in raster order
    return where[nearest_source(sources) - 1]                               # (H, W): rank k is where[k - 1]


# OpenCV's 5x5 chamfer steps for DIST_L2 (1, 1.4, 2.1969 px) in its 16-bit fixed point, and its "far" start.
_AXIAL, _DIAGONAL, _KNIGHT = 65536, 91750, 143976
_FAR = (2**31 - 1) >> 2
# What ``_nearest_source_kernel`` gives each pixel of its nearest source: OpenCV's label (its rank among the
# sources in raster order), a value of the source's own (``values``), or where it lies (its flat index).
_CARRY_RANK, _CARRY_VALUE, _CARRY_INDEX = 0, 1, 2
_NO_VALUES = np.zeros((1, 1), np.int32)


@kernel(nogil=True)
def _nearest_source_kernel(sources, values, carry):  # bool, int32 (H, W), int -> int32 (H, W)  # pragma: no cover
    # ``cv2.distanceTransformWithLabels(~sources, DIST_L2, 5, labelType=DIST_LABEL_PIXEL)``'s labels, step for
    # step: the sources numbered in raster order, a forward and a backward raster pass in which a pixel takes
    # a neighbour's distance plus its chamfer step, and that neighbour's label, where strictly nearer, the
    # eight neighbours of each pass in OpenCV's order; the backward pass leaves pixels within one axial step.
    # A source keeps its own label and distance 0, so only the other pixels do any work. The forward pass
    # numbers the sources as it meets them: every neighbour it reads comes earlier in raster order. ``carry``
    # says what a source hands on instead of its number (``_CARRY_*``): the same source, so the same bits as
    # looking its number up.
    h, w = sources.shape
    label = np.empty((h, w), np.int32)
    dist = np.empty((h + 4, w + 4), np.int32)  # two pixels of far border all round; inside, written before read
    for y in range(h + 4):
        for x in (0, 1, w + 2, w + 3):
            dist[y, x] = _FAR
    for x in range(w + 4):
        for y in (0, 1, h + 2, h + 3):
            dist[y, x] = _FAR
    forward_dy = (-2, -2, -1, -1, -1, -1, -1, 0)
    forward_dx = (-1, 1, -2, -1, 0, 1, 2, -1)
    backward_dy = (2, 2, 1, 1, 1, 1, 1, 0)
    backward_dx = (1, -1, 2, 1, 0, -1, -2, 1)
    step = (_KNIGHT, _KNIGHT, _KNIGHT, _DIAGONAL, _AXIAL, _DIAGONAL, _KNIGHT, _AXIAL)
    k = 0
    for y in range(h):
        for x in range(w):
            if sources[y, x]:
                k += 1
                if carry == 0:
                    label[y, x] = k
                elif carry == 1:
                    label[y, x] = values[y, x]
                else:
                    label[y, x] = y * w + x
                dist[y + 2, x + 2] = 0
                continue
            best = _FAR
            near = 0
            for n in range(8):
                t = dist[y + 2 + forward_dy[n], x + 2 + forward_dx[n]] + step[n]
                if t < best:  # (a neighbour outside the frame is far: never taken)
                    best = t
                    near = label[y + forward_dy[n], x + forward_dx[n]]
            dist[y + 2, x + 2] = best
            label[y, x] = near
    for y in range(h - 1, -1, -1):
        for x in range(w - 1, -1, -1):
            if sources[y, x]:  # distance 0: read from the bool frame, not the int32 distances (a quarter the bytes)
                continue
            best = dist[y + 2, x + 2]
            if best <= _AXIAL:
                continue
            near = label[y, x]
            for n in range(8):
                t = dist[y + 2 + backward_dy[n], x + 2 + backward_dx[n]] + step[n]
                if t < best:
                    best = t
                    near = label[y + backward_dy[n], x + backward_dx[n]]
            dist[y + 2, x + 2] = best
            label[y, x] = near
    return label
