"""compose.fusion.paint_confident_regions: an area the keys paint flat takes its key colour whole, and
keeps the painter's own shading (smooth, as painted) where the per-pixel paint carried it."""

from __future__ import annotations

import cv2
import numpy as np

from lacvid.compose.fusion import key_shading, paint_confident_regions
from lacvid.compose.regions import label_regions
from lacvid.propagate.palette import FLAT_SPREAD

H, W = 60, 80
COAT, SKY = (170, 170, 170), (40, 60, 200)


def drawing() -> np.ndarray:
    """uint8 (H, W): a closed box (the coat) on paper."""
    lines = np.full((H, W), 255, np.uint8)
    cv2.rectangle(lines, (10, 10), (60, 50), 0, 1)
    return lines


def test_blotches_are_repainted_and_the_shading_kept() -> None:
    lines = drawing()
    labels = label_regions(lines)
    shade = (np.mgrid[0:H, 0:W][0] // 4).astype(np.int16)                      # up to 14 levels darker down
    fill = np.clip(np.array(COAT, np.int16) - shade[..., None], 0, 255).astype(np.uint8)  # (H, W, 3)
    fill[20:30, 20:30] = SKY                                                     # a blotch a warp met
    palette = np.array([COAT, SKY], np.uint8)
    propagated = np.empty((H, W, 3), np.uint8)
    propagated[:] = COAT
    confidence = np.full((H, W), 0.5, np.float32)
    out = paint_confident_regions(fill, labels, propagated, confidence, palette, np.array([True, True]))
    inside = labels[0] == labels[0][30, 35]
    assert np.abs(out[inside].astype(int) - COAT).max() <= FLAT_SPREAD          # the blotch too: the key colour
    far = np.zeros((H, W), bool)
    far[36:46, 40:56] = True                                                     # away from the blotch and the outline
    assert np.abs(out[far].astype(int) - fill[far]).max() <= 1                  # the shade as carried
    assert int(out[45, 35, 0]) - int(out[14, 35, 0]) <= -5                      # darker further down, as painted


def test_areas_the_keys_paint_as_a_gradient_keep_every_pixel() -> None:
    lines = drawing()
    labels = label_regions(lines)
    fill = np.zeros((H, W, 3), np.uint8)
    fill[..., 2] = np.linspace(0, 255, W, dtype=np.uint8)[None]                 # a gradient, far from COAT
    palette = np.array([COAT, SKY], np.uint8)
    propagated = np.empty((H, W, 3), np.uint8)
    propagated[:] = COAT
    out = paint_confident_regions(fill, labels, propagated, np.ones((H, W), np.float32), palette,
                                  np.array([False, True]))                       # COAT stands for a gradient
    assert (out == fill).all()


def test_keys_painted_truly_flat_leave_no_shade_to_keep() -> None:
    lines = drawing()
    labels = label_regions(lines)
    inside = labels[0] == labels[0][30, 35]
    shade = (np.mgrid[0:H, 0:W][0] // 4).astype(np.int16)
    shaded_key = np.full((H, W, 3), 255, np.uint8)
    shaded_key[inside] = np.clip(np.array(COAT, np.int16) - shade[inside, None], 0, 255)
    flat_key = np.full((H, W, 3), 255, np.uint8)
    flat_key[inside] = COAT
    palette = np.array([COAT, (255, 255, 255)], np.uint8)
    clean = lines >= 250
    shaded = key_shading([shaded_key], [labels[0]], [clean], palette)
    assert 4 <= shaded[0] <= 8 and shaded[1] == 0                               # about half the 14-level shade
    flat = key_shading([flat_key], [labels[0]], [clean], palette)
    assert (flat == 0).all()
    fill = np.clip(np.array(COAT, np.int16) - shade[..., None], 0, 255).astype(np.uint8)
    propagated = np.empty((H, W, 3), np.uint8)
    propagated[:] = COAT
    out = paint_confident_regions(fill, labels, propagated, np.full((H, W), 0.5, np.float32), palette,
                                  np.array([True, True]), shading=flat)
    assert (out[inside] == COAT).all()                                           # one colour, exactly
    out = paint_confident_regions(fill, labels, propagated, np.full((H, W), 0.5, np.float32), palette,
                                  np.array([True, True]), shading=shaded)
    assert np.abs(out[inside].astype(int) - COAT).max() <= shaded[0] + 1 and not (out[inside] == COAT).all()
