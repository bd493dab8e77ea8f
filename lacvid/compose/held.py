"""Held drawing: where a frame's line art coincides with a key's, the key's paint, pixel for pixel.

Animators hold drawings: a background that never moves, a character who stands still while
another talks, a hand that stays put for six frames. Wherever the frame's drawing is the key's
drawing, nothing has moved there and the key already says what every pixel looks like: pasting
it is exact, whatever the paint (flat cel fills, gradients, a region that leaks through a gap
in a stroke and holds two colours). Propagation and the network can only do as well there, and
on real drawings they do worse, so "never worse than pasting the nearest key" holds wherever
the drawing holds.

A pixel is *held* from a key when

1. its region in the frame and its region in the key are counterparts: each covers at least
   ``min_cover`` of the other, and what one holds and the other does not fits in a band
   ``band_px`` wide along their outlines (the same area, moved a little or redrawn with a
   wobble; a tenth of a background is a whole character), and
2. the drawing around it coincides: the nearest point of its region's outline is the same point
   in both, within ``band_px`` (about a stroke's width).

The first test keeps a character's shirt from taking the paint of whatever the key had at that
place, and a background that leaks into a large hood through a gap in the hood's outline (one
region in the frame, two in the key) from being the key's background. The second keeps the
parts of a matched region that did change from taking the key's paint: around a character who
moved, and inside a small hood the background leaks into (its outline is near its pixels in
the frame and nowhere near them in the key). Ink against paper (pencil grain, a stroke redrawn)
is no difference of regions: each frame's own ink goes on top as drawn. Held pixels take the
key's paint where it holds none of the key's ink; the rest keep the fill they had.

Where the drawing is the key's stroke for stroke (``same_drawing``), ``finish_held`` goes one step
further: the key there as the artist finished it, strokes included (recoloured, darkened, no pencil
grain on the paper), since the key is the finished frame of that very drawing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from lacvid.preprocess.distance import nearest_source_index, nearest_values
from lacvid.util.arrays import COUNT_TABLE, most_common
from lacvid.util.checks import check_array
from lacvid.util.kernels import kernel, worth_compiling

MIN_COVER = 0.9  # counterpart regions: each holds most of the other
BAND_PX = 2.0    # the drawing coincides where the nearest outline point agrees within a stroke's width
# Line art at or above this is bare paper: a key pixel below it carries some of its own ink
# (anti-aliased stroke edges), which the frame's ink would darken a second time.
CLEAN_PAPER = 250
SAMPLES = 250_000  # pixels sampled to name each region's counterpart (the cover itself counts every pixel)
# (frame regions + 1) x (key regions + 1) up to this are counted in a table, not sorted: a 1080p frame's
# 500,000 sampled pairs in 2-4 ms where ``np.unique``'s sort took 8-10.
PAIR_TABLE = COUNT_TABLE


def bare_paper(lines: np.ndarray) -> np.ndarray:
    """bool (H, W): where line art (uint8, 255 = paper) is bare paper, no ink in it (``CLEAN_PAPER``)."""
    return lines >= CLEAN_PAPER


def outline_edges(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """bool (H, W) twice: every region's outline pixels (a 4-neighbour of another label, ink or
    another region, or on the frame's edge), and those of them inside the frame (the drawn part).
    At working sizes and up in one pass (``_outline_kernel``), not eight whole-frame temporaries."""
    if worth_compiling(labels.size):
        return _outline_kernel(np.ascontiguousarray(labels))
    edge = np.zeros(labels.shape, bool)
    edge[:-1] |= labels[:-1] != labels[1:]
    edge[1:] |= labels[1:] != labels[:-1]
    edge[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    inner = edge & (labels > 0)
    edge[[0, -1], :] = True
    edge[:, [0, -1]] = True
    return edge, inner


@kernel(nogil=True)
def _outline_kernel(labels):  # (H, W) int32 -> (H, W) bool x2  # pragma: no cover
    # ``outline_edges``'s NumPy form pixel by pixel: a label differing from a 4-neighbour's, or the frame's edge;
    # inner: a differing pixel in a region (the frame's edge alone does not make it inner).
    h, w = labels.shape
    edge = np.empty((h, w), np.bool_)
    inner = np.empty((h, w), np.bool_)
    for y in range(h):
        for x in range(w):
            lab = labels[y, x]
            differs = ((y > 0 and labels[y - 1, x] != lab) or (y < h - 1 and labels[y + 1, x] != lab)
                       or (x > 0 and labels[y, x - 1] != lab) or (x < w - 1 and labels[y, x + 1] != lab))
            inner[y, x] = differs and lab > 0
            edge[y, x] = differs or y == 0 or y == h - 1 or x == 0 or x == w - 1
    return edge, inner


def nearest_outline(edge: np.ndarray) -> np.ndarray:
    """int16 (2, H, W): the (y, x) of every pixel's nearest outline pixel (``edge``)."""
    _, nearest = cv2.distanceTransformWithLabels((~edge).view(np.uint8), cv2.DIST_L2, 5,
                                                 labelType=cv2.DIST_LABEL_PIXEL)   # (H, W) id of the nearest edge
    ys, xs = np.nonzero(edge)
    table = np.zeros((2, int(nearest.max()) + 1), np.int16)
    table[0, nearest[ys, xs]], table[1, nearest[ys, xs]] = ys, xs
    return table[:, nearest]


def _within(radius: float) -> np.ndarray:
    """uint8 structuring element: the offsets whose distance from the centre, as ``cv2.distanceTransform``
    (``DIST_L2``, 3x3 mask) measures it, is at most ``radius``. That distance is the cheapest path of
    axial and diagonal steps, so it depends only on the offset: a pixel lies within ``radius`` of some
    ink exactly where the ink dilated by this element covers it."""
    half = int(np.ceil(radius)) + 1
    probe = np.ones((2 * half + 1, 2 * half + 1), np.uint8)
    probe[half, half] = 0
    return (cv2.distanceTransform(probe, cv2.DIST_L2, 3) <= radius).astype(np.uint8)


class _Drawing:
    """What a key and a frame share: regions, their outlines, where the ink is."""

    labels: np.ndarray   # int32 (H, W): 0 on ink, 1..n on regions
    n: int
    paper: np.ndarray    # bool (H, W): bare paper, no ink in it (strokes and their anti-aliased edges are False)
    edge: np.ndarray     # bool (H, W): every region's outline, the frame's edge included
    inner: np.ndarray    # bool (H, W): the drawn part of every outline

    @cached_property
    def inked(self) -> np.ndarray:
        """bool (H, W): within ``BAND_PX`` of the drawing's ink (OpenCV's 3x3 distance), as one dilation."""
        ink = np.logical_not(self.paper).view(np.uint8)
        return cv2.dilate(ink, _within(BAND_PX), borderType=cv2.BORDER_CONSTANT, borderValue=0).view(bool)

    @cached_property
    def _counts(self) -> tuple[np.ndarray, np.ndarray]:
        """float64 (n + 1,) twice: pixels and outline pixels of each region, in one pass where it pays."""
        if worth_compiling(self.labels.size):
            area, outline = _region_counts(np.ascontiguousarray(self.labels), np.ascontiguousarray(self.edge), self.n)
        else:
            area = np.bincount(self.labels.ravel(), minlength=self.n + 1)
            outline = np.bincount(self.labels[self.edge], minlength=self.n + 1)
        return area.astype(np.float64), outline.astype(np.float64)

    @property
    def area(self) -> np.ndarray:
        """float64 (n + 1,): pixels of each region."""
        return self._counts[0]

    @property
    def outline_length(self) -> np.ndarray:
        """float64 (n + 1,): outline pixels of each region."""
        return self._counts[1]

    @cached_property
    def outline(self) -> np.ndarray:
        """int16 (2, H, W): ``nearest_outline``; only asked for where a leak joined regions."""
        return nearest_outline(self.edge)


@kernel(nogil=True)
def _region_counts(labels, edge, n):  # pragma: no cover
    # np.bincount(labels.ravel(), minlength=n + 1) and np.bincount(labels[edge], minlength=n + 1) in one pass
    h, w = labels.shape
    top = n
    for y in range(h):
        for x in range(w):
            top = max(top, labels[y, x])
    area = np.zeros(top + 1, np.int64)
    outline = np.zeros(top + 1, np.int64)
    for y in range(h):  # a row is long runs of one region: each run's area counted in a register, added when it ends
        current, run = labels[y, 0], 0
        for x in range(w):
            r = labels[y, x]
            if r != current:
                area[current] += run
                current, run = r, 0
            run += 1
            if edge[y, x]:
                outline[r] += 1
        area[current] += run
    return area, outline


@kernel(nogil=True)
def _match_counts(labels, key_labels, candidate, frame_inner, key_inner, frame_inked, key_inked,
                  n, key_n):  # pragma: no cover
    # One pass over a frame and a key: (n + 1,) pixels of each frame region in its candidate key region;
    # per region of each drawing, outline pixels (inner) and those the other drawing has ink along.
    h, w = labels.shape
    overlap = np.zeros(n + 1, np.int64)
    frame_total = np.zeros(n + 1, np.int64)
    frame_drawn = np.zeros(n + 1, np.int64)
    key_total = np.zeros(key_n + 1, np.int64)
    key_drawn = np.zeros(key_n + 1, np.int64)
    for y in range(h):  # each run of one frame region's overlap counted in a register, added when the run ends
        current, run = labels[y, 0], 0
        for x in range(w):
            r, k = labels[y, x], key_labels[y, x]
            if r != current:
                overlap[current] += run
                current, run = r, 0
            if r > 0 and k == candidate[r]:
                run += 1
            if frame_inner[y, x]:
                frame_total[r] += 1
                if key_inked[y, x]:
                    frame_drawn[r] += 1
            if key_inner[y, x]:
                key_total[k] += 1
                if frame_inked[y, x]:
                    key_drawn[k] += 1
        overlap[current] += run
    return overlap, frame_total, frame_drawn, key_total, key_drawn


@kernel(nogil=True)
def _held_codes(labels, key_labels, key_paper, counterpart, merged):  # pragma: no cover
    # (H, W) uint8: 1 where a pixel is held (its region's counterpart is the key region there, on the key's
    # bare paper), 2 where it would be but its match joined regions (held only where the outlines agree).
    h, w = labels.shape
    out = np.zeros((h, w), np.uint8)
    leaky = 0
    for y in range(h):
        for x in range(w):
            r = labels[y, x]
            c = counterpart[r]
            if c > 0 and key_labels[y, x] == c and key_paper[y, x]:
                if merged[r]:
                    out[y, x] = 2
                    leaky += 1
                else:
                    out[y, x] = 1
    return out, leaky


@kernel(nogil=True)
def _paste_where(out, held, take, paint):  # pragma: no cover
    # out[take] = paint[take]; held |= take; in place, one pass
    h, w = take.shape
    for y in range(h):
        for x in range(w):
            if take[y, x]:
                out[y, x, 0] = paint[y, x, 0]
                out[y, x, 1] = paint[y, x, 1]
                out[y, x, 2] = paint[y, x, 2]
                held[y, x] = True


def _match_counts_numpy(labels, key_labels, candidate, frame_inner, key_inner, frame_inked, key_inked,
                        n: int, key_n: int) -> tuple[np.ndarray, ...]:
    """``_match_counts`` as NumPy computes it, for frames too small to be worth compiling the kernel for."""
    shared = (key_labels == candidate[labels]) & (labels > 0)
    return (np.bincount(labels[shared], minlength=n + 1),
            np.bincount(labels[frame_inner], minlength=n + 1),
            np.bincount(labels[frame_inner & key_inked], minlength=n + 1),
            np.bincount(key_labels[key_inner], minlength=key_n + 1),
            np.bincount(key_labels[key_inner & frame_inked], minlength=key_n + 1))


def _held_codes_numpy(labels, key_labels, key_paper, counterpart, merged) -> tuple[np.ndarray, int]:
    """``_held_codes`` as NumPy computes it."""
    mine = counterpart[labels]
    held = (mine > 0) & (key_labels == mine) & key_paper
    leaky = held & merged[labels]
    return held.view(np.uint8) + leaky.view(np.uint8), int(leaky.sum())


def _paste_where_numpy(out, held, take, paint) -> None:
    """``_paste_where`` as NumPy computes it."""
    take = take.view(bool)
    out[take] = paint[take]
    held |= take


@dataclass(frozen=True)
class KeyDrawing(_Drawing):
    """A painted key with its drawing's regions (``compose.regions.label_regions``), made once per shot."""

    index: int          # the key's frame
    paint: np.ndarray   # uint8 (H, W, 3): the key as painted
    labels: np.ndarray  # int32 (H, W): 0 on ink, 1..n on regions
    n: int
    paper: np.ndarray   # where the key's paint holds none of its ink (the frame's own ink goes on top)
    edge: np.ndarray
    inner: np.ndarray

    @classmethod
    def of(cls, index: int, paint: np.ndarray, lines: np.ndarray, labels: tuple[np.ndarray, int]) -> KeyDrawing:
        """``lines``: the key frame's line art (uint8 (H, W), 255 = paper); ``labels`` its regions."""
        check_array(paint, "paint", np.uint8, lines.shape + (3,))
        return cls(index, paint, labels[0], labels[1], bare_paper(lines), *outline_edges(labels[0]))


@dataclass(frozen=True)
class FrameDrawing(_Drawing):
    """A frame's regions and where their outlines lie, shared by every key it is compared with."""

    labels: np.ndarray   # int32 (H, W): 0 on ink, 1..n on regions
    n: int
    paper: np.ndarray
    edge: np.ndarray
    inner: np.ndarray

    @classmethod
    def of(cls, labels: np.ndarray, n: int, lines: np.ndarray) -> FrameDrawing:
        """``labels``, ``n``: the frame's regions; ``lines`` its line art (uint8 (H, W), 255 = paper)."""
        check_array(labels, "labels", np.int32, ("H", "W"))
        check_array(lines, "lines", np.uint8, labels.shape)
        return cls(labels, n, bare_paper(lines), *outline_edges(labels))


@dataclass(frozen=True)
class Match:
    """The frame's regions matched to one key's."""

    counterpart: np.ndarray  # int64 (n + 1,): each frame region's key region, 0 for none
    merged: np.ndarray       # bool (n + 1,): the match joins regions one drawing keeps apart (a leak)


def match(frame: FrameDrawing, key: KeyDrawing, min_cover: float = MIN_COVER, band_px: float = BAND_PX) -> Match:
    """Every frame region's counterpart in ``key``: the key region most of its pixels fall in (counted
    on a grid sample, which keeps this linear at 1080p), kept when each covers ``min_cover`` of the
    other and what one holds and the other not fits in a band ``band_px`` wide along their outlines
    (a tenth of a background is a whole character). A match is *merged* when another key region
    lies mostly inside the frame region while the frame still has ink along most of its outline,
    or the other way round: one drawing has a gap the other closes, and the joined region's
    pixels may belong to either side. (A region whose outline is gone from there moved away, or
    appeared: the other drawing shows what is there instead, and nothing was joined.)"""
    labels, n = frame.labels, frame.n
    check_array(key.labels, "key labels", np.int32, labels.shape)
    step = max(1, int(np.sqrt(labels.size / SAMPLES)))
    # Each sampled pixel's (frame region, key region) as one number, in 32 bits where the pairs fit (a 1080p frame's
    # do), counted: in a table where every pair has a place (``PAIR_TABLE``; at 1080p in one pass over the grid,
    # ``_pair_table``), else by the sort behind ``np.unique``; either way the pairs that occur in ascending order
    # and their counts.
    table = (n + 1) * (key.n + 1)
    if table <= PAIR_TABLE and worth_compiling(labels.size):
        counts = _pair_table(labels, key.labels, step, key.n + 1, table)
        pairs = np.flatnonzero(counts)
        counts = counts[pairs]
    else:
        a, b = labels[::step, ::step].ravel(), key.labels[::step, ::step].ravel()
        both = (a > 0) & (b > 0)
        pair_type = np.int32 if table < 2**31 else np.int64
        codes = a[both].astype(pair_type) * pair_type(key.n + 1) + b[both]
        if table <= PAIR_TABLE:
            counts = np.bincount(codes, minlength=table)
            pairs = np.flatnonzero(counts)
            counts = counts[pairs]
        else:
            pairs, counts = np.unique(codes, return_counts=True)
    pairs = pairs.astype(np.int64)
    in_frame, in_key = pairs // (key.n + 1), pairs % (key.n + 1)
    candidate = np.zeros(n + 1, np.int64)                          # each frame region's key majority
    frame_ids, key_ids = most_common(in_frame, in_key, counts)
    candidate[frame_ids] = key_ids
    container = np.zeros(key.n + 1, np.int64)                      # each key region's frame majority
    key_ids, frame_ids = most_common(in_key, in_frame, counts)
    container[key_ids] = frame_ids
    # The full-size counts in one pass: each region's pixels inside its candidate, and the share of each
    # region's drawn outline the other drawing also has ink along (near 1 for a region still drawn
    # there, near 0 for one gone from there).
    counts = (_match_counts if worth_compiling(labels.size) else _match_counts_numpy)(
        labels, key.labels, candidate, frame.inner, key.inner, frame.inked, key.inked, n, key.n)
    overlap, frame_total, frame_drawn, key_total, key_drawn = (c.astype(np.float64) for c in counts)
    area, key_area = frame.area, key.area[candidate]
    apart = (area - overlap) + (key_area - overlap)
    band = band_px * 0.5 * (frame.outline_length + key.outline_length[candidate])
    kept = ((candidate > 0) & (overlap >= min_cover * area) & (overlap >= min_cover * key_area)
            & (apart <= band))
    kept[0] = False
    counterpart = np.where(kept, candidate, 0)
    # Merges: key regions still drawn in the frame but inside frame region r besides its
    # counterpart; frame regions drawn in the key but inside r's counterpart besides r.
    still_drawn = key_drawn / np.maximum(key_total, 1.0) >= 0.5                      # (key.n + 1,)
    was_drawn = frame_drawn / np.maximum(frame_total, 1.0) >= 0.5                    # (n + 1,)
    swallowed = np.bincount(container[1:], weights=still_drawn[1:], minlength=n + 1)   # per frame region
    claims = np.bincount(candidate[1:], weights=was_drawn[1:], minlength=key.n + 1)    # per key region
    own = np.where(container[counterpart] == np.arange(n + 1), still_drawn[counterpart], False)
    merged = (swallowed > own) | (claims[counterpart] > was_drawn)
    return Match(counterpart, merged & kept)


@kernel(nogil=True)
def _pair_table(labels, key_labels, step, key_span, size):  # pragma: no cover
    # (H, W) int32 x2, int x3 -> (size,) int64: on the grid [::step, ::step], each pixel in a region of both drawings
    # counted at label * key_span + key label (``np.bincount`` of ``match``'s codes, without their arrays).
    h, w = labels.shape
    counts = np.zeros(size, np.int64)
    for y in range(0, h, step):
        for x in range(0, w, step):
            a = labels[y, x]
            b = key_labels[y, x]
            if a > 0 and b > 0:
                counts[a * key_span + b] += 1
    return counts


def held_pixels(frame: FrameDrawing, key: KeyDrawing, min_cover: float = MIN_COVER,
                band_px: float = BAND_PX) -> np.ndarray:
    """bool (H, W): the frame's pixels held from ``key`` whose key paint holds none of its ink."""
    return _held_take(frame, key, min_cover, band_px).view(bool)


def _held_take(frame: FrameDrawing, key: KeyDrawing, min_cover: float, band_px: float) -> np.ndarray:
    """uint8 (H, W), 1 where ``held_pixels`` is True and 0 elsewhere."""
    m = match(frame, key, min_cover, band_px)
    codes = _held_codes if worth_compiling(frame.labels.size) else _held_codes_numpy
    take, leaky = codes(frame.labels, key.labels, key.paper, m.counterpart, m.merged)   # (H, W) uint8
    if leaky:
        # Where a leak joined two things, only pixels whose nearest outline is the same in both.
        apart = (frame.outline - key.outline).astype(np.float32)                   # (2, H, W)
        near = apart[0] ** 2 + apart[1] ** 2 <= band_px ** 2
        joined = take == 2
        take[joined] = near[joined]
    return take


def paste_held(fill: np.ndarray, frame: FrameDrawing, keys: Sequence[KeyDrawing], index: int,
               min_cover: float = MIN_COVER, band_px: float = BAND_PX) -> np.ndarray:
    """``fill`` (uint8 (H, W, 3), the frame's paint) with every held pixel replaced by its key's
    paint; where several keys hold a pixel, the nearest in time (then the earlier) wins. The
    frame's strokes whose nearest bare paper is held take that paper's paint, so the ink goes on
    top of the colour it bounds, not of a guess."""
    return paste_held_with_mask(fill, frame, keys, index, min_cover, band_px)[0]


def held_mask(frame: FrameDrawing, keys: Sequence[KeyDrawing], min_cover: float = MIN_COVER,
              band_px: float = BAND_PX) -> np.ndarray:
    """bool (H, W): the pixels ``paste_held`` takes from some key (its paint there is a key's, as painted),
    the strokes painted with held paper's paint included."""
    held = np.zeros(frame.labels.shape, bool)
    for key in keys:
        held |= held_pixels(frame, key, min_cover, band_px)
    return held | _under_held_ink(frame, held)


def _under_held_ink(frame: FrameDrawing, held: np.ndarray) -> np.ndarray:
    """bool (H, W): stroke pixels whose nearest bare paper is held (they take that paper's paint)."""
    if not (held.any() and frame.paper.any()):
        return np.zeros(held.shape, bool)
    return ~frame.paper & (nearest_values(held.view(np.uint8), frame.paper) > 0)


def paste_held_with_mask(fill: np.ndarray, frame: FrameDrawing, keys: Sequence[KeyDrawing], index: int,
                         min_cover: float = MIN_COVER, band_px: float = BAND_PX) -> tuple[np.ndarray, np.ndarray]:
    """``paste_held`` and ``held_mask`` at once (each key matched once): (uint8 (H, W, 3), bool (H, W))."""
    check_array(fill, "fill", np.uint8, frame.labels.shape + (3,))
    out = fill.copy()
    held_any = np.zeros(frame.labels.shape, bool)
    paste = _paste_where if worth_compiling(held_any.size) else _paste_where_numpy
    for key in sorted(keys, key=lambda k: (abs(k.index - index), k.index), reverse=True):  # nearest last
        paste(out, held_any, _held_take(frame, key, min_cover, band_px), key.paint)  # in place
    if held_any.any() and frame.paper.any():
        # Each stroke pixel (ink, anti-aliased edge) takes the paint of its nearest bare paper, when
        # that paper is held.
        under_ink = _paste_under_ink(out, held_any, frame.paper)                   # in place; (H, W) bool
        return out, held_any | under_ink
    return out, held_any


SAME_INK = 24  # normalised line art (ink 0..120, paper 255) this close around a pixel: the same stroke, as drawn


def same_drawing(frame_lines: np.ndarray, key_lines: np.ndarray, tolerance: int = SAME_INK) -> np.ndarray:
    """bool (H, W): where the frame's drawing is the key's, ink and all: within ``tolerance`` levels of the
    normalised line art at the pixel and its eight neighbours (a stroke moved by one pixel, or drawn in one
    and not the other, differs by at least 135 there: ink is at most ``INK_LEVEL``, paper 255)."""
    check_array(frame_lines, "frame lines", np.uint8, ("H", "W"))
    check_array(key_lines, "key lines", np.uint8, frame_lines.shape)
    apart = cv2.dilate(cv2.absdiff(frame_lines, key_lines), np.ones((3, 3), np.uint8))   # (H, W) uint8
    return apart <= tolerance


def is_same_drawing(frame_lines: np.ndarray, other_lines: np.ndarray, tolerance: int = SAME_INK) -> bool:
    """Whether two frames show one drawing, stroke for stroke: ``same_drawing`` everywhere (a video codec's
    noise of a few levels moves no stroke; a stroke moved by one pixel, or added, differs by at least 135)."""
    check_array(frame_lines, "frame lines", np.uint8, ("H", "W"))
    check_array(other_lines, "other lines", np.uint8, frame_lines.shape)
    return int(cv2.absdiff(frame_lines, other_lines).max()) <= tolerance


def finish_held(ink: np.ndarray, held: np.ndarray, fill: np.ndarray, frame_lines: np.ndarray,
                keys: Sequence[tuple[KeyDrawing, np.ndarray]], index: int) -> np.ndarray:
    """Where a held pixel's drawing is a key's drawing exactly (``same_drawing``), the key as finished: the ink
    layer ``ink`` (uint8 (H, W, 4), in place) holds the key's own pixel there, opaque, on a stroke, and nothing
    on paper, so ink over the paint flattens to the key.

    The key is the artist's own finished frame of that very drawing (a held cel, a background that never
    moves), its strokes as the artist finished them (recoloured to the fill beside them, darkened) and its
    paper without the pencil's grain, so nothing there is lacvid's to redraw. The strokes stay in the ink
    layer (``--layers``), in the key's colours. A stroke pixel's 3x3 neighbourhood holds ink, so a key whose
    drawing coincides there has that very stroke; held paper is finished only from the key whose paint it
    took (``fill``, uint8 (H, W, 3), the frame's paint with the held pixels pasted: that key's paint there).
    ``keys``: each key's drawing and its line art (uint8 (H, W)); where several qualify, the nearest in time
    (then the earlier). Returns bool (H, W): the pixels finished so."""
    check_array(ink, "ink", np.uint8, held.shape + (4,))
    check_array(fill, "fill", np.uint8, held.shape + (3,))
    done = np.zeros(held.shape, bool)
    if not held.any():
        return done
    for key, lines in sorted(keys, key=lambda k: (abs(k[0].index - index), k[0].index), reverse=True):  # nearest last
        check_array(lines, "key lines", np.uint8, held.shape)
        if worth_compiling(held.size):
            _finish_held_kernel(ink, held, fill, frame_lines, key.paint, lines, SAME_INK, CLEAN_PAPER, done)
        else:
            _finish_held_numpy(ink, held, fill, frame_lines, key.paint, lines, done)
    return done


def _finish_held_numpy(ink: np.ndarray, held: np.ndarray, fill: np.ndarray, frame_lines: np.ndarray,
                       key_paint: np.ndarray, key_lines: np.ndarray, done: np.ndarray) -> None:
    """One key's part of ``finish_held`` as NumPy computes it, in place (frames too small to compile it for)."""
    same = held & same_drawing(frame_lines, key_lines)                                  # (H, W)
    paper = bare_paper(frame_lines)
    strokes = same & ~paper
    ink[strokes, :3] = key_paint[strokes]
    ink[strokes, 3] = 255
    cleared = same & paper & (fill == key_paint).all(-1)
    ink[cleared, 3] = 0
    done |= strokes | cleared


@kernel(nogil=True)
def _finish_held_kernel(ink, held, fill, frame_lines, key_paint, key_lines, tolerance, clean_paper,
                        done):  # pragma: no cover
    # _finish_held_numpy: same_drawing's 3x3 largest difference read where a pixel is held (cv2.dilate leaves out
    # what lies beyond the frame's edge), then the stroke or the paper test. The 3x3 largest is taken in two
    # steps, each pixel's largest across its row's three neighbours once (on the rows a held pixel reads), then
    # three of those a held pixel: nine pairs of reads a held pixel were most of a still shot's time.
    h, w = held.shape
    across = np.zeros((h, w), np.uint8)
    near = np.zeros(h + 2, np.bool_)  # near[y + 1]: row y lies within one row of a held pixel
    for y in range(h):
        for x in range(w):
            if held[y, x]:
                near[y] = near[y + 1] = near[y + 2] = True
                break
    diff = np.empty(w, np.uint8)
    for y in range(h):
        if not near[y + 1]:
            continue
        for x in range(w):
            a, b = frame_lines[y, x], key_lines[y, x]
            diff[x] = a - b if a > b else b - a
        for x in range(w):
            m = diff[x]
            if x > 0 and diff[x - 1] > m:
                m = diff[x - 1]
            if x < w - 1 and diff[x + 1] > m:
                m = diff[x + 1]
            across[y, x] = m
    for y in range(h):
        for x in range(w):
            if not held[y, x]:
                continue
            apart = np.int32(across[y, x])
            if y > 0 and across[y - 1, x] > apart:
                apart = np.int32(across[y - 1, x])
            if y < h - 1 and across[y + 1, x] > apart:
                apart = np.int32(across[y + 1, x])
            if apart > tolerance:
                continue
            if frame_lines[y, x] < clean_paper:  # a stroke: the key's finished pixel, opaque
                ink[y, x, 0] = key_paint[y, x, 0]
                ink[y, x, 1] = key_paint[y, x, 1]
                ink[y, x, 2] = key_paint[y, x, 2]
                ink[y, x, 3] = 255
            elif (fill[y, x, 0] == key_paint[y, x, 0] and fill[y, x, 1] == key_paint[y, x, 1]
                  and fill[y, x, 2] == key_paint[y, x, 2]):
                ink[y, x, 3] = 0  # this key's paper: no grain over it
            else:
                continue  # paper another key holds
            done[y, x] = True


def _paste_under_ink(out: np.ndarray, held: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """Every stroke pixel (not ``paper``) whose nearest bare paper is ``held`` takes that paper's paint, in
    place in ``out`` (uint8 (H, W, 3)); returns bool (H, W): those pixels."""
    if not worth_compiling(paper.size):
        nearest = nearest_values(np.dstack([out, held.view(np.uint8)]), paper)     # (H, W, 4)
        under_ink = ~paper & (nearest[..., 3] > 0)
        out[under_ink] = nearest[..., :3][under_ink]
        return under_ink
    return _paste_under_ink_kernel(nearest_source_index(paper), np.ascontiguousarray(paper), out,
                                   np.ascontiguousarray(held))


@kernel(nogil=True)
def _paste_under_ink_kernel(nearest, paper, out, held):  # pragma: no cover
    # ``_paste_under_ink`` in one pass, without the (H, W, 4) stack and gather: nearest (H, W) int32 is where
    # each pixel's nearest paper pixel lies (``nearest_source_index``: y * w + x).
    h, w = nearest.shape
    under = np.zeros((h, w), np.bool_)
    for y in range(h):
        for x in range(w):
            if not paper[y, x]:
                j = nearest[y, x]
                sy = j // w
                sx = j - sy * w
                if held[sy, sx]:  # a paper pixel: never written here, so read as it was
                    out[y, x, 0] = out[sy, sx, 0]
                    out[y, x, 1] = out[sy, sx, 1]
                    out[y, x, 2] = out[sy, sx, 2]
                    under[y, x] = True
    return under
