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


def _striped_box(Hf: int, Wf: int, shift: int, stripe: int, strokes: tuple[int, ...] = (1, 2, 3, 4, 5)
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(lines uint8 (Hf, Wf), paint uint8 (Hf, Wf, 3)): a box crossed by ``strokes`` (the flow's hold) and painted
    in ``stripe`` px stripes of two colours, moved right by ``shift``."""
    lines = np.full((Hf, Wf), 255, np.uint8)
    cv2.rectangle(lines, (40 + shift, 30), (130 + shift, 100), 0, 2)
    for k in strokes:
        cv2.line(lines, (40 + shift + 15 * k, 30), (40 + shift + 15 * k - 8, 100), 0, 2)
    paint = np.full((Hf, Wf, 3), 230, np.uint8)
    stripes = ((np.arange(Wf) - shift) // stripe) % 2 == 0
    box = np.zeros((Hf, Wf), bool)
    box[32:99, 42 + shift:129 + shift] = True
    paint[box & stripes[None]] = (200, 40, 40)
    paint[box & ~stripes[None]] = (40, 40, 200)
    return lines, np.minimum(paint, lines[..., None])


def test_footage_is_its_nearest_key_warped_at_full_size() -> None:
    """Colour footage: the nearest key alone (a farther key, however well its strokes match, paints
    nothing), warped by the flow found at working size, its colour sampled at full size."""
    from lacvid.compose.fusion import footage_paint

    Hf, Wf, h, w = 128, 192, 64, 96

    def drawing(shift: int) -> tuple[np.ndarray, np.ndarray]:
        return _striped_box(Hf, Wf, shift, stripe=2)                            # 2 px stripes: lost at h

    small = lambda im: cv2.resize(im, (w, h), interpolation=cv2.INTER_AREA)   # noqa: E731
    key_lines, key = drawing(0)
    frame_lines, truth = drawing(6)
    far_key = np.zeros_like(key)
    far_key[..., 1] = 255                                                       # what a farther key would paint: green
    paint, candidates = footage_paint(small(frame_lines), {0: small(key), 9: small(far_key)},
                                      {0: small(key_lines), 9: small(key_lines)}, 2, 0, key)
    assert paint.shape == (Hf, Wf, 3) and len(candidates) == 2
    inside = np.zeros((Hf, Wf), bool)
    inside[40:90, 60:120] = True                                                # well inside the moved box
    err = np.abs(paint[inside].astype(int) - truth[inside]).max(-1)
    assert (err <= 40).mean() >= 0.9                                            # the stripes, where they moved
    enlarged = cv2.resize(candidates[0].color, (Wf, Hf), interpolation=cv2.INTER_LINEAR)
    assert err.mean() < 0.5 * np.abs(enlarged[inside].astype(int) - truth[inside]).max(-1).mean()  # lost when small
    assert not ((paint[..., 1] > 150) & (paint[..., 0] < 100)).any()              # nothing of the farther key


def _ring_with_gap(size: int, gap: int) -> np.ndarray:
    """Line art (uint8 (size, size), 255 paper) of a ring with a ``gap`` px opening on its right."""
    lines = np.full((size, size), 255, np.uint8)
    c, r = size // 2, size * 3 // 8
    cv2.circle(lines, (c, c), r, 0, max(1, size // 128))
    lines[c - gap // 2:c - gap // 2 + gap, c + r - size // 32:c + r + size // 32] = 255  # the opening
    return lines


def test_gaps_bridged_at_full_size_grow_with_the_drawing() -> None:
    """The same drawing exported 2.5 times larger has a gap 2.5 times as wide: the regions stay apart."""
    from lacvid.compose.fusion import GAP_REFERENCE, FusionSettings

    settings = FusionSettings()
    assert settings.at_size((GAP_REFERENCE, 460)).close_gaps == settings.close_gaps == 2   # the clips' size: as set
    assert settings.at_size((259, 460, 3)).close_gaps == 2
    assert settings.at_size((648, 1150)).close_gaps == 5
    assert settings.at_size((1080, 1920)).close_gaps == 8
    for size, gap in ((256, 2), (640, 5)):
        lines = _ring_with_gap(size, gap)
        wide = settings.at_size(lines.shape)
        labels, _ = label_regions(lines, close_gaps=wide.close_gaps, min_area=wide.min_area)
        assert labels[size // 2, size // 2] != labels[2, 2], size                 # inside and outside apart
    big = _ring_with_gap(640, 5)
    labels, _ = label_regions(big, close_gaps=settings.close_gaps, min_area=settings.min_area)
    assert labels[320, 320] == labels[2, 2]                                        # 2 px bridging leaks at 640


def test_keys_decide_the_paint_sampled_at_full_size() -> None:
    """Keys painted with fine detail (not flat): where a warped key decides a pixel, its paint is sampled at full
    size, not its working-size warp enlarged; its strokes never become paint; the network's pixels keep theirs."""
    from lacvid.compose.fusion import FusionSettings, fuse_pixels, keys_at_full_size, warped_keys_with_flows
    from lacvid.compose.held import bare_paper

    Hf, Wf, h, w = 128, 192, 32, 48                                              # a quarter of each side, as at HD

    def drawing(shift: int, strokes: tuple[int, ...] = (1, 2, 3, 4, 5)) -> tuple[np.ndarray, np.ndarray]:
        return _striped_box(Hf, Wf, shift, stripe=3, strokes=strokes)          # 3 px stripes: lost at w

    small = lambda im: cv2.resize(im, (w, h), interpolation=cv2.INTER_AREA)   # noqa: E731
    key_lines, key = drawing(0)
    frame_lines, truth = drawing(4, strokes=(1, 2, 4, 5))                       # one stroke the key has is gone
    warped, flows = warped_keys_with_flows(small(frame_lines), {0: small(key)}, {0: small(key_lines)}, 2)
    network = np.full((h, w, 3), 128, np.uint8)
    warped[0].weight[:, : w // 8] = 0.0                                          # the network's strip on the left
    enlarged = cv2.resize(fuse_pixels(network, warped, FusionSettings()), (Wf, Hf), interpolation=cv2.INTER_CUBIC)
    paint = keys_at_full_size(enlarged, warped, flows, [key], [bare_paper(key_lines)], frame_lines > 128,
                              FusionSettings())
    assert paint.shape == (Hf, Wf, 3)
    inside = np.zeros((Hf, Wf), bool)
    inside[40:90, 60:120] = True
    inside &= frame_lines > 128
    err = np.abs(paint[inside].astype(int) - truth[inside]).max(-1)
    before = np.abs(enlarged[inside].astype(int) - truth[inside]).max(-1)
    assert err.mean() < 0.5 * before.mean()                                      # the stripes, lost when small
    assert np.array_equal(paint[:, : Wf // 8 - 4], enlarged[:, : Wf // 8 - 4])   # the network's pixels untouched
    assert not (paint[inside].max(-1) < 60).any()                                # no key stroke taken for paint


def test_a_uniform_weight_votes_as_its_full_map_would() -> None:
    """A candidate weighing the same everywhere (``uniform_weight``: one number, no map) paints every region as the
    same weight given as a full map does, upsampled from the working size to the frame's."""
    from lacvid.compose.fusion import Candidate, FusionSettings, fuse_regions, uniform_weight

    rng = np.random.default_rng(4)
    lines = drawing()
    h, w = lines.shape[0] // 2, lines.shape[1] // 2
    palette = np.array([[250, 250, 250], [200, 40, 40], [40, 40, 200]], np.uint8)
    guess = palette[rng.integers(0, 3, (h, w))]                                        # (h, w, 3) a noisy guess
    network = palette[rng.integers(0, 3, (h, w))]
    confident = Candidate(guess, rng.random((h, w)).astype(np.float32))
    for value in (0.01, 0.35, 1.0):
        near = palette[rng.integers(0, 3, (h, w))]
        painted = [fuse_regions(lines, network, [confident, Candidate(near, weight)], palette, FusionSettings(),
                                with_ink=False)
                   for weight in (uniform_weight(value, (h, w)), np.full((h, w), value, np.float32))]
        np.testing.assert_array_equal(painted[0], painted[1])
