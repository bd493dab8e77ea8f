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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from lacvid.compose.composite import multiply_lines, refill_from_nearest
from lacvid.compose.flat import region_votes, region_winners, snap_indices, summed_votes, vote_trust
from lacvid.compose.regions import fill_ink_labels, label_regions, paint_regions, region_sums
from lacvid.propagate.flow import key_flow_with_confidence, upsample_flow, warp
from lacvid.propagate.palette import FLAT_SPREAD, MERGE
from lacvid.util.arrays import label_runs

# The short side (px) of the drawings the full-size gap closing was set on (the generated shots and the
# shared hand-drawn clips, 256-259 px): ``FusionSettings.at_size`` scales it for larger frames.
GAP_REFERENCE = 256


@dataclass(frozen=True)
class FusionSettings:
    network_weight: float = 0.25    # a network pixel's vote, against 1.0 for a fully confident warped key
    min_confidence: float = 0.1     # per-pixel fusion takes a warped key only above this confidence
    close_gaps: int = 2             # px at full resolution, as ``label_regions`` (``at_size``: at GAP_REFERENCE)
    min_area: int = 8

    def at_size(self, shape: tuple[int, ...]) -> FusionSettings:
        """These settings for frames of ``shape`` (H, W, ...): the gaps bridged grow with the drawing.

        A gap an artist leaves in an outline is a share of the drawing, so in pixels it grows with the
        export's size: the same drawing exported at 2.5 times the size of the shared clips (cubic, as
        software scales) left clip13's regions leaking at 2 px, 31.7 dB against 33.8 at its own size;
        scaled, 32.5 (``benchmarks/quality.py --sets handdrawn-large``). The matching (at most
        ``pipeline.propagation.MATCH_SIZE``) already sees every drawing at about one size; the regions
        painted at full size did not. Frames no larger than the reference keep ``close_gaps`` as is.
        Apply once, to settings made for the reference size (a second call would scale again)."""
        scale = max(1.0, min(shape[:2]) / GAP_REFERENCE)
        return replace(self, close_gaps=int(round(self.close_gaps * scale)))

    def regions(self, lines_full: np.ndarray) -> tuple[np.ndarray, int]:
        """``label_regions`` of a full-size drawing (uint8 (H, W)) with the gaps bridged at its size
        (``at_size``): how a frame's and its keys' regions are both made, so they compare."""
        sized = self.at_size(lines_full.shape)
        return label_regions(lines_full, close_gaps=sized.close_gaps, min_area=sized.min_area)


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


def warped_keys_with_flows(target_lines: np.ndarray, keys: Mapping[int, np.ndarray],
                           key_lines: Mapping[int, np.ndarray], index: int
                           ) -> tuple[list[Candidate], list[np.ndarray]]:
    """Each key (uint8 (h, w, 3) at working size) warped onto ``target_lines`` (h, w), in the keys' order
    (sorted), and the flow float32 (h, w, 2) each was warped by."""
    candidates, flows = _warped_keys(target_lines, keys, key_lines, index)
    return candidates, [flows[k] for k in sorted(keys)]


def keys_at_full_size(fill: np.ndarray, warped: Sequence[Candidate], flows: Sequence[np.ndarray],
                      keys_full: Sequence[np.ndarray], keys_paper: Sequence[np.ndarray], paper: np.ndarray,
                      settings: FusionSettings = FusionSettings()) -> np.ndarray:
    """``fill`` (uint8 (H, W, 3), the per-pixel fusion at working size enlarged) with every pixel that
    ``fuse_pixels`` gave a warped key taking that key's paint sampled at full size (``keys_full``, uint8
    (H, W, 3) each) where the working-size flow lands it (``upsample_flow``).

    The working size keeps about a quarter of each side of a full-HD drawing: a strip of paint between two
    hatching strokes is narrower than one of them, so the key warped small and enlarged paints it a blur of
    the strokes' black and the paint's grey. Sampled at full size the key's own paint is there, as footage
    takes its key (``footage_paint``). A pixel whose sample would touch the key's ink (``keys_paper``: bool
    (H, W), where the key's paint holds none of its ink) takes the paint of the nearest pixel that got paint
    in the frame's own region (``paper``: bool (H, W), the frame off its ink): a stroke the key has and the
    frame does not is neither painted nor left as the enlarged blur of it.
    """
    if not warped:
        return fill
    H, W = fill.shape[:2]
    weights = np.stack([c.weight for c in warped])                                 # (N, h, w)
    choice = weights.argmax(0).astype(np.int32)                                    # (h, w)
    choice[weights.max(0) < settings.min_confidence] = -1                          # the network's pixels
    choice = cv2.resize(choice, (W, H), interpolation=cv2.INTER_NEAREST)           # (H, W)
    out = fill.copy()
    sampled = choice < 0                                                           # (H, W): paint to trust
    for i, (flow, key, key_paper) in enumerate(zip(flows, keys_full, keys_paper)):
        chosen = choice == i                                                       # (H, W)
        if not chosen.any():
            continue
        flow_full = upsample_flow(flow, (H, W))                                    # (H, W, 2)
        on_paint = warp(key_paper.view(np.uint8) * np.uint8(255), flow_full) == 255  # all four samples paint
        take = chosen & on_paint
        out[take] = warp(key, flow_full)[take]
        sampled |= take
    if (paper & ~sampled).any():  # a key's stroke landed there
        out = refill_from_nearest(out, paper, sampled)
    return out


def _warped_keys(target_lines: np.ndarray, keys: Mapping[int, np.ndarray], key_lines: Mapping[int, np.ndarray],
                 index: int) -> tuple[list[Candidate], dict[int, np.ndarray]]:
    """``warped_keys_with_flows``, the flows by key."""
    order = sorted(keys)
    weights = time_weights(index, order)
    candidates, flows = [], {}
    for k, w in zip(order, weights):
        if keys[k].shape[:2] != target_lines.shape:
            raise ValueError(f"key colour {keys[k].shape[:2]} and target line art {target_lines.shape} differ in size")
        flows[k], confidence = key_flow_with_confidence(target_lines, key_lines[k])           # (h, w, 2), (h, w)
        candidates.append(Candidate(warp(keys[k], flows[k]), (confidence * (w * len(order))).astype(np.float32)))
    return candidates, flows


def footage_paint(target_lines: np.ndarray, keys: Mapping[int, np.ndarray], key_lines: Mapping[int, np.ndarray],
                  index: int, nearest: int, nearest_full: np.ndarray) -> tuple[np.ndarray, list[Candidate]]:
    """Colour footage: the frame's paint, the nearest key (``nearest``, one of ``keys``; ``nearest_full``
    uint8 (H, W, 3), it at full size) warped onto it, and every key warped at working size as a
    ``Candidate`` (for the doubt).

    The nearest key alone: on footage the lines are extracted from the paint, and far from them both
    distance fields are flat and agree whatever the key shows, so the warp's confidence cannot tell
    which key shows a pixel; time can. (Clips 01-06, keys first and last: taking per pixel the more
    confident of two warped keys 25.71 dB, the nearest alone 26.57; switching to the other key only
    where the nearest's confidence is below 0.05 still 26.11.) The flow is found at the working size
    (``target_lines``, ``key_lines`` uint8 (h, w)), where large motion fits its search window, and the
    key's colour sampled at full size, where its detail is (26.46 dB warped small and enlarged, 26.74
    this way, 26.57 with the flow found at full size).
    """
    candidates, flows = _warped_keys(target_lines, keys, key_lines, index)
    return warp(nearest_full, upsample_flow(flows[nearest], nearest_full.shape[:2])), candidates        # (H, W, 3)


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


def uniform_weight(value: float, size: tuple[int, int]) -> np.ndarray:
    """A candidate's weight that is ``value`` at every pixel of ``size`` (h, w): float32, read-only, one number
    in memory; ``fuse_regions`` votes with the number itself instead of a full-size copy of it."""
    return np.broadcast_to(np.float32(value), size)


def _vote_weight(weight: np.ndarray, size: tuple[int, int]) -> np.ndarray | np.float32:
    """A candidate's weight as its votes read it at full ``size`` (H, W): bilinear (cv2), or the number of a
    ``uniform_weight``, which every pixel holds."""
    if weight.ndim == 2 and weight.strides == (0, 0):
        return np.float32(weight.flat[0])
    return _upsample(weight, size, cv2.INTER_LINEAR)


def _upsample(image: np.ndarray, size: tuple[int, int], interpolation: int) -> np.ndarray:
    H, W = size
    return image if image.shape[:2] == (H, W) else cv2.resize(image, (W, H), interpolation=interpolation)


def fuse_regions(lines_full: np.ndarray, network: np.ndarray | Callable[[], np.ndarray], warped: Sequence[Candidate],
                 palette: np.ndarray, settings: FusionSettings = FusionSettings(),
                 labels: tuple[np.ndarray, int] | None = None, with_ink: bool = True,
                 full: np.ndarray | None = None) -> np.ndarray:
    """The finished flat frame (H, W, 3): every region of the original line art filled with the
    palette colour its candidates vote for, the original ink multiplied on top (``with_ink``;
    without it the paint alone, ink pixels painted as their region: the paint layer under
    ``lacvid.compose.layers``' ink layer).

    Each candidate is snapped to the palette at its own size, then its palette indices are
    sampled by nearest neighbour at full size (the same as snapping the upsampled colours, at a
    fraction of the pixels), so a vote is always for a colour a candidate really holds, never a
    blend of two fills along their border.

    ``network``: its colour (uint8 (h, w, 3)), or a function that makes it, called only when its vote
    could change some region's winner (``network_may_decide``). How much the network's pixels weigh
    does not depend on their colours, so where no region's runner-up trails by less than the network's
    whole weight in it, every region is decided without the network, and the frame is bit for bit the
    frame the network's colour, whatever it is, would give: a caller that runs the networks on demand
    (``pipeline.compose``) skips them there. ``full``: ``fill_ink_labels(labels[0])`` when the caller
    has it already (the frame's doubt needs it too).
    """
    size = lines_full.shape
    # The network speaks where no warped key is confident (what the keys do not show: an
    # entering character, a disocclusion); where a key matches, its exact colours decide.
    best = np.max([np.clip(c.weight, 0, 1) for c in warped], axis=0) if warped else 0.0   # (h, w)
    network_weight = np.float32(settings.network_weight) * (1.0 - best)
    network_weights = _upsample(np.asarray(network_weight, np.float32), size, cv2.INTER_LINEAR) if warped \
        else np.float32(settings.network_weight)                                          # (H, W) or a number
    indices = [snap_indices(c.color, palette) for c in warped]                 # (h, w) int32 each, sampled at (H, W)
    weights = [_vote_weight(c.weight, size) for c in warped]                   # (H, W) float32 (or one number)
    if labels is None:
        labels = label_regions(lines_full, close_gaps=settings.close_gaps, min_area=settings.min_area)
    trust = vote_trust(labels[0])                                                         # (H, W) float32
    others = region_votes(labels, indices, weights, len(palette), trust=trust)            # (n + 1, P) each
    if callable(network):
        reach = region_votes(labels, [np.zeros((1, 1), np.int32)], [network_weights], 1, trust=trust)[0][:, 0]
        if not network_may_decide(others, reach, len(palette)):
            return _regions_filled(palette, summed_votes(others, labels[1], len(palette)).argmax(1), labels[0],
                                   lines_full, with_ink, full)
        network = network()
    own = region_votes(labels, [snap_indices(network, palette)], [network_weights], len(palette), trust=trust)
    winner = summed_votes(own + others, labels[1], len(palette)).argmax(1)                  # (n + 1,) as region_winners
    return _regions_filled(palette, winner, labels[0], lines_full, with_ink, full)


def network_may_decide(votes: Sequence[np.ndarray], reach: np.ndarray, n_palette: int) -> bool:
    """Whether a vote of at most ``reach[r]`` (float64 (n + 1,): the network's whole weight in region r)
    could change any region's winner over ``votes`` (the other candidates' ``region_votes`` tables).

    It can only where it weighs anything and the runner-up trails the winner by no more than it does
    (it may vote all for the runner-up); a tie is contested too (the first maximum wins it). The slack
    covers the float64 rounding of the sums (its relative error is ~1e-13 at millions of pixels)."""
    if n_palette < 2:
        return False  # one colour: every region takes it
    total = summed_votes(votes, len(reach) - 1, n_palette)
    runner_up, top = np.partition(total, -2, axis=1)[:, -2:].T                                # (n + 1,) each
    contested = (reach > 0) & (top - runner_up <= reach + 1e-9 * (top + reach))
    return bool(contested.any())


def _regions_filled(palette: np.ndarray, winner: np.ndarray, labels: np.ndarray, lines_full: np.ndarray,
                    with_ink: bool, full: np.ndarray | None = None) -> np.ndarray:
    """Every region its winner's colour, ink as its nearest region (H, W, 3), the ink multiplied on top if asked;
    ``full``: ``fill_ink_labels(labels)`` when the caller has it."""
    if full is None:
        full = fill_ink_labels(labels)                                            # (H, W): ink as its nearest region
    fill = paint_regions(palette[winner], full)                                       # (H, W, 3)
    return multiply_lines(fill, lines_full) if with_ink else fill


def paint_confident_regions(fill: np.ndarray, labels: tuple[np.ndarray, int], propagated: np.ndarray,
                            confidence: np.ndarray, palette: np.ndarray, flat_colors: np.ndarray,
                            min_confidence: float = 1 / 255, shading: np.ndarray | None = None,
                            full: np.ndarray | None = None) -> np.ndarray:
    """``fill`` (H, W, 3) with every region whose propagated colour is confident painted that colour.

    For drawings whose keys are not all flat paint (grey tones over a gradient background): the
    per-pixel fill keeps the keys' gradients, but breaks a flat area the drawing moved into
    blotches of whatever each warped pixel met. The propagation votes per region over the keys'
    colours; a region takes its winner whole when that colour stands only for regions the keys paint
    flat (``flat_colors`` bool (P,), ``propagate.palette.flat_colors``) and the propagation heard
    any evidence for it (mean confidence >= ``min_confidence``, the smallest level the cache
    stores): however weak, one key colour over the whole region is never the blotches of a
    per-pixel paste, and its median is what a painter's fill would give. A painter's fill may hold
    a gentle shade, as much as the keys' regions of that colour do (``shading`` float32 (P,),
    ``key_shading``; None: up to ``FLAT_SPREAD``, what ``flat_colors`` allows): the smooth part of the
    per-pixel paint within that much of the colour is kept, so the keys' shading carries onto the
    frame and a key pasted over part of the region (``compose.held``) meets it, not a seam; keys
    painted truly flat leave nothing to keep, and the region is one colour exactly. Regions whose
    keys' paint is a gradient, and those no chain reached, keep their per-pixel paint.

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
    colour = paint_regions(palette[winner], full)                                           # (H, W, 3)
    region = paint_regions(flat, full)                                                      # (H, W) bool
    out = fill.copy()
    amplitude = np.full(len(palette), FLAT_SPREAD, np.float32) if shading is None else \
        np.minimum(np.asarray(shading, np.float32), FLAT_SPREAD)                             # (P,)
    spread = paint_regions(amplitude[winner], full)[..., None]                              # (H, W, 1)
    shade = fill.astype(np.float32) - colour                                                # (H, W, 3)
    within = region & (np.abs(shade).max(-1) <= spread[..., 0])                             # (H, W) bool
    if not (amplitude[winner[flat]] >= 1).any():  # keys painted truly flat: one colour exactly
        out[region] = colour[region]
        return out
    # A painter's shading is smooth; what a warp carried of it is not (pixels from a little off): keep
    # its low frequencies, averaged over the pixels within the spread only (normalised convolution).
    sigma = max(1.0, min(fill.shape[:2]) / 100)
    weight = cv2.GaussianBlur(within.astype(np.float32), (0, 0), sigma)                     # (H, W)
    smooth = cv2.GaussianBlur(shade * within[..., None], (0, 0), sigma)                     # (H, W, 3)
    shade = np.clip(smooth / np.maximum(weight, 1e-6)[..., None], -spread, spread)
    painted = np.clip(np.rint(colour + shade), 0, 255).astype(np.uint8)                    # (H, W, 3)
    out[region] = painted[region]
    return out


def key_shading(paints: Sequence[np.ndarray], labels: Sequence[np.ndarray], clean: Sequence[np.ndarray],
                palette: np.ndarray, share: float = 0.9, merge: int = MERGE) -> np.ndarray:
    """float32 (P,): how much shade the keys paint within each palette colour's regions: per key region
    (``labels`` int32 (H, W), 0 on ink) whose median is that colour (within ``merge`` levels), the
    levels (largest channel) that ``share`` of its ``clean`` pixels (bool (H, W): no ink in them) lie
    within of its median; the largest over the regions. 0 for cel paint, a few levels for a
    painter's gentle shade, more for a gradient (``paint_confident_regions`` keeps up to this much)."""
    shading = np.zeros(len(palette), np.float32)
    pal = palette.astype(np.float32)
    for paint, lab, ok in zip(paints, labels, clean):
        inside = (lab > 0) & ok
        order, bounds = label_runs(lab[inside], int(lab.max()) + 1)
        pixels = paint[inside].astype(np.float32)[order]                                     # (N, 3)
        for a, b in zip(bounds[:-1], bounds[1:]):
            if a == b:
                continue
            region = pixels[a:b]                                                              # (m, 3)
            median = np.median(region, 0)
            entry = int(np.abs(pal - median).max(1).argmin())
            if np.abs(pal[entry] - median).max() <= merge:
                spread = float(np.quantile(np.abs(region - median).max(1), share))
                shading[entry] = max(shading[entry], spread)
    return shading
