"""Flat cel colours: every line-enclosed region one exact colour from the keys' palette.

A cel painter fills each region with one colour picked from the shot's model sheet; a
network's colour is close but never exact and drifts inside a region. Here each region of
the target takes one colour, chosen by a vote of the pixels inside it among the colours
of the painted keys (the palette), compared in CIE Lab so that "nearest" means nearest to
the eye. The votes may come from the network's colour, from keys warped by optical flow,
or from several such sources weighed together (``region_vote``).

Ink pixels are not regions: they keep the incoming colour unless ``fill_ink`` asks for
the colour of the nearest region (what the compositor wants beneath anti-aliased ink).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

import cv2
import numpy as np

from lacvid.compose.regions import (
    fill_ink_labels,
    label_regions,
    sampled_palette_votes,
)
from lacvid.preprocess.lines import INK_THRESHOLD
from lacvid.util.arrays import COUNT_TABLE, most_common, rgb_cells
from lacvid.util.checks import check_array
from lacvid.util.kernels import distinct_colors, kernel, worth_compiling

__all__ = [
    "rgb_to_lab",
    "palette_from_keys",
    "snap_indices",
    "snap_colors",
    "region_vote",
]

_LUT_BITS = 6  # RGB quantised to 6 bits a channel (4 levels a step) for the nearest-palette table


def _check_palette(palette: np.ndarray) -> None:
    check_array(palette, "palette", np.uint8, ("P", 3))
    if len(palette) == 0:
        raise ValueError("palette must hold at least one colour, got shape (0, 3)")


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIE Lab (L 0..100) of uint8 RGB colours, any leading shape (..., 3) -> float32 (..., 3)."""
    flat = np.ascontiguousarray(rgb, dtype=np.float32).reshape(1, -1, 3) / 255.0
    return cv2.cvtColor(flat, cv2.COLOR_RGB2Lab).reshape(rgb.shape)


@lru_cache(maxsize=8)
def _palette_lut(palette_bytes: bytes) -> np.ndarray:
    """Nearest palette entry (in Lab) of every quantised RGB colour: int32 (2**(3*bits),)."""
    palette = np.frombuffer(palette_bytes, np.uint8).reshape(-1, 3)
    pal_lab = rgb_to_lab(palette).astype(np.float32)  # (P, 3)
    levels = 1 << _LUT_BITS
    step = 256 // levels
    centres = (np.arange(levels) * step + step // 2).astype(np.uint8)
    r, g, b = np.meshgrid(centres, centres, centres, indexing="ij")
    grid = np.stack([r, g, b], axis=-1).reshape(-1, 3)  # (levels**3, 3) RGB, r slowest
    lab = rgb_to_lab(grid)  # (N, 3)
    lut = np.empty(len(grid), np.int32)
    p2 = (pal_lab**2).sum(1)  # (P,)
    chunk = 1 << 15
    for s in range(0, len(grid), chunk):
        x = lab[s : s + chunk]
        d = p2[None, :] - 2.0 * x @ pal_lab.T  # (chunk, P), |x|^2 dropped: same argmin
        lut[s : s + chunk] = d.argmin(1)
    return lut


def snap_indices(color: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Index of the nearest palette colour (Lab) for every pixel: int32 (H, W).

    Uses a table over RGB quantised to 6 bits a channel, so a whole frame costs one lookup
    per pixel however large the palette.
    """
    check_array(color, "colour", np.uint8, ("H", "W", 3))
    _check_palette(palette)
    lut = _palette_lut(np.ascontiguousarray(palette).tobytes())
    if worth_compiling(color.shape[0] * color.shape[1]):  # one pass, no (H, W, 3) int32 temporaries
        return _snap_kernel(color if color.strides[2] == 1 else np.ascontiguousarray(color), lut, _LUT_BITS)
    return np.ascontiguousarray(lut[rgb_cells(color, _LUT_BITS)])  # (H, W) int32


@kernel(nogil=True)
def _snap_kernel(color, lut, bits):  # (H, W, 3) uint8, (2**(3 bits),) int32 -> (H, W) int32  # pragma: no cover
    # lut[rgb_cells(color, bits)], a pixel at a time; ``color`` may be a view (the RGB of an RGBA image)
    h, w = color.shape[:2]
    out = np.empty((h, w), np.int32)
    drop = 8 - bits
    for y in range(h):
        for x in range(w):
            r = np.int32(color[y, x, 0]) >> drop
            g = np.int32(color[y, x, 1]) >> drop
            b = np.int32(color[y, x, 2]) >> drop
            out[y, x] = lut[(r << (2 * bits)) | (g << bits) | b]
    return out


def snap_colors(colors: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Nearest palette colour (exact Lab distance) of each colour in (N, 3) uint8 -> (N, 3).

    Each distinct colour is measured once: a key of two million pixels holds a few hundred
    (cel paint) to a few hundred thousand (painted gradients), and the (N, P) distances of
    every pixel took seconds per 1080p key.
    """
    _check_palette(palette)
    each, inverse = distinct_colors(np.ascontiguousarray(colors, np.uint8).reshape(-1, 3))  # (U, 3), (N,)
    return _snap_distinct(each, palette)[inverse]  # (N, 3)


def _snap_distinct(each: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Nearest palette colour (Lab) of each of a few distinct uint8 colours (U, 3) -> (U, 3)."""
    lab = rgb_to_lab(each)  # (U, 3)
    pal = rgb_to_lab(palette)  # (P, 3)
    d = ((lab[:, None, :] - pal[None, :, :]) ** 2).sum(-1)  # (U, P)
    return palette[d.argmin(1)]


TRUST_PX = 3.0  # px from ink at which a pixel's vote counts fully (``vote_trust``)


def vote_trust(labels: np.ndarray) -> np.ndarray:
    """Per-pixel weight of a vote, float32 (H, W): low next to ink, where colour bleeds across lines: OpenCV's 3x3
    chamfer distance to ink (label 0) over ``TRUST_PX``, clipped to [0.2, 1]. At working sizes and up the distance
    is measured only within ``TRUST_BAND`` px of ink (``_trust_kernel``: the same float steps as OpenCV's two
    passes, bit for bit), where it can be below ``TRUST_PX``: a 1080p frame's full transform took ~10 ms."""
    if worth_compiling(labels.size):
        ink = (labels <= 0).view(np.uint8)                                       # (H, W) 1 on ink
        band = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * TRUST_BAND + 1,) * 2))
        return _trust_kernel(np.ascontiguousarray(labels, np.int32), band)
    dist = cv2.distanceTransform((labels > 0).view(np.uint8), cv2.DIST_L2, 3)  # (H, W) float32 px
    np.divide(dist, np.float32(TRUST_PX), out=dist)                           # in place: the same float32 steps
    return np.clip(dist, 0.2, 1.0, out=dist)


# OpenCV's 3x3 chamfer for DIST_L2: an axial step 0.955, a diagonal 1.3693 (float32). Every pixel nearer ink than
# ``TRUST_PX`` lies within 3 px of it in either axis (4 axial steps are 3.82, 2 diagonal and 1 axial 3.69), and so does
# every pixel of the path that makes its distance: beyond ``TRUST_BAND`` a pixel's vote counts fully.
_AXIAL_STEP, _DIAGONAL_STEP = np.float32(0.955), np.float32(1.3693)
_FAR_PX = np.float32(1e30)
TRUST_BAND = 4


@kernel(nogil=True)
def _trust_kernel(labels, band):  # pragma: no cover
    # (H, W) int32, uint8 (1 within TRUST_BAND of ink) -> (H, W) float32.
    # OpenCV's DIST_L2 3x3 transform step for step (a forward pass taking the upper-left neighbours, a backward
    # pass the lower-right ones where a pixel is farther than one axial step), then / TRUST_PX and clipped; outside
    # the band a pixel is at least TRUST_PX from ink whatever the transform measures (trust 1), and no path that
    # makes a distance below it passes there.
    h, w = labels.shape
    tmp = np.empty((h + 2, w + 2), np.float32)
    for x in range(w + 2):
        tmp[0, x] = _FAR_PX
        tmp[h + 1, x] = _FAR_PX
    for y in range(1, h + 1):
        tmp[y, 0] = _FAR_PX
        tmp[y, w + 1] = _FAR_PX
        for x in range(1, w + 1):
            if labels[y - 1, x - 1] <= 0:
                tmp[y, x] = np.float32(0.0)
            elif band[y - 1, x - 1] == 0:
                tmp[y, x] = _FAR_PX
            else:
                t0 = min(tmp[y - 1, x - 1] + _DIAGONAL_STEP, tmp[y - 1, x] + _AXIAL_STEP)
                t0 = min(t0, tmp[y - 1, x + 1] + _DIAGONAL_STEP)
                tmp[y, x] = min(t0, tmp[y, x - 1] + _AXIAL_STEP)
    out = np.empty((h, w), np.float32)
    full, low, high = np.float32(TRUST_PX), np.float32(0.2), np.float32(1.0)
    for y in range(h, 0, -1):
        for x in range(w, 0, -1):
            if band[y - 1, x - 1] == 0:
                out[y - 1, x - 1] = high
                continue
            t0 = tmp[y, x]
            if t0 > _AXIAL_STEP:
                t0 = min(t0, tmp[y + 1, x + 1] + _DIAGONAL_STEP)
                t0 = min(t0, tmp[y + 1, x] + _AXIAL_STEP)
                t0 = min(t0, tmp[y + 1, x - 1] + _DIAGONAL_STEP)
                t0 = min(t0, tmp[y, x + 1] + _AXIAL_STEP)
                tmp[y, x] = t0
            out[y - 1, x - 1] = min(max(t0 / full, low), high)
    return out


def palette_from_keys(
    keys: Sequence[np.ndarray],
    lines: Sequence[np.ndarray],
    *,
    close_gaps: int = 2,
    min_area: int = 8,
    merge_delta_e: float = 3.0,
    min_pixels: int = 16,
    labels: Sequence[tuple[np.ndarray, int]] | None = None,
    colors: Sequence[KeyColorIds] | None = None,
) -> np.ndarray:
    """The flat colours of the painted keys: uint8 (P, 3), most used first.

    Each region of each key contributes its most frequent exact colour (its fill), counted
    away from the lines so anti-aliased edges do not vote. Colours within
    ``merge_delta_e`` (CIE76) of a more used one are the same paint with JPEG or
    anti-aliasing noise and merge into it; colours covering fewer than ``min_pixels``
    pixels in all keys are dropped as noise. ``labels``: each key's ``label_regions(line, close_gaps,
    min_area)`` where the caller has them already; ``colors``: each key's ``key_color_ids``, likewise.
    """
    if len(keys) == 0 or len(keys) != len(lines):
        raise ValueError(f"need one line-art frame per key, got {len(keys)} keys and {len(lines)} line frames")
    totals: dict[int, int] = {}
    for i, (key, ln) in enumerate(zip(keys, lines)):
        check_array(key, "key", np.uint8, ("H", "W", 3))
        if ln.shape != key.shape[:2]:
            raise ValueError(f"key line art must have shape {key.shape[:2]}, got {ln.shape}")
        lab, n = label_regions(ln, close_gaps=close_gaps, min_area=min_area) if labels is None else labels[i]
        if n == 0:
            continue
        for c, a in _region_fills(key, lab, n, None if colors is None else colors[i]):
            totals[c] = totals.get(c, 0) + a
    if not totals:
        raise ValueError("the key frames hold no line-enclosed region to take colours from")
    return _merge_close_colors(totals, merge_delta_e, min_pixels)


_MODE_TABLE = COUNT_TABLE  # (regions x distinct colours) counts up to this are one bincount, not a sort


KeyColorIds = tuple[np.ndarray, np.ndarray]  # a key's distinct colours (U, 3) and each pixel's index (H * W,)


class KeyColorLookup(Protocol):
    """Each key's ``key_color_ids`` by its frame index (``pipeline.compose.KeyColorIndex``, or a dict)."""

    def __getitem__(self, index: int, /) -> KeyColorIds: ...


def key_color_ids(key: np.ndarray) -> KeyColorIds:
    """``distinct_colors`` of a whole key: its colours ascending as packed 0xRRGGBB, and every pixel's index
    among them. What the palette, its coverage and the index layer each read of a key, found once."""
    check_array(key, "key", np.uint8, ("H", "W", 3))
    return distinct_colors(np.ascontiguousarray(key).reshape(-1, 3))


def _region_fills(key: np.ndarray, labels: np.ndarray, n: int, colors: KeyColorIds | None = None
                  ) -> list[tuple[int, int]]:
    """(packed RGB of the region's most frequent color, the region's area) for each region, by region;
    a tie goes to the smallest packed colour. ``colors``: ``key_color_ids(key)`` when the caller has it."""
    # Per pixel whether it votes: >= 2 px from ink (vote_trust >= 2/3), or in a region too thin to have
    # such pixels, which votes with all of its own; and each region's whole area.
    voters = _fill_voters if worth_compiling(labels.size) else _fill_voters_numpy
    use, area = voters(np.ascontiguousarray(labels, np.int32), vote_trust(labels), n)  # (H, W) bool, (n + 1,)
    each, ids = key_color_ids(key) if colors is None else colors      # (U, 3) ascending packed, (H * W,)
    color = ids[use.ravel()]                                          # (N,): the voters' colours
    u = max(len(each), 1)
    pair = labels[use].astype(np.int64) * u + color  # (N,) region-major, then colour
    if (n + 1) * u <= _MODE_TABLE:
        counts = np.bincount(pair, minlength=(n + 1) * u).reshape(n + 1, u)  # (regions, colours)
        region = np.flatnonzero(counts.any(1))
        mode = counts[region].argmax(1)  # the first maximum: the smallest colour
    else:  # painted gradients: too many colours for a table
        uniq, counts = np.unique(pair, return_counts=True)
        region, mode = most_common(uniq // u, uniq % u, counts)  # ties in colour order: the smallest
    rgb = each[mode].astype(np.int64)  # (R, 3)
    packed = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    # Weight the mode by the region's whole area: that much of the frame is painted with it.
    return [(int(c), int(a)) for c, a in zip(packed.tolist(), area[region].tolist())]


def _fill_voters_numpy(labels: np.ndarray, trust: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``_fill_voters`` as NumPy computes it, for frames too small to compile it for."""
    interior = trust >= 2.0 / 3.0  # >= 2 px from ink
    has_interior = np.zeros(n + 1, bool)
    has_interior[labels[interior]] = True
    use = (labels > 0) & (interior | ~has_interior[labels])
    return use, np.bincount(labels.ravel(), minlength=n + 1)


@kernel(nogil=True)
def _fill_voters(labels, trust, n):  # (H, W) int32, float32; int -> (H, W) bool, (n + 1,) int64  # pragma: no cover
    # The NumPy form's interior test (trust >= 2/3 in float32), each region's interior, then the voters; with
    # each region's pixel count on the way.
    h, w = labels.shape
    threshold = np.float32(2.0 / 3.0)
    has_interior = np.zeros(n + 1, np.bool_)
    area = np.zeros(n + 1, np.int64)
    for y in range(h):  # a row is long runs of one region: each run's area counted in a register, added when it ends
        current, run = labels[y, 0], 0
        for x in range(w):
            r = labels[y, x]
            if r != current:
                area[current] += run
                current, run = r, 0
            run += 1
            if r > 0 and trust[y, x] >= threshold:
                has_interior[r] = True
        area[current] += run
    use = np.empty((h, w), np.bool_)
    for y in range(h):
        for x in range(w):
            r = labels[y, x]
            use[y, x] = r > 0 and (trust[y, x] >= threshold or not has_interior[r])
    return use, area


def _merge_close_colors(totals: dict[int, int], merge_delta_e: float, min_pixels: int) -> np.ndarray:
    """Packed colors and their areas -> the palette: near-equal colors merged into the more used."""
    items = sorted(totals.items(), key=lambda kv: -kv[1])
    colors = np.array([[c >> 16, (c >> 8) & 255, c & 255] for c, _ in items], np.uint8)  # (M, 3)
    weights = np.array([a for _, a in items], np.int64)
    lab = rgb_to_lab(colors)  # (M, 3)
    kept: list[int] = []
    kept_w: list[int] = []
    for i in range(len(colors)):
        if kept:
            d = np.sqrt(((lab[kept] - lab[i]) ** 2).sum(1))
            j = int(d.argmin())
            if d[j] < merge_delta_e:
                kept_w[j] += int(weights[i])
                continue
        kept.append(i)
        kept_w.append(int(weights[i]))
    keep = [k for k, w in zip(kept, kept_w) if w >= min_pixels] or kept[:1]
    return colors[keep]


def region_vote(
    target_lines: np.ndarray,
    candidates: Sequence[np.ndarray],
    palette: np.ndarray,
    *,
    weights: Sequence[float | np.ndarray] | None = None,
    labels: tuple[np.ndarray, int] | None = None,
    close_gaps: int = 2,
    min_area: int = 8,
    fill_ink: bool = False,
    threads: int | None = None,
) -> np.ndarray:
    """Fill each region of ``target_lines`` with the palette colour its pixels vote for.

    ``candidates``: colour guesses for the target, uint8 (H, W, 3) each (the network's
    output, keys warped by optical flow, ...); ``weights``: one per candidate, a number or
    a float (H, W) map (e.g. nearer keys count more). Every pixel votes for the palette
    entry nearest its colour, weighted by its candidate's weight and by its distance from
    the lines; each region takes the majority. Returns uint8 (H, W, 3); ink pixels keep
    the candidates' weighted mean, or with ``fill_ink`` the nearest region's colour.
    ``labels``: a precomputed ``label_regions(target_lines)`` result, reused across calls.
    """
    if len(candidates) == 0:
        raise ValueError("region_vote needs at least one candidate colour image")
    for c in candidates:
        check_array(c, "candidate", np.uint8, ("H", "W", 3))
        if c.shape[:2] != target_lines.shape:
            raise ValueError(f"candidates must have shape {target_lines.shape + (3,)}, got {c.shape}")
    _check_palette(palette)
    if weights is None:
        weights = [1.0] * len(candidates)
    if len(weights) != len(candidates):
        raise ValueError(f"need one weight per candidate, got {len(weights)} for {len(candidates)}")
    lab_map, n = labels if labels is not None else label_regions(target_lines, close_gaps, min_area)
    winner = region_winners((lab_map, n), [snap_indices(c, palette) for c in candidates], weights, len(palette),
                            threads)
    fill = palette[winner]  # (n + 1, 3)
    if fill_ink:
        return fill[fill_ink_labels(lab_map)]  # (H, W, 3)
    out = fill[lab_map]  # (H, W, 3)
    ink = lab_map == 0
    if ink.any():
        ws = [np.broadcast_to(np.asarray(w, np.float32), ink.shape)[ink] for w in weights]
        total = np.maximum(sum(ws), 1e-6)
        mean = sum(c[ink].astype(np.float32) * w[:, None] for c, w in zip(candidates, ws)) / total[:, None]
        out[ink] = np.clip(np.rint(mean), 0, 255).astype(np.uint8)
    return out


def region_winners(labels: tuple[np.ndarray, int], indices: Sequence[np.ndarray],
                   weights: Sequence[float | np.ndarray], n_palette: int, threads: int | None = None) -> np.ndarray:
    """The palette entry each region of ``labels`` (``label_regions``' result) votes for: int (n + 1,).

    ``indices``: per candidate, the palette entry of every pixel (int32 (h, w), ``snap_indices``);
    ``weights``: per candidate, a number or a float (h', w') map. Either may be smaller than the labels:
    it is then sampled by nearest neighbour, exactly as if upsampled with ``cv2.INTER_NEAREST`` first
    (``regions.sampled_palette_votes``: no full-resolution copy). A pixel's vote is its candidate's
    weight times its distance from the lines (``vote_trust``); row 0 is ink.
    """
    return summed_votes(region_votes(labels, indices, weights, n_palette, threads), labels[1], n_palette).argmax(1)


def summed_votes(tables: Sequence[np.ndarray], n_regions: int, n_palette: int) -> np.ndarray:
    """float64 (n_regions + 1, n_palette): ``region_votes``' tables added in their order from zero, the one
    way every caller sums them, so the same tables give the same bits (and the same ties) everywhere."""
    votes = np.zeros((n_regions + 1, n_palette), np.float64)
    for table in tables:
        votes += table
    return votes


def region_votes(labels: tuple[np.ndarray, int], indices: Sequence[np.ndarray],
                 weights: Sequence[float | np.ndarray], n_palette: int, threads: int | None = None,
                 trust: np.ndarray | None = None) -> list[np.ndarray]:
    """``region_winners``' votes, one float64 (n + 1, n_palette) table per candidate, not yet summed: so a
    caller can see whether a candidate it has not made yet could still change a region's winner
    (``compose.fusion.fuse_regions``). ``trust``: ``vote_trust(labels[0])`` when the caller has it."""
    lab_map, n = labels
    trust = vote_trust(lab_map) if trust is None else trust  # (H, W)
    tables = []
    for idx, w in zip(indices, weights):
        tables.append(sampled_palette_votes(lab_map, trust, np.ascontiguousarray(idx, np.int32), w, n, n_palette,
                                            threads))
    return tables


def palette_coverage(keys: Sequence[np.ndarray], lines: Sequence[np.ndarray], palette: np.ndarray, *,
                     tolerance: int = 8, margin: float = 2.0, colors: Sequence[KeyColorIds] | None = None) -> float:
    """Share of the keys' painted pixels (at least ``margin`` px from ink) within ``tolerance``
    levels, on every channel, of a ``palette`` colour: 1.0 for flat cel paint.

    Real anime frames carry gradients, textures and compression noise (0.6-0.8 measured on the
    real clips), where snapping every region to one colour would destroy the painting; this is
    how ``colorize`` decides, per shot, whether ``--flat`` is right. ``colors``: each key's
    ``key_color_ids`` where the caller has them.
    """
    _check_palette(palette)
    ok = total = 0
    for i, (key, ln) in enumerate(zip(keys, lines)):
        check_array(key, "key", np.uint8, ("H", "W", 3))
        paper = np.ascontiguousarray(ln >= INK_THRESHOLD).astype(np.uint8)
        far = cv2.distanceTransform(paper, cv2.DIST_L2, 3) >= margin  # (H, W)
        each, ids = key_color_ids(key) if colors is None else colors[i]  # (U, 3), (H * W,)
        inverse = ids[far.ravel()]                                       # (N,): each colour is judged once
        if len(inverse) == 0:
            continue
        near = np.abs(_snap_distinct(each, palette).astype(np.int16) - each).max(1) <= tolerance  # (U,)
        ok += int(np.bincount(inverse, minlength=len(each))[near].sum())
        total += len(inverse)
    return ok / total if total else 0.0
