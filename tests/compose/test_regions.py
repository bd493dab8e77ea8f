"""Regions of line art: counts on drawn shapes, gap closing, and the checked Numba wrappers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lacvid.compose.regions import (
    fill_ink_labels,
    grow_labels,
    label_regions,
    region_palette_votes,
)


def drawing(gap: int = 0) -> np.ndarray:
    """A rectangle (with a gap of ``gap`` px in its left side) and a circle: 3 regions when closed."""
    lines = np.full((100, 160), 255, np.uint8)  # (H, W) paper
    cv2.rectangle(lines, (10, 10), (60, 60), 0, 2)
    cv2.circle(lines, (110, 50), 30, 0, 2, lineType=cv2.LINE_AA)
    if gap:
        lines[30 : 30 + gap, 9:12] = 255
    return lines


def test_two_shapes_give_three_regions_and_ink_is_zero() -> None:
    lines = drawing()
    labels, n = label_regions(lines)
    assert n == 3  # outside, inside the rectangle, inside the circle
    assert labels.dtype == np.int32 and labels.shape == lines.shape
    np.testing.assert_array_equal(labels == 0, lines < 128)
    assert labels[35, 35] != labels[50, 110] != labels[5, 5] != labels[35, 35]


@pytest.mark.parametrize("gap", [1, 2])
def test_small_gap_is_closed(gap: int) -> None:
    lines = drawing(gap)
    assert label_regions(lines, close_gaps=0)[1] == 2  # the rectangle leaks into the outside
    labels, n = label_regions(lines, close_gaps=2)
    assert n == 3
    assert labels[35, 35] != labels[5, 5]
    assert (labels > 0).sum() == (lines >= 128).sum()  # every paper pixel still has a region


def test_wide_gap_stays_open() -> None:
    assert label_regions(drawing(6), close_gaps=2)[1] == 2


def test_thin_strip_survives_gap_closing() -> None:
    lines = np.full((40, 60), 255, np.uint8)
    lines[20, :] = 0
    lines[23, :] = 0  # a 2-px strip between two strokes: thinner than the closing disc
    labels, n = label_regions(lines, close_gaps=2, min_area=4)
    assert n == 3
    assert len(np.unique(labels[21:23])) == 1 and labels[21, 30] not in (labels[5, 5], labels[35, 5])


def test_tiny_region_merges_into_a_neighbour() -> None:
    lines = np.full((40, 40), 255, np.uint8)
    cv2.rectangle(lines, (10, 10), (13, 13), 0, 1)  # encloses a 2x2 speck
    assert label_regions(lines, close_gaps=0, min_area=1)[1] == 2
    labels, n = label_regions(lines, close_gaps=0, min_area=8)
    assert n == 1 and labels[11, 11] == 1


def test_fill_ink_labels_gives_ink_its_neighbours_label() -> None:
    labels, n = label_regions(drawing())
    filled = fill_ink_labels(labels)
    assert filled.min() == 1 and filled.max() == n
    np.testing.assert_array_equal(filled[labels > 0], labels[labels > 0])


def test_palette_votes_match_numpy_and_thread_counts() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 6, (37, 53)).astype(np.int32)
    index = rng.integers(0, 4, (37, 53)).astype(np.int32)
    weights = rng.random((37, 53)).astype(np.float32)
    want = np.zeros((6, 4))
    np.add.at(want, (labels[labels > 0], index[labels > 0]), weights[labels > 0])
    for threads in (1, 2):
        np.testing.assert_allclose(region_palette_votes(labels, index, weights, 5, 4, threads), want, rtol=1e-6)



def test_grow_labels_never_crosses_ink() -> None:
    seeds = np.zeros((5, 9), np.int32)
    seeds[2, 0] = 1
    seeds[2, 8] = 2
    allowed = np.ones((5, 9), bool)
    allowed[:, 4] = False  # a wall
    out = grow_labels(seeds, allowed)
    assert (out[:, :4] == 1).all() and (out[:, 5:] == 2).all() and (out[:, 4] == 0).all()


def test_wrappers_reject_bad_arrays() -> None:
    labels = np.zeros((8, 8), np.int32)
    index = np.zeros((8, 8), np.int32)
    weights = np.ones((8, 8), np.float32)
    with pytest.raises(ValueError, match="labels"):
        region_palette_votes(labels.astype(np.int64), index, weights, 1, 1)
    with pytest.raises(ValueError, match="shape"):
        region_palette_votes(labels, index[:4], weights, 1, 1)
    with pytest.raises(ValueError, match="weights"):
        region_palette_votes(labels, index, weights.astype(np.float64), 1, 1)
    with pytest.raises(ValueError, match="contiguous"):
        region_palette_votes(labels, np.asfortranarray(np.zeros((8, 9), np.int32))[:, :8], weights, 1, 1)
    with pytest.raises(ValueError, match="index must lie"):
        region_palette_votes(labels, index + 3, weights, 1, 2)
    with pytest.raises(ValueError, match="threads"):
        region_palette_votes(labels, index, weights, 1, 1, threads=0)
    with pytest.raises(ValueError, match="allowed"):
        grow_labels(labels, np.ones((8, 8), np.uint8))
    with pytest.raises(ValueError, match="lines"):
        label_regions(np.zeros((8, 8), np.float32))
    with pytest.raises(ValueError, match="lines"):
        label_regions(np.zeros((8, 8, 3), np.uint8))


@pytest.mark.parametrize("threads", [1, 2])
def test_sampled_votes_equal_the_votes_of_the_upsampled_maps_bit_for_bit(threads: int) -> None:
    """Votes summed along runs of one (region, entry) cell are the per-pixel sums of the enlarged index and
    trust * weight, to the last bit: the same additions in the same order."""
    from lacvid.compose.regions import nearest_maps, sampled_palette_votes

    rng = np.random.default_rng(9)
    H, W, h, w = 48, 80, 12, 20
    labels = np.repeat(rng.integers(0, 6, (H, W // 8)), 8, axis=1).astype(np.int32)         # runs across cells
    labels[rng.random((H, W)) < 0.05] = 0                                                    # ink breaking runs
    index = rng.integers(0, 4, (h, w)).astype(np.int32)
    weight = rng.random((h, w)).astype(np.float32)
    trust = rng.random((H, W)).astype(np.float32)
    iy, ix = nearest_maps(index.shape, labels.shape)
    index_full = np.ascontiguousarray(index[iy][:, ix])                                      # (H, W)
    weights_full = trust * weight[iy][:, ix]                                                 # float32 product
    want = region_palette_votes(labels, index_full, np.ascontiguousarray(weights_full), 5, 4, threads)
    got = sampled_palette_votes(labels, trust, index, weight, 5, 4, threads)
    np.testing.assert_array_equal(got, want)


def _walled_case(rng: np.random.Generator, shape: tuple[int, int], specks: int,
                 wall: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels (int32 (H, W), 0 on ink) of random regions under random strokes ``wall`` px thick, and ``specks`` lost
    paper specks (bool (H, W)) inside ink blobs: some far from every region, some at the frame's edge."""
    h, w = shape
    seeds = rng.integers(0, [h, w], (12, 2))
    yy, xx = np.mgrid[0:h, 0:w]
    d = (yy[..., None] - seeds[:, 0]) ** 2 + (xx[..., None] - seeds[:, 1]) ** 2             # (H, W, 12)
    labels = (d.argmin(-1) + 1).astype(np.int32)
    ink = np.zeros(shape, np.uint8)
    for _ in range(8):
        a, b = rng.integers(0, [w, h], 2), rng.integers(0, [w, h], 2)
        cv2.line(ink, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), 1, int(rng.integers(1, 4)))
    lost = np.zeros(shape, bool)
    for i in range(specks):
        y, x = (0, int(rng.integers(0, w))) if i % 5 == 0 else (int(rng.integers(0, h)), int(rng.integers(0, w)))
        r = int(rng.integers(1, wall))
        cv2.circle(ink, (x, y), r + int(rng.integers(1, wall)), 1, -1)   # a blob of ink ...
        cv2.circle(lost.view(np.uint8), (x, y), max(0, r // 3), 1, -1)   # ... around a speck of paper
    labels[ink > 0] = 0
    lost &= True
    labels[lost] = 0
    return labels, lost


@pytest.mark.parametrize("shape,specks,wall", [((90, 140), 6, 6), ((90, 140), 3, 40), ((600, 700), 9, 12),
                                               ((600, 700), 40, 30),
                                               ((120, 160), 300, 3)])
def test_walled_in_specks_take_the_nearest_region_as_the_whole_frame_transform_gives(shape, specks, wall) -> None:
    """``_fill_walled_in`` fills each speck from a crop: the same labels as the whole frame's nearest-region transform
    (OpenCV's on small frames, the kernel on large ones; crops far from every region grow; many specks: whole)."""
    from lacvid.compose.regions import _fill_walled_in
    from lacvid.preprocess.distance import nearest_values

    rng = np.random.default_rng(sum(shape) + specks + wall)
    for _ in range(3):
        labels, lost = _walled_case(rng, shape, specks, wall)
        expected = np.where(lost, nearest_values(labels, labels > 0), labels)
        got = labels.copy()
        _fill_walled_in(got, *np.nonzero(lost))
        assert np.array_equal(got, expected)
        assert (got[lost] > 0).all()


def test_walled_in_specks_with_no_region_anywhere_stay_unlabelled() -> None:
    from lacvid.compose.regions import _fill_walled_in

    labels = np.zeros((40, 50), np.int32)
    lost = np.zeros(labels.shape, bool)
    lost[10:12, 20:23] = True
    _fill_walled_in(labels, *np.nonzero(lost))
    assert not labels.any()


def test_many_walled_in_pixels_are_filled_by_one_whole_frame_transform(monkeypatch) -> None:
    from lacvid.compose import regions
    from lacvid.preprocess.distance import nearest_values

    monkeypatch.setattr(regions, "WALLED_MAX_PIXELS", 5)
    labels, lost = _walled_case(np.random.default_rng(5), (90, 140), 6, 6)
    expected = np.where(lost, nearest_values(labels, labels > 0), labels)
    regions._fill_walled_in(labels, *np.nonzero(lost))
    assert np.array_equal(labels, expected)


def _scribble(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Line art full of small regions: crossing strokes, dense hatching, ink blobs with paper specks inside."""
    h, w = shape
    lines = np.full(shape, 255, np.uint8)
    for _ in range(40):
        a, b = rng.integers(0, [w, h], 2), rng.integers(0, [w, h], 2)
        cv2.line(lines, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), 0, int(rng.integers(1, 3)), cv2.LINE_AA)
    for _ in range(6):
        c, r = rng.integers(0, [w, h], 2), int(rng.integers(4, 12))
        cv2.circle(lines, (int(c[0]), int(c[1])), r, 0, -1)
        lines[int(c[1]), int(c[0])] = 255                       # a one-pixel speck walled in by ink
    y, x = int(rng.integers(0, h - 30)), int(rng.integers(0, w - 30))
    lines[y:y + 30:3, x:x + 30] = 0                              # hatching: strips of 2 px
    return lines


def _renumbered(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The labels in use renumbered 1..n in their order, 0 staying 0, and each one's pixel count (NumPy)."""
    used = np.unique(labels[labels > 0])
    out = np.where(labels > 0, np.searchsorted(used, labels) + 1, 0).astype(np.int32)
    return out, np.bincount(out.ravel(), minlength=len(used) + 1)


def _label_regions_reference(lines: np.ndarray, close_gaps: int, min_area: int) -> tuple[np.ndarray, int]:
    """``label_regions`` step by step over whole frames, as it was first written: the paper's components; seeds
    (the paper eroded by a disc) grown over it, a seedless component keeping a label of its own after the
    seeds'; renumbered; small regions dropped and grown over from their neighbours, specks walled in by ink
    given their nearest region; renumbered."""
    from lacvid.preprocess.distance import nearest_values
    from lacvid.preprocess.lines import INK_THRESHOLD, line_mask

    paper = np.ascontiguousarray(~line_mask(lines, INK_THRESHOLD))
    n0, labels = cv2.connectedComponents(paper.view(np.uint8), connectivity=4, ltype=cv2.CV_32S)
    if close_gaps > 0 and n0 > 1:
        r = (close_gaps + 1) // 2
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        ns, seeds = cv2.connectedComponents(cv2.erode(paper.view(np.uint8), disc), connectivity=4, ltype=cv2.CV_32S)
        if ns > 1:
            seeded = np.zeros(n0, bool)
            seeded[labels[seeds > 0]] = True
            orphan = paper & ~seeded[labels]
            seeds[orphan] = labels[orphan] + ns
            labels = grow_labels(seeds, paper)
    labels, counts = _renumbered(labels)
    small = counts < min_area
    small[0] = False
    if min_area > 1 and small.any() and not small[1:].all():
        grown = grow_labels(np.where(small[labels], 0, labels).astype(np.int32), paper)
        lost = paper & (grown == 0)
        labels, counts = _renumbered(np.where(lost, nearest_values(grown, grown > 0), grown))
    return labels, len(counts) - 1


@pytest.mark.parametrize("shape", [(120, 200), (540, 600)])
def test_regions_are_those_of_the_whole_frame_steps(shape) -> None:
    """``label_regions`` (seeds grown and seedless strips numbered in one kernel; small regions merged around
    themselves) gives the labels of the whole-frame steps it replaced, on drawings full of small regions, strips
    thinner than the gap size and walled-in specks, with and without gap closing, small frames and large."""
    rng = np.random.default_rng(shape[0])
    for _ in range(4):
        lines = _scribble(rng, shape)
        lines[5:9, :] = 0
        lines[7, 3:40] = 255                                     # a strip thinner than the gaps closed
        for close_gaps, min_area in ((2, 8), (0, 8), (2, 1), (2, 30), (6, 30), (8, 60)):
            got, n = label_regions(lines, close_gaps=close_gaps, min_area=min_area)
            expected, m = _label_regions_reference(lines, close_gaps, min_area)
            assert n == m
            assert np.array_equal(got, expected)
    blank, n = label_regions(np.full(shape, 255, np.uint8))
    assert n == 1 and (blank == 1).all()
    inked, n = label_regions(np.zeros(shape, np.uint8))
    assert n == 0 and not inked.any()
