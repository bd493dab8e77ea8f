"""Line extraction on drawings generated here: ink where lines were drawn, paper elsewhere."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lacvid.preprocess.lines import detect_kind, extract_lines, line_mask


def _painted(h: int = 120, w: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """A cel: two flat colour regions with a 2 px black outline; returns (RGB, drawn-ink mask)."""
    img = np.empty((h, w, 3), np.uint8)
    img[:] = (90, 160, 220)  # sky
    cv2.circle(img, (80, 60), 35, (230, 120, 60), -1)  # an orange disc
    ink = np.zeros((h, w), np.uint8)
    cv2.circle(ink, (80, 60), 35, 1, 2)
    cv2.line(ink, (10, 100), (150, 100), 1, 2)
    img[ink == 1] = 0
    return img, ink.astype(bool)


def _near(mask: np.ndarray, r: int) -> np.ndarray:
    return cv2.dilate(mask.astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)).astype(bool)


def test_color_lines_found_where_drawn_and_nowhere_else() -> None:
    img, drawn = _painted()
    lines = extract_lines(img, "color")
    assert lines.dtype == np.uint8 and lines.shape == drawn.shape
    found = line_mask(lines)
    assert found[drawn].mean() > 0.9  # the drawn outline is ink
    assert not found[~_near(drawn, 2)].any()  # flat regions (and their colour edge) stay paper


def test_flat_and_dark_regions_are_paper() -> None:
    img = np.full((64, 64, 3), 20, np.uint8)  # a dark flat frame (e.g. black hair fills it)
    img[:, 32:] = 200
    lines = extract_lines(img, "color")
    assert not line_mask(lines)[:, :28].any() and not line_mask(lines)[:, 36:].any()


def test_blank_frame_gives_blank_paper() -> None:
    assert (extract_lines(np.zeros((40, 50, 3), np.uint8), "color") == 255).all()


def test_specks_are_removed() -> None:
    img = cv2.resize(_painted()[0], (960, 720), interpolation=cv2.INTER_NEAREST)  # the reference size
    img[10:12, 10:12] = 0  # a 2x2 dark dot: dirt, not a line
    lines = line_mask(extract_lines(img, "color"))
    assert not lines[0:30, 0:30].any()
    assert lines[400, 100:800].any()  # the drawn line survives


@pytest.mark.parametrize("variant", ["plain", "inverted", "blue", "scanned"])
def test_line_art_is_normalised_to_black_on_white(variant: str) -> None:
    ink = np.zeros((120, 160), np.uint8)
    cv2.circle(ink, (80, 60), 35, 255, 2, cv2.LINE_AA)
    cv2.line(ink, (10, 100), (150, 100), 255, 1, cv2.LINE_AA)
    a = ink.astype(np.float32)[:, :, None] / 255  # (H, W, 1) ink coverage
    paper = np.array([255, 255, 255], np.float32)
    color = np.array([0, 0, 0], np.float32)
    if variant == "blue":
        color = np.array([40, 60, 230], np.float32)
    if variant == "scanned":  # grey-yellow paper with a brightness gradient
        paper = np.array([235, 228, 200], np.float32) * np.linspace(0.8, 1.0, 160)[None, :, None]
    img = paper * (1 - a) + color * a
    if variant == "inverted":
        img = 255 - img
    img = np.clip(img, 0, 255).astype(np.uint8)
    assert detect_kind(img) == "lines"
    out = extract_lines(img)  # auto
    drawn = ink > 200
    assert (out[drawn] < 128).mean() > 0.9
    assert (out[~_near(drawn, 1)] >= 240).all()  # paper is white, whatever its colour was


def test_detect_kind_on_painted_frame() -> None:
    assert detect_kind(_painted()[0]) == "color"


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.float32), np.zeros((4, 4, 2), np.uint8), np.zeros(5, np.uint8)])
def test_bad_images_rejected(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        extract_lines(bad)


def test_bad_mode_rejected() -> None:
    with pytest.raises(ValueError, match="mode"):
        extract_lines(np.zeros((8, 8, 3), np.uint8), "sketch")  # type: ignore[arg-type]


def test_dense_thick_line_art_is_detected_as_lines_not_color():
    """Thick, dense ink (18% of the frame, strokes wider than the 5x5 erosion) is still line art:
    misreading it as colour footage would run XDoG over it and double every line."""
    from lacvid.preprocess.lines import detect_kind
    from lacvid.synth import render_shot

    for seed, index in [(1, 5), (99, 1200), (7, 0)]:
        color, lines = next(iter(render_shot(seed, index, 3, 256, 256)))
        assert detect_kind(np.dstack([lines] * 3)) == "lines", (seed, index)
        assert detect_kind(color) == "color", (seed, index)


@pytest.mark.parametrize("ink", [(160, 160, 160), (110, 140, 160)])  # faint grey pencil, blue-grey ink
def test_areas_filled_with_the_strokes_own_ink_are_a_drawing(ink) -> None:
    """A shaded pupil or solid hair in the strokes' own pencil is ink, not paint (clip12's kind: a
    blue-grey drawing with filled shadow shapes was read as colour footage)."""
    img = np.full((256, 256, 3), 255, np.uint8)
    for k in range(6):
        cv2.circle(img, (40 + 35 * k, 80), 14, ink, 1, cv2.LINE_AA)
        cv2.circle(img, (40 + 35 * k, 80), 5, ink, -1, cv2.LINE_AA)             # a filled pupil
    cv2.ellipse(img, (128, 180), (60, 25), 0, 0, 360, ink, 1, cv2.LINE_AA)
    cv2.ellipse(img, (128, 175), (40, 12), 0, 0, 360, ink, -1, cv2.LINE_AA)     # solid hair
    assert detect_kind(img) == "lines"


def test_pale_paint_of_another_hue_than_the_paper_is_colour() -> None:
    """Light paint near the paper's brightness (pale blue petals) is paint: its hue differs."""
    img = np.full((256, 256, 3), 255, np.uint8)
    for k in range(4):
        centre = (50 + 50 * k, 128)
        cv2.circle(img, centre, 22, (215, 228, 250), -1)
        cv2.circle(img, centre, 22, (60, 60, 60), 1, cv2.LINE_AA)
    assert detect_kind(img) == "color"
