"""Dense correspondence between two line-art frames, and key colors warped along it.

Line art is mostly empty paper, on which optical flow has nothing to lock onto; the distance
field turns every stroke into a smooth valley, so flow computed between the *distance fields*
of two drawings sees structure everywhere (OpenCV Farneback).

Farneback parameters (``FLOW_PARAMS``), chosen for cel animation where characters move
tens of pixels between keys: a 5-level pyramid at scale 0.5 reaches motions of about
``winsize * 2**levels`` px; a 25 px window averages over whole strokes (a distance field
has no texture finer than the line spacing); 7-px polynomial neighbourhoods with sigma
1.5 suit the smooth field; Gaussian window weighting for less blocky flow.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from lacvid.preprocess.distance import normalized_distance

__all__ = ["FLOW_PARAMS", "distance_flow", "warp", "warp_key", "key_flow_with_confidence", "upsample_flow",
           "distance_image", "dis_flow", "global_shift", "estimate_flow", "compose_flows"]

FLOW_PARAMS: dict[str, float | int] = {
    "pyr_scale": 0.5,
    "levels": 5,
    "winsize": 25,
    "iterations": 5,
    "poly_n": 7,
    "poly_sigma": 1.5,
    "flags": cv2.OPTFLOW_FARNEBACK_GAUSSIAN,
}


def _field_u8(lines: np.ndarray, scale: float) -> np.ndarray:
    return np.rint(normalized_distance(lines, scale=scale) * 255).astype(np.uint8)  # (H, W)


def distance_flow(target_lines: np.ndarray, key_lines: np.ndarray, *, scale: float | None = None) -> np.ndarray:
    """Dense flow float32 (H, W, 2) (dx, dy) with target(y, x) ~ key(y + dy, x + dx).

    Computed between the normalised distance fields of the two line-art frames. ``scale``:
    the distance normalisation in px (default: 8 px per 256 px of the short side, so the
    field looks the same at every resolution).
    """
    if target_lines.shape != key_lines.shape:
        raise ValueError(f"target and key line art differ in size: {target_lines.shape} vs {key_lines.shape}")
    if scale is None:
        scale = 8.0 * min(target_lines.shape) / 256.0
    a = _field_u8(target_lines, scale)
    b = _field_u8(key_lines, scale)
    return cv2.calcOpticalFlowFarneback(a, b, None, **FLOW_PARAMS)  # (H, W, 2)


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Sample ``image`` (H, W, C) at ``(x + dx, y + dy)``: the key seen from the target."""
    gx, gy = _pixel_grid(*flow.shape[:2])                                 # (H, W) float32 each
    return cv2.remap(image, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


@functools.lru_cache(maxsize=8)
def _pixel_grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pixel's x and y, float32 (H, W) each, read-only: made once per size (a propagation warps
    several times a hop at one size)."""
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    gx.flags.writeable = gy.flags.writeable = False
    return gx, gy


def warp_key(target_lines: np.ndarray, key_color: np.ndarray, key_lines: np.ndarray) -> np.ndarray:
    """The key's colour uint8 (H, W, 3) warped onto the target's drawing (no lines composed)."""
    if key_color.shape[:2] != target_lines.shape:
        raise ValueError(f"key colour {key_color.shape[:2]} and target line art {target_lines.shape} differ in size")
    return warp(key_color, distance_flow(target_lines, key_lines))


def key_flow_with_confidence(target_lines: np.ndarray, key_lines: np.ndarray, *, sigma: float = 0.05
                             ) -> tuple[np.ndarray, np.ndarray]:
    """Flow float32 (H, W, 2) from the target's drawing to the key's (``distance_flow``) and how far to
    trust it.

    Confidence float32 (H, W) in (0, 1]: ``exp(-|D_target - warp(D_key)| / sigma)``, the match
    of the two normalised distance fields after warping, blurred over a few pixels. Where the
    flow found the target's strokes in the key it is near 1; where the key does not hold what
    the target shows (a character entering, a disocclusion) the fields disagree and it drops,
    so a later or earlier key can outvote this one there. Far from every stroke both fields are
    flat and agree whatever the key shows: there it says little.
    """
    if target_lines.shape != key_lines.shape:
        raise ValueError(f"target and key line art differ in size: {target_lines.shape} vs {key_lines.shape}")
    scale = 8.0 * min(target_lines.shape) / 256.0
    dt = normalized_distance(target_lines, scale=scale)  # (H, W) float32
    dk = normalized_distance(key_lines, scale=scale)
    flow = cv2.calcOpticalFlowFarneback(
        np.rint(dt * 255).astype(np.uint8), np.rint(dk * 255).astype(np.uint8), None, **FLOW_PARAMS
    )  # (H, W, 2)
    err = np.abs(dt - warp(dk, flow))  # (H, W)
    k = max(3, int(round(min(target_lines.shape) / 64)) | 1)
    err = cv2.GaussianBlur(err, (k, k), 0)
    return flow, np.exp(-err / sigma).astype(np.float32)


def compose_flows(first: np.ndarray, then: np.ndarray) -> np.ndarray:
    """Flow float32 (H, W, 2) from frame A to frame C, given ``first`` from A to B and ``then`` from B to C
    (each as ``warp`` reads them: A(p) ~ B(p + first(p))): ``first(p) + then(p + first(p))``, ``then``
    sampled bilinearly where ``first`` lands (clamped at the frame's edge)."""
    if first.shape != then.shape:
        raise ValueError(f"flows to compose differ in size: {first.shape} vs {then.shape}")
    return first + warp(then, first)                                       # (H, W, 2)


def upsample_flow(flow: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A flow float32 (h, w, 2) found at a working size, for an image of ``size`` (H, W): resized and its
    displacements scaled (in pixels of the larger image)."""
    h, w = flow.shape[:2]
    H, W = size
    if (h, w) == (H, W):
        return flow
    up = cv2.resize(flow, (W, H), interpolation=cv2.INTER_LINEAR)  # (H, W, 2)
    return up * np.array([W / w, H / h], np.float32)


# ----------------------------------------------------------------------------- DIS flow with a pan prior


def distance_image(dist: np.ndarray, saturate_px: float = 8.0) -> np.ndarray:
    """uint8 (H, W) distance-to-ink field saturating at ``saturate_px`` per 256 px of the short
    side: bare paper has no texture for flow to lock onto, a distance field does everywhere."""
    s = saturate_px * min(dist.shape) / 256.0
    return np.rint(np.clip(dist / s, 0, 1) * 255).astype(np.uint8)


def dis_flow(target: np.ndarray, source: np.ndarray, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> np.ndarray:
    """Dense flow float32 (H, W, 2) with target(p) ~ source(p + flow(p)), by OpenCV's DIS (several
    times faster than Farneback and, on line-art distance fields, 1-3 dB better as a warp)."""
    return cv2.DISOpticalFlow_create(preset).calc(target, source, None)


def global_shift(target: np.ndarray, source: np.ndarray) -> np.ndarray:
    """The dominant translation (dx, dy) with target(p) ~ source(p + d), by phase correlation of
    the inverted, blurred fields (the ink, not the paper, carries the signal)."""
    a = cv2.GaussianBlur(255.0 - target.astype(np.float32), (0, 0), 2.0)
    b = cv2.GaussianBlur(255.0 - source.astype(np.float32), (0, 0), 2.0)
    window = cv2.createHanningWindow(a.shape[::-1], cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(a, b, window)
    return np.array([dx, dy], np.float32)


EXPLAINED = 0.08  # DIS from no shift that leaves less of the fields' difference than this needs no second start


def estimate_flow(target: np.ndarray, source: np.ndarray, pan_prior: bool = True) -> np.ndarray:
    """DIS flow between two distance fields (uint8), started from a global translation when that fits better.

    A camera pan or a whole-body jump of 20-40 px between drawings is beyond what DIS recovers
    on a field that is flat away from the strokes: phase correlation finds the dominant shift
    (its sign is ambiguous on fields this regular: the shift alone decides, cheaply, which sign
    fits), DIS refines it per pixel, and the warp error picks the better of DIS from no shift
    and DIS from the shift. The second start is only tried where DIS from no shift left at least
    ``EXPLAINED`` of the fields' raw difference: below that it already found the motion (on the
    quality benchmark's sets the second start won there by at most 0.12 grey levels of warp error, and
    skipping it changed no score), and a DIS flow is most of a hop's time.
    """
    best = dis_flow(target, source)
    if not pan_prior:
        return best
    t = target.astype(np.float32)
    err = float(np.abs(t - warp(source, best).astype(np.float32)).mean())
    if err < EXPLAINED * float(np.abs(t - source.astype(np.float32)).mean()):
        return best
    shift = global_shift(target, source)  # only where it may help: the phase correlation costs about a seventh of a DIS
    if np.hypot(*shift) < 2.0:
        return best
    shifted = {}
    for g in (shift, -shift):
        m = np.float32([[1, 0, g[0]], [0, 1, g[1]]])
        moved = cv2.warpAffine(source, m, source.shape[::-1], flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REPLICATE)  # moved(p) = source(p + g)
        shifted[float(np.abs(t - moved.astype(np.float32)).mean())] = (g, moved)
    g, moved = shifted[min(shifted)]
    flow = dis_flow(target, moved)
    flow[..., 0] += g[0]
    flow[..., 1] += g[1]
    e = float(np.abs(t - warp(source, flow).astype(np.float32)).mean())
    return flow if e < err else best
