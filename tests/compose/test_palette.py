"""Paint by palette on arrays: the index names only pixels whose paint *is* an entry, so a frame
recomposed from index + paint + ink is the flatten bit for bit, and a swapped entry changes
exactly its own pixels."""

from __future__ import annotations

import numpy as np
import pytest

from lacvid.compose.layers import Layers
from lacvid.compose.palette import OFF_PALETTE, PAPER, ShotPalette, index_layer, parse_color, recompose, remap
from lacvid.errors import InputError


def _frame() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    colors = np.array([[255, 255, 255], [255, 208, 176], [40, 60, 200], [10, 10, 10]], np.uint8)
    which = rng.integers(0, 4, (30, 40))
    paint = np.dstack([colors[which], np.full((30, 40), 255, np.uint8)])   # (H, W, 4)
    paint[which == 0, 3] = 0                                                 # bare paper: transparent
    paint[:3, :5] = (255, 209, 176, 255)                                     # a blend no entry is
    paint[5, :4, 3] = 128                                                    # half-transparent paint
    ink = np.zeros((30, 40, 4), np.uint8)
    ink[10:12] = (0, 0, 0, 200)                                              # grey ink over the paint
    ink[20, 5:30] = (30, 90, 220, 90)                                        # a blue line, part coverage
    return paint, ink, colors


def test_recomposed_frame_is_the_flatten_bit_for_bit() -> None:
    paint, ink, colors = _frame()
    index = index_layer(paint, colors)
    assert (index[:3, :5] == OFF_PALETTE).all() and (index[5, :4] == OFF_PALETTE).all()
    assert (index[paint[..., 3] == 0] == PAPER).all()
    garbage = paint.copy()
    garbage[index != OFF_PALETTE] = 99   # the paint layer is read only where the index says 255
    np.testing.assert_array_equal(recompose(index, colors, garbage, ink), Layers(paint, ink).flatten())


def test_a_swapped_entry_changes_exactly_its_pixels() -> None:
    paint, ink, colors = _frame()
    index = index_layer(paint, colors)
    night = remap(colors, {(255, 208, 176): (128, 144, 192)})
    before, after = Layers(paint, ink).flatten(), recompose(index, night, paint, ink)
    changed = (before != after).any(-1)
    assert changed.any()
    assert not changed[index != 1].any()                      # every other pixel bit-identical
    clear = (index == 1) & (ink[..., 3] == 0)
    assert (after[clear] == (128, 144, 192)).all()


def test_paper_recoloured_becomes_opaque_paint() -> None:
    paint, ink, colors = _frame()
    index = index_layer(paint, colors)
    out = recompose(index, remap(colors, {(255, 255, 255): (20, 20, 40)}), paint, ink)
    assert (out[(index == PAPER) & (ink[..., 3] == 0)] == (20, 20, 40)).all()


def test_shot_palette_puts_paper_first_and_counts_key_pixels() -> None:
    key = np.zeros((4, 4, 3), np.uint8)
    key[:2] = (255, 255, 255)
    key[2:, :3] = (255, 208, 176)
    palette = ShotPalette.of([np.array([[255, 208, 176], [255, 255, 255], [1, 2, 3]], np.uint8)], {7: key})
    assert palette.colors.tolist() == [[255, 255, 255], [255, 208, 176], [1, 2, 3]]
    assert palette.key_pixels == {7: (8, 6, 0)}
    assert ShotPalette.from_attrs(palette.to_attrs()).key_pixels == palette.key_pixels


def test_colours_are_hex() -> None:
    assert parse_color("#FFd0b0") == (255, 208, 176)
    with pytest.raises(InputError, match="#rrggbb"):
        parse_color("peach")


def test_an_index_without_off_palette_pixels_needs_no_paint_layer() -> None:
    paint, ink, colors = _frame()
    paint[:3, :5] = (255, 208, 176, 255)
    paint[5, :4, 3] = 255
    index = index_layer(paint, colors)
    assert (index != OFF_PALETTE).all()
    np.testing.assert_array_equal(recompose(index, colors, None, ink), Layers(paint, ink).flatten())
    index[0, 0] = OFF_PALETTE
    with pytest.raises(ValueError, match="paint layer is needed"):
        recompose(index, colors, None, ink)


def test_off_palette_paint_follows_its_nearest_entry() -> None:
    """A key's anti-aliased edge (no palette colour) beside a recoloured fill moves with it, so a
    night palette leaves no day-coloured specks; beside a fill that keeps its colour it stays."""
    from lacvid.compose.palette import OFF_PALETTE, follow_nearest_entry

    before = np.array([[255, 255, 255], [200, 150, 100], [40, 160, 80]], np.uint8)
    after = before.copy()
    after[1] = (100, 110, 160)                                                    # entry 1 to night
    index = np.array([[1, 1, OFF_PALETTE, 2, 2]], np.uint8)
    paint = np.zeros((1, 5, 4), np.uint8)
    paint[..., 3] = 255
    paint[0, :, :3] = [(200, 150, 100), (200, 150, 100), (190, 140, 95), (40, 160, 80), (40, 160, 80)]
    moved = follow_nearest_entry(index, paint, before, after)
    assert tuple(moved[0, 2, :3]) == (90, 100, 155)                               # (190,140,95) + the shift
    index[0, 2] = OFF_PALETTE
    index[0, :2] = 2                                                              # its nearest now unchanged
    np.testing.assert_array_equal(follow_nearest_entry(index, paint, before, after), paint)
