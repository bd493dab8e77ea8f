"""The ink the propagation matches on, at the matching size: lines keep their own width."""

import numpy as np

from lacvid.pipeline.propagation import INK_BELOW, ink_at_size
from lacvid.preprocess.frame import resize_to
from lacvid.propagate.segments import segment


def two_close_lines(size: int = 100) -> np.ndarray:
    """Paper with two vertical 2-px strokes and a 3-px strip of paper between them (a sleeve's cuff, a strand
    of hair): uint8 (size, size)."""
    lines = np.full((size, size), 255, np.uint8)
    lines[:, 40:42] = 0
    lines[:, 45:47] = 0
    return lines


def test_frames_no_larger_than_the_matching_size_keep_their_ink_as_is():
    lines = np.random.default_rng(0).integers(0, 256, (40, 60), dtype=np.uint8)
    assert np.array_equal(ink_at_size(lines, (40, 60)), lines < INK_BELOW)


def test_a_narrow_strip_between_two_strokes_survives_shrinking_to_about_half():
    # 100 -> 53 px: a 1080 px export matched at 576. Thresholding the area-resized grey ran the two strokes into
    # one band, and the strip (a region of its own) was gone from the matching.
    lines = two_close_lines()
    ink = ink_at_size(lines, (53, 53))
    row = ink[26]
    assert row.sum() == 2                               # each stroke one matching pixel wide, as 2 px at x0.53 are
    first, second = np.flatnonzero(row)
    assert second - first >= 2                          # paper between them
    assert (resize_to(lines, (53, 53))[26] < INK_BELOW).sum() == 4  # the old way: one band of four
    regions = segment(ink, gap_radius=0.5)
    assert regions.labels[26, first + 1] not in (regions.labels[26, first - 3], regions.labels[26, second + 3])


def test_every_stroke_is_kept_and_stays_unbroken():
    # A line one full-size pixel wide at any position still marks every matching row it crosses.
    for column in range(30, 40):
        lines = np.full((120, 120), 255, np.uint8)
        lines[:, column] = 0
        for size in ((64, 64), (90, 90), (100, 100)):
            ink = ink_at_size(lines, size)
            assert ink.any(axis=1).all(), (column, size)
            assert ink.sum(axis=1).max() <= 2, (column, size)


def test_a_faint_broken_pencil_stroke_stays_an_unbroken_line_one_pixel_wide():
    # Two pixels of every three inked, grey 90: shrunk to 0.53 some matching pixels hold less than half a line's
    # share (the share alone would break the stroke there), yet each is the stroke's crest.
    for row in (50, 51):
        lines = np.full((100, 100), 255, np.uint8)
        columns = np.arange(100)
        lines[row, columns[columns % 3 != 0]] = 90
        ink = ink_at_size(lines, (53, 53))
        assert ink.any(axis=0).all(), row     # no gap anywhere along it
        assert ink.sum(axis=0).max() == 1     # and no wider than a matching pixel
        assert ink.sum() == 53
