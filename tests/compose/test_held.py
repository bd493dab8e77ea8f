"""Held drawing: regions the drawing holds still since a key take the key's paint, and only those."""

from __future__ import annotations

import cv2
import numpy as np

from lacvid.compose.held import FrameDrawing, KeyDrawing, held_pixels, match, paste_held
from lacvid.compose.regions import label_regions

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
