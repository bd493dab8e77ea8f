"""Fusing the network's colour with the keys warped onto the target: lacvid beyond the paper.

The paper's networks alone fall short of a strong baseline, warping the nearest key by
optical flow, on flat cel images (see ``benchmarks/quality.py``). Two cheap steps close
that gap without retraining:

1. every reference key is warped onto the target's drawing by flow between distance fields,
   with a per-pixel confidence (how well the warped key's strokes land on the target's);
2. the candidates, the network's colour and the warped keys, are combined:
   - per region (``--flat``): each line-enclosed region of the target takes the palette
     colour its candidates' pixels vote for, nearer and better-matching keys counting more;
   - per pixel (``--no-flat``): where a warped key matches confidently its colour is taken,
     elsewhere (entering characters, disocclusions) the network's.

Everything here works on uint8 RGB frames and line art, and never imports torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from lacvid.compose.composite import multiply_lines
from lacvid.compose.flat import region_winners, snap_indices
from lacvid.compose.regions import fill_ink_labels, label_regions, paint_regions, region_sums
from lacvid.propagate.flow import warp_key_with_confidence


@dataclass(frozen=True)
class FusionSettings:
    network_weight: float = 0.25    # a network pixel's vote, against 1.0 for a fully confident warped key
    min_confidence: float = 0.1     # per-pixel fusion takes a warped key only above this confidence
    close_gaps: int = 2             # px at full resolution, as ``label_regions``
    min_area: int = 8


@dataclass
class Candidate:
    """One colour guess for the target at working size, and how far to trust each pixel."""

    color: np.ndarray   # uint8 (h, w, 3)
    weight: np.ndarray   # float32 (h, w), >= 0


def time_weights(index: int, key_indices: Sequence[int]) -> list[float]:
    """Nearer keys count more: weights proportional to 1 / (1 + frames apart), summing to 1."""
    raw = [1.0 / (1.0 + abs(index - k)) for k in key_indices]
    total = sum(raw)
    return [r / total for r in raw]


def warped_key_candidates(target_lines: np.ndarray, keys: Mapping[int, np.ndarray],
                          key_lines: Mapping[int, np.ndarray], index: int) -> list[Candidate]:
    """Each key (uint8 (h, w, 3) at working size) warped onto ``target_lines`` (h, w)."""
    order = sorted(keys)
    weights = time_weights(index, order)
    out = []
    for k, w in zip(order, weights):
        warped, confidence = warp_key_with_confidence(target_lines, keys[k], key_lines[k])  # (h,w,3), (h,w)
        out.append(Candidate(warped, (confidence * (w * len(order))).astype(np.float32)))
    return out


def fuse_pixels(network: np.ndarray, warped: Sequence[Candidate], settings: FusionSettings = FusionSettings()
                ) -> np.ndarray:
    """Per pixel: the most trusted warped key where it is confident enough, else the network."""
    if not warped:
        return network
    weights = np.stack([c.weight for c in warped])                       # (N, h, w)
    best = weights.argmax(0)                                             # (h, w)
    colors = np.stack([c.color for c in warped])                       # (N, h, w, 3)
    chosen = np.take_along_axis(colors, best[None, ..., None], 0)[0]    # (h, w, 3)
    confident = np.take_along_axis(weights, best[None], 0)[0] >= settings.min_confidence
    out = network.copy()
    out[confident] = chosen[confident]
    return out


def _upsample(image: np.ndarray, size: tuple[int, int], interpolation: int) -> np.ndarray:
    H, W = size
    return image if image.shape[:2] == (H, W) else cv2.resize(image, (W, H), interpolation=interpolation)


def fuse_regions(lines_full: np.ndarray, network: np.ndarray, warped: Sequence[Candidate], palette: np.ndarray,
                 settings: FusionSettings = FusionSettings(), labels: tuple[np.ndarray, int] | None = None,
                 with_ink: bool = True, full: np.ndarray | None = None) -> np.ndarray:
    """The finished flat frame (H, W, 3): every region of the original line art filled with the
    palette colour its candidates vote for, the original ink multiplied on top (``with_ink``;
    without it the paint alone, ink pixels painted as their region: the paint layer under
    ``lacvid.compose.layers``' ink layer).

    Each candidate is snapped to the palette at its own size, then its palette indices are
    sampled by nearest neighbour at full size (the same as snapping the upsampled colours, at a
    fraction of the pixels), so a vote is always for a colour a candidate really holds, never a
    blend of two fills along their border. ``full``: ``fill_ink_labels(labels[0])`` when the
    caller has it already (the frame's doubt needs it too).
    """
    size = lines_full.shape
    indices = [snap_indices(network, palette)]                          # (h, w) int32 each, sampled at (H, W)
    # The network speaks where no warped key is confident (what the keys do not show: an
    # entering character, a disocclusion); where a key matches, its exact colours decide.
    best = np.max([np.clip(c.weight, 0, 1) for c in warped], axis=0) if warped else 0.0   # (h, w)
    network_weight = np.float32(settings.network_weight) * (1.0 - best)
    weights = [_upsample(np.asarray(network_weight, np.float32), size, cv2.INTER_LINEAR)
               if warped else np.float32(settings.network_weight)]
    for c in warped:
        indices.append(snap_indices(c.color, palette))
        weights.append(_upsample(c.weight, size, cv2.INTER_LINEAR))    # (H, W) float32: bilinear, as cv2 makes it
    if labels is None:
        labels = label_regions(lines_full, close_gaps=settings.close_gaps, min_area=settings.min_area)
    winner = region_winners(labels, indices, weights, len(palette))   # (n + 1,)
    if full is None:
        full = fill_ink_labels(labels[0])                              # (H, W): ink as its nearest region
    fill = paint_regions(palette[winner], full)                       # (H, W, 3)
    return multiply_lines(fill, lines_full) if with_ink else fill


def paint_confident_regions(fill: np.ndarray, labels: tuple[np.ndarray, int], propagated: np.ndarray,
                            confidence: np.ndarray, palette: np.ndarray, flat_colors: np.ndarray,
                            min_confidence: float = 1 / 255, full: np.ndarray | None = None) -> np.ndarray:
    """``fill`` (H, W, 3) with every region whose propagated colour is confident painted that colour.

    For drawings whose keys are not all flat paint (grey tones over a gradient background): the
    per-pixel fill keeps the keys' gradients, but breaks a flat area the drawing moved into
    blotches of whatever each warped pixel met. The propagation votes per region over the keys'
    colours; a region takes its winner whole when that colour stands only for regions the keys paint
    flat (``flat_colors`` bool (P,), ``propagate.palette.flat_colors``) and the propagation heard
    any evidence for it (mean confidence >= ``min_confidence``, the smallest level the cache
    stores): however weak, one key colour over the whole region is never the blotches of a
    per-pixel paste, and its median is what a painter's fill would give. Regions whose keys' paint
    is a gradient, and those no chain reached, keep their per-pixel paint.

    ``propagated`` uint8 (h, w, 3) palette colours and ``confidence`` float32 (h, w) in [0, 1] at
    the propagation's size; ``labels``: ``label_regions`` of the frame's line art at ``fill``'s size;
    ``full``: ``fill_ink_labels(labels[0])`` when the caller has it already.
    """
    lab_map, n = labels
    index = snap_indices(propagated, palette)                                               # (h, w) int32
    conf = np.ascontiguousarray(confidence, np.float32)                                     # (h, w), sampled at (H, W)
    winner = region_winners(labels, [index], [conf], len(palette))                          # (n + 1,)
    total, count = region_sums(lab_map, n, conf)                                            # (n + 1,) twice
    mean = total / np.maximum(count, 1)                                                     # (n + 1,)
    flat = (mean >= min_confidence) & flat_colors[winner]
    flat[0] = False
    if full is None:
        full = fill_ink_labels(lab_map)                                                     # (H, W): ink as its region
    chosen = paint_regions(flat, full)                                                      # (H, W) bool
    out = fill.copy()
    out[chosen] = paint_regions(palette[winner], full)[chosen]
    return out
