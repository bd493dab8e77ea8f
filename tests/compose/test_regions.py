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


def test_renumbering_keeps_the_order_and_counts_every_pixel() -> None:
    """The labels in use renumbered 1..n in their order (0 stays 0) and each one's pixels counted: as a sorted
    ``np.unique`` and a ``np.bincount`` give them, on rows of long runs, single pixels, and unused labels."""
    from lacvid.compose.regions import _relabel

    rng = np.random.default_rng(3)
    labels = np.repeat(rng.choice([0, 3, 7, 8, 40, 41], size=(37, 12)), 5, axis=1).astype(np.int32)  # runs of 5
    labels[::4, ::7] = rng.integers(0, 60, labels[::4, ::7].shape)                               # and lone pixels
    used = np.unique(labels)
    expected = np.searchsorted(used[used > 0], labels) + (labels > 0)                           # 0 -> 0, k-th used -> k
    expected[labels == 0] = 0
    out, counts = _relabel(labels)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(counts, np.bincount(expected.ravel(), minlength=len(used) + (0 not in used)))
    for shape in ((0, 5), (4, 0), (1, 1)):                                                      # empty and tiny
        empty, n = _relabel(np.zeros(shape, np.int32))
        assert empty.shape == shape and n.tolist() == [int(np.prod(shape))]


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
