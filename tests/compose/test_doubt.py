"""``lacvid.compose.doubt``: doubt per region from the propagation, per pixel from warped keys, none where
a key's paint is pasted; the figures; and which frame to paint next."""

from __future__ import annotations

import numpy as np

from lacvid.compose.doubt import (
    DOUBTFUL,
    ShotDoubt,
    clear_held,
    doubtful_share,
    key_reach,
    mark_doubt,
    next_keys,
    pixel_doubt,
    region_doubt,
)


def _two_regions() -> tuple[np.ndarray, int]:
    labels = np.ones((8, 12), np.int32)
    labels[:, 5] = 0                     # an ink stroke
    labels[:, 6:] = 2
    return labels, 2


def test_region_doubt_is_one_value_per_region_from_its_mean_confidence() -> None:
    conf = np.zeros((4, 6), np.float32)  # the propagation's size: half the frame's
    conf[:, :3] = 1.0                    # region 1 sure
    conf[:, 3:] = 0.25                   # region 2 a weak guess
    doubt = region_doubt(_two_regions(), conf)
    assert doubt.shape == (8, 12) and doubt.dtype == np.uint8
    assert (doubt[:, :5] == 0).all() and (doubt[:, 6:] == 191).all()
    assert set(np.unique(doubt[:, 5])) <= {0, 191}   # ink: the doubt of a region it bounds


def test_pixel_doubt_needs_a_confident_key_and_agreeing_keys() -> None:
    red, blue = np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2, 3), np.uint8)
    red[..., 0], blue[..., 2] = 200, 200
    sure = np.ones((2, 2), np.float32)
    assert (pixel_doubt([red, red], [sure, sure], (4, 4)) == 0).all()       # two keys agree, confidently
    split = pixel_doubt([red, blue], [sure, sure], (2, 2))                 # they disagree: half the votes
    assert (split == 128).all() and doubtful_share(split) == 1.0
    assert (pixel_doubt([red], [0.1 * sure], (2, 2)) == 230).all()         # a weak match
    assert (pixel_doubt([], [], (3, 5)) == 255).all()                       # no key reached: guessed


def test_held_pixels_and_keys_have_no_doubt() -> None:
    doubt = np.full((4, 4), 200, np.uint8)
    held = np.zeros((4, 4), bool)
    held[:2] = True
    assert (clear_held(doubt, held)[:2] == 0).all() and (clear_held(doubt, held)[2:] == 200).all()


def test_shot_figures_and_worst_frame() -> None:
    figures = ShotDoubt({0: 0.0, 1: 0.5, 2: 0.25, 3: 0.0}).figures()
    assert figures == {"doubtful": 0.1875, "worst_frame": 1, "worst_doubtful": 0.5}
    assert ShotDoubt({0: 0.0, 1: 0.0}).figures()["worst_frame"] is None


def test_mark_doubt_outlines_and_hatches_but_leaves_most_of_the_paint() -> None:
    frame = np.full((40, 40, 3), 90, np.uint8)
    doubt = np.zeros((40, 40), np.uint8)
    doubt[10:30, 10:30] = DOUBTFUL
    marked = mark_doubt(frame, doubt, width=1)
    changed = (marked != frame).any(-1)
    assert not changed[doubt == 0].any()                     # nothing outside the doubtful area
    assert changed[10, 10:30].all() and changed[29, 10:30].all()   # its outline
    assert 0.2 < changed[doubt > 0].mean() < 0.5             # the paint inside still shows


def test_a_new_key_takes_over_up_to_the_keys_beside_it() -> None:
    reach = key_reach(range(0, 9), [0, 8], 4)
    assert np.allclose(reach, [0, 0.25, 0.5, 0.75, 1, 0.75, 0.5, 0.25, 0])
    assert np.allclose(key_reach(range(0, 5), [0], 2), [0, 0.5, 1, 2 / 3, 1 / 3])   # no key after it: to the end


def test_next_keys_go_where_the_doubt_is() -> None:
    masses = [0.0, 0.1, 0.1, 0.1, 0.2, 0.6, 0.6, 0.2, 0.0]    # doubt piles up late in the shot
    picks = next_keys([(range(0, 9), [0, 8], masses)], 1)
    assert len(picks) == 1 and picks[0][0] == 0 and picks[0][1].frame in (5, 6)
    assert np.isclose(picks[0][1].shot_mass, sum(masses)) and 0 < picks[0][1].gain < sum(masses)
    # Two shots: the second pick goes to the other shot once the first shot's doubt is mostly taken.
    quiet = [0.0, 0.3, 0.0]
    picks = next_keys([(range(0, 9), [0, 8], masses), (range(9, 12), [9, 11], quiet)], 2)
    assert [i for i, _ in picks] == [0, 1] and picks[1][1].frame == 10
    assert next_keys([(range(0, 3), [0, 2], [0.0, 0.0, 0.0])], 1) == []      # nothing doubtful: nothing to paint
