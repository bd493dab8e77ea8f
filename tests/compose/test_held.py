"""Held drawing: regions the drawing holds still since a key take the key's paint, and only those."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lacvid.compose.held import (
    FrameDrawing,
    KeyDrawing,
    finish_held,
    held_pixels,
    match,
    outline_edges,
    paste_held,
    paste_held_with_mask,
    same_drawing,
)
from lacvid.compose.regions import label_regions
from lacvid.util import kernels

H, W = 120, 160
SKY, HOOD, SHIRT, HAIR, WRONG = (90, 140, 220), (230, 230, 230), (200, 60, 60), (240, 200, 80), (0, 255, 0)


def drawing(box_x: int = 40, hood_gap: bool = False, leak: bool = False) -> np.ndarray:
    """Line art (255 paper, 0 ink): a box (the shirt) at ``box_x`` and a circle (the hood); ``hood_gap``
    opens the hood's outline; ``leak`` opens a gap between the box's two halves (hair and shirt)."""
    lines = np.full((H, W), 255, np.uint8)
    cv2.rectangle(lines, (box_x, 60), (box_x + 40, 110), 0, 2)
    cv2.line(lines, (box_x, 80), (box_x + 40 if not leak else box_x + 30, 80), 0, 2)  # hair above, shirt below
    cv2.circle(lines, (120, 35), 20, 0, 2)
    if hood_gap:
        lines[30:40, 98:104] = 255
    return lines


def paint(lines: np.ndarray, box_x: int = 40) -> np.ndarray:
    """The painted frame: sky everywhere, hair and shirt in the box, the hood in the circle, ink black."""
    img = np.zeros((H, W, 3), np.uint8)
    img[:] = SKY
    img[60:80, box_x:box_x + 40] = HAIR
    img[80:110, box_x:box_x + 40] = SHIRT
    cv2.circle(img, (120, 35), 20, HOOD, -1)
    img[lines < 128] = 0
    return img


def key(index: int, lines: np.ndarray, painted: np.ndarray) -> KeyDrawing:
    return KeyDrawing.of(index, painted, lines, label_regions(lines))


def test_a_held_frame_is_its_key_even_where_a_region_leaks() -> None:
    lines = drawing(leak=True)                      # hair and shirt are one region, in the key as in the frame
    k = key(0, lines, paint(lines))
    labels, n = label_regions(lines)
    frame = FrameDrawing.of(labels, n, lines)
    wrong = np.full((H, W, 3), WRONG, np.uint8)     # what propagation painted: all wrong
    out = paste_held(wrong, frame, [k], index=3)
    assert (out[70, 60] == HAIR).all() and (out[95, 60] == SHIRT).all(), "each part of a leaky region keeps its colour"
    assert (out[10, 10] == SKY).all() and (out[35, 120] == HOOD).all()
    assert held_pixels(frame, k).sum() / (labels > 0).sum() > 0.9, "nearly every region pixel is held"
    ink = lines < 128                                 # under the frame's own ink: the colour the stroke bounds
    assert not (out[ink] == WRONG).all(-1).any()
    assert tuple(out[80, 60]) in (HAIR, SHIRT)


def test_a_moved_region_keeps_its_own_fill() -> None:
    k = key(0, drawing(40), paint(drawing(40)))
    lines = drawing(52)                             # the box moved 12 px: not the same area any more
    frame = FrameDrawing.of(*label_regions(lines), lines)
    held = held_pixels(frame, k)
    assert not held[95, 70], "the moved shirt is not held"
    assert held[35, 120], "the hood did not move"
    out = paste_held(np.full((H, W, 3), WRONG, np.uint8), frame, [k], index=1)
    assert (out[95, 70] == WRONG).all() and (out[35, 120] == HOOD).all()


def test_a_background_that_leaks_into_the_hood_does_not_paint_the_hood() -> None:
    """The frame's hood outline has a gap, so sky and hood are one region in the frame but two in
    the key: the merged region is the key's sky's counterpart, yet inside the hood the frame's
    drawing (the hood's outline, near) is not the key's (open sky): the hood is not held."""
    k = key(0, drawing(), paint(drawing()))
    lines = drawing(hood_gap=True)
    labels, n = label_regions(lines)
    assert labels[10, 10] == labels[35, 120], "the test needs sky and hood merged in the frame"
    frame = FrameDrawing.of(labels, n, lines)
    m = match(frame, k)
    assert m.counterpart[labels[10, 10]] == k.labels[10, 10], "the merged region is the key's sky"
    assert m.merged[labels[10, 10]], "... and a merge: the key's hood lies inside it"
    out = paste_held(np.full((H, W, 3), WRONG, np.uint8), frame, [k], index=1)
    assert (out[35, 120] == WRONG).all(), "the hood must not be painted as sky"
    assert (out[10, 10] == SKY).all(), "the sky itself is held"


def test_the_nearest_key_wins_where_both_hold() -> None:
    lines = drawing()
    early, late = paint(lines), paint(lines)
    late[80:110, 40:80][lines[80:110, 40:80] > 128] = (10, 10, 200)   # the later key repaints the shirt
    keys = [key(0, lines, early), key(10, lines, late)]
    frame = FrameDrawing.of(*label_regions(lines), lines)
    fill = np.full((H, W, 3), WRONG, np.uint8)
    assert (paste_held(fill, frame, keys, index=2)[95, 60] == SHIRT).all()
    assert (paste_held(fill, frame, keys, index=8)[95, 60] == (10, 10, 200)).all()


def _old_held_pixels(frame: FrameDrawing, k: KeyDrawing) -> np.ndarray:
    """The NumPy form ``held_pixels`` had before its one-pass kernels (``match`` included)."""
    from lacvid.compose.held import BAND_PX, MIN_COVER, SAMPLES
    from lacvid.util.arrays import most_common

    def drawn_share(edge, labels, n, other_inked):
        total = np.bincount(labels[edge], minlength=n + 1).astype(np.float64)
        drawn = np.bincount(labels[edge & other_inked], minlength=n + 1).astype(np.float64)
        return drawn / np.maximum(total, 1.0)

    labels, n = frame.labels, frame.n
    step = max(1, int(np.sqrt(labels.size / SAMPLES)))
    a, b = labels[::step, ::step].ravel(), k.labels[::step, ::step].ravel()
    both = (a > 0) & (b > 0)
    pairs, counts = np.unique(a[both].astype(np.int64) * (k.n + 1) + b[both], return_counts=True)
    in_frame, in_key = pairs // (k.n + 1), pairs % (k.n + 1)
    candidate = np.zeros(n + 1, np.int64)
    frame_ids, key_ids = most_common(in_frame, in_key, counts)
    candidate[frame_ids] = key_ids
    container = np.zeros(k.n + 1, np.int64)
    key_ids, frame_ids = most_common(in_key, in_frame, counts)
    container[key_ids] = frame_ids
    shared = (k.labels == candidate[labels]) & (labels > 0)
    overlap = np.bincount(labels[shared], minlength=n + 1).astype(np.float64)
    area, key_area = frame.area, k.area[candidate]
    apart = (area - overlap) + (key_area - overlap)
    band = BAND_PX * 0.5 * (frame.outline_length + k.outline_length[candidate])
    kept = ((candidate > 0) & (overlap >= MIN_COVER * area) & (overlap >= MIN_COVER * key_area) & (apart <= band))
    kept[0] = False
    counterpart = np.where(kept, candidate, 0)
    still_drawn = drawn_share(k.inner, k.labels, k.n, frame.inked) >= 0.5
    was_drawn = drawn_share(frame.inner, labels, n, k.inked) >= 0.5
    swallowed = np.bincount(container[1:], weights=still_drawn[1:], minlength=n + 1)
    claims = np.bincount(candidate[1:], weights=was_drawn[1:], minlength=k.n + 1)
    own = np.where(container[counterpart] == np.arange(n + 1), still_drawn[counterpart], False)
    merged = ((swallowed > own) | (claims[counterpart] > was_drawn)) & kept
    matched = (counterpart[labels] > 0) & (k.labels == counterpart[labels])
    held = matched & k.paper
    leaky = held & merged[labels]
    if leaky.any():
        d = (frame.outline - k.outline).astype(np.float32)
        held &= ~leaky | (d[0] ** 2 + d[1] ** 2 <= BAND_PX ** 2)
    return held


@pytest.mark.parametrize("min_pixels", [0, 1 << 40])   # the kernels, and the NumPy forms small frames run
def test_held_pixels_and_pasting_equal_the_numpy_form(monkeypatch, min_pixels: int) -> None:
    """The one-pass kernels (``_match_counts``, ``_held_codes``, ``_paste_where``) give the bits the
    whole-frame NumPy form gave: held, moved, leaking and gap-opened drawings against two keys."""
    monkeypatch.setattr(kernels, "KERNEL_MIN_PIXELS", min_pixels)
    keys = [key(0, drawing(), paint(drawing())), key(9, drawing(leak=True), paint(drawing(leak=True)))]
    rng = np.random.default_rng(3)
    for lines in (drawing(), drawing(box_x=46), drawing(leak=True), drawing(hood_gap=True),
                  drawing(box_x=43, hood_gap=True, leak=True)):
        frame = FrameDrawing.of(*label_regions(lines), lines)
        fill = rng.integers(0, 255, (H, W, 3)).astype(np.uint8)
        expected = fill.copy()
        for k in sorted(keys, key=lambda k: (abs(k.index - 4), k.index), reverse=True):
            old = _old_held_pixels(frame, k)
            np.testing.assert_array_equal(held_pixels(frame, k), old)
            expected[old] = k.paint[old]
        np.testing.assert_array_equal(paste_held(fill, frame, keys, index=4)[lines >= 250], expected[lines >= 250])


def test_stroke_pixels_take_held_paper_paint_the_same_in_the_kernel_and_the_numpy_form(monkeypatch) -> None:
    """The stroke pixels under held paper (``_paste_under_ink``): the kernel gives the whole frame, strokes
    included, and the held mask bit for bit as the NumPy form (a stack of paint and mask gathered from the
    nearest paper pixel) does."""
    keys = [key(0, drawing(), paint(drawing())), key(9, drawing(leak=True), paint(drawing(leak=True)))]
    rng = np.random.default_rng(5)
    pasted_any = 0
    for lines in (drawing(), drawing(box_x=46), drawing(leak=True), drawing(box_x=43, hood_gap=True, leak=True)):
        frame = FrameDrawing.of(*label_regions(lines), lines)
        fill = rng.integers(0, 255, (H, W, 3)).astype(np.uint8)
        got = []
        for min_pixels in (0, 1 << 40):
            monkeypatch.setattr(kernels, "KERNEL_MIN_PIXELS", min_pixels)
            got.append(paste_held_with_mask(fill, frame, keys, index=4))
        np.testing.assert_array_equal(got[0][0], got[1][0])
        np.testing.assert_array_equal(got[0][1], got[1][1])
        strokes = ~frame.paper & got[0][1]
        pasted_any += int(strokes.sum())
        assert not np.array_equal(got[0][0][strokes], fill[strokes]) or not strokes.any()
    assert pasted_any > 0  # some stroke pixels did take held paper's paint


@pytest.mark.parametrize("min_pixels", [0, 1 << 40])   # the one-pass kernel, and the NumPy form small frames run
def test_region_areas_and_outline_lengths_are_the_bincounts(monkeypatch, min_pixels: int) -> None:
    """A drawing's ``area`` and ``outline_length`` are ``np.bincount`` of its labels, on the whole frame and on
    its outlines."""
    monkeypatch.setattr(kernels, "KERNEL_MIN_PIXELS", min_pixels)
    for lines in (drawing(), drawing(leak=True), drawing(box_x=43, hood_gap=True), np.full((H, W), 255, np.uint8)):
        labels, n = label_regions(lines)
        frame = FrameDrawing.of(labels, n, lines)
        np.testing.assert_array_equal(frame.area, np.bincount(labels.ravel(), minlength=n + 1).astype(np.float64))
        edge = outline_edges(labels)[0]
        np.testing.assert_array_equal(frame.outline_length, np.bincount(labels[edge], minlength=n + 1))
        assert frame.area.dtype == frame.outline_length.dtype == np.float64 and len(frame.area) == n + 1


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (6, 1), (37, 53)])
def test_outlines_in_one_pass_equal_the_numpy_form(monkeypatch, shape) -> None:
    """``outline_edges``' kernel gives its NumPy form's outlines and inner outlines bit for bit: labels of a few
    regions with ink between, single rows and columns, the frame's edge."""
    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    labels = (rng.integers(0, 4, shape) * (rng.random(shape) > 0.2)).astype(np.int32)
    labels[shape[0] // 2:, : shape[1] // 2] = 2                                # a run of one region as well
    got = []
    for min_pixels in (0, 1 << 40):
        monkeypatch.setattr(kernels, "KERNEL_MIN_PIXELS", min_pixels)
        got.append(outline_edges(labels))
    for kernel_form, numpy_form in zip(*got):
        np.testing.assert_array_equal(kernel_form, numpy_form)


def test_inked_is_the_distance_transform_within_the_band() -> None:
    """``inked`` dilates the ink by the 3x3 distance's own disc: exactly ``distanceTransform <= BAND_PX``."""
    from lacvid.compose.held import BAND_PX

    rng = np.random.default_rng(1)
    for lines in (drawing(), drawing(hood_gap=True), np.where(rng.random((H, W)) < 0.02, 0, 255).astype(np.uint8),
                  np.full((H, W), 255, np.uint8)):
        frame = FrameDrawing.of(*label_regions(lines), lines)
        expected = cv2.distanceTransform(frame.paper.view(np.uint8), cv2.DIST_L2, 3) <= BAND_PX
        np.testing.assert_array_equal(frame.inked, expected)


@pytest.mark.parametrize("min_pixels", [0, 1 << 40])   # the kernel, and the NumPy form small frames take
def test_a_held_drawing_is_finished_as_its_key_strokes_included(monkeypatch, min_pixels: int) -> None:
    """Where the frame's drawing is the key's, strokes and all, the finished frame is the key: its strokes as
    the artist finished them (here recoloured dark blue), in the ink layer, not the pencil drawn over the paint;
    where a stroke moved (the box), the frame's own ink stays, and held paper is finished only from the key that
    holds it. The paint layer is left as it was (white paper transparent)."""
    from lacvid.compose.layers import Layers, paint_layer

    monkeypatch.setattr(kernels, "KERNEL_MIN_PIXELS", min_pixels)
    still, moved = drawing(40), drawing(52)
    finished = paint(still)
    finished[still < 128] = (20, 30, 120)                        # the artist's strokes, recoloured
    k = key(0, still, finished)
    other = key(9, still, np.full((H, W, 3), WRONG, np.uint8))  # holds nothing here, has the same strokes
    frame = FrameDrawing.of(*label_regions(moved), moved)
    fill, held = paste_held_with_mask(np.full((H, W, 3), (200, 200, 200), np.uint8), frame, [k], index=1)
    pencil = np.zeros((H, W, 4), np.uint8)
    pencil[..., 3] = np.where(moved < 128, 200, 3)               # the frame's grey pencil, faint grain on paper
    layers = Layers(paint_layer(fill), pencil.copy())
    before = layers.paint.copy()
    done = finish_held(layers.ink, held, fill, moved, [(k, still), (other, still)], index=1)
    out = layers.flatten()
    hood_stroke = (35, 100)                                      # on the hood's outline: it did not move
    assert moved[hood_stroke] < 128 and done[hood_stroke]
    assert (out[hood_stroke] == (20, 30, 120)).all() and (layers.ink[hood_stroke] == (20, 30, 120, 255)).all()
    assert (out[10, 10] == SKY).all() and layers.ink[10, 10][3] == 0, "held paper without the frame's grain"
    box_stroke = (100, 52)                                       # the moved box's outline: the frame's own ink
    assert moved[box_stroke] < 128 and not done[box_stroke] and layers.ink[box_stroke][3] == 200
    assert np.array_equal(layers.paint, before) and not (out == WRONG).all(-1).any()
    assert not finish_held(layers.ink, np.zeros((H, W), bool), fill, moved, [(k, still)], 1).any()
    assert same_drawing(still, still).all() and not same_drawing(moved, still)[100, 52]


def test_finishing_held_pixels_is_the_same_in_the_kernel_and_the_numpy_form(monkeypatch) -> None:
    """Random drawings and paint, two keys: ``finish_held``'s one-pass kernel and its NumPy form (small frames)
    give the same ink layer and the same pixels, bit for bit."""
    rng = np.random.default_rng(8)
    lines = np.where(rng.random((H, W)) < 0.2, rng.integers(0, 121, (H, W)), 255).astype(np.uint8)
    keys = []
    for index in (0, 7):
        key_lines = lines.copy()
        key_lines[rng.random((H, W)) < 0.05] = rng.integers(0, 256)
        painted = rng.integers(0, 4, (H, W, 3)).astype(np.uint8) * 60
        keys.append((KeyDrawing.of(index, painted, key_lines, label_regions(key_lines)), key_lines))
    held = rng.random((H, W)) < 0.7
    fill = np.where(rng.random((H, W, 1)) < 0.5, keys[0][0].paint, keys[1][0].paint).astype(np.uint8)
    start = rng.integers(0, 256, (H, W, 4)).astype(np.uint8)
    got = []
    for min_pixels in (0, 1 << 40):
        monkeypatch.setattr(kernels, "KERNEL_MIN_PIXELS", min_pixels)
        ink = start.copy()
        got.append((ink, finish_held(ink, held, fill, lines, keys, index=5)))
    (i0, d0), (i1, d1) = got
    assert d0.any() and (~d0 & held).any() and (i0[..., 3] == 0).any() and (i0[..., 3] == 255).any()
    np.testing.assert_array_equal(d0, d1)
    np.testing.assert_array_equal(i0, i1)


def test_the_pairs_counted_in_a_table_match_as_the_sorted_count_does(monkeypatch) -> None:
    """``match`` counts its sampled (frame region, key region) pairs in a table where they fit (``PAIR_TABLE``)
    and by ``np.unique``'s sort where they do not: the same counterparts and merges either way, on held, moved,
    leaking and gap-opened drawings against a key with a leak."""
    from lacvid.compose import held

    k = key(9, drawing(leak=True), paint(drawing(leak=True)))
    drawings = [drawing(), drawing(box_x=46), drawing(leak=True), drawing(hood_gap=True),
                drawing(box_x=43, hood_gap=True, leak=True)]
    frames = [FrameDrawing.of(*label_regions(lines), lines) for lines in drawings]
    tabled = [match(frame, k) for frame in frames]
    monkeypatch.setattr(held, "PAIR_TABLE", 0)                   # every count by the sort
    for frame, got in zip(frames, tabled):
        sorted_ = match(frame, k)
        np.testing.assert_array_equal(got.counterpart, sorted_.counterpart)
        np.testing.assert_array_equal(got.merged, sorted_.merged)
    assert any(m.counterpart[1:].any() for m in tabled)          # the drawings do match regions of the key


def test_sampled_region_pairs_are_counted_as_the_bincount_of_their_codes() -> None:
    """``_pair_table``: on the grid [::step, ::step], the pixels in a region of both drawings counted per (frame
    region, key region), as ``np.bincount`` of ``label * (key regions + 1) + key label`` (ink, 0, counts nothing)."""
    from lacvid.compose.held import _pair_table

    rng = np.random.default_rng(11)
    for shape, step in (((37, 53), 1), ((64, 90), 2), ((101, 77), 3)):
        a = rng.integers(0, 6, shape, dtype=np.int32)
        b = rng.integers(0, 9, shape, dtype=np.int32)
        sa, sb = a[::step, ::step].ravel(), b[::step, ::step].ravel()
        both = (sa > 0) & (sb > 0)
        want = np.bincount(sa[both] * 9 + sb[both], minlength=6 * 9)
        np.testing.assert_array_equal(_pair_table(a, b, step, 9, 6 * 9), want)
