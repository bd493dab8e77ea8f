"""lacvid.preprocess.ink: line art as artists export it, read once per clip (generated frames, no real data)."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from lacvid.compose.layers import Layers, drawing_ink, paint_layer
from lacvid.media import read_image
from lacvid.preprocess.ink import InkModel
from lacvid.propagate.segments import segment

H, W = 96, 128
BLUE = (60, 90, 220)


def paper() -> np.ndarray:
    return np.full((H, W, 3), 255, np.uint8)


def ring(image: np.ndarray, color, thickness: int = 1, gap: int = 0) -> np.ndarray:
    """An anti-aliased circle (radius 28) drawn onto ``image``; ``gap``: an opening of that many px."""
    cv2.circle(image, (64, 48), 28, color, thickness, cv2.LINE_AA)
    if gap:
        image[44:44 + gap, 88:96] = 255  # cut the stroke on the right
    return image


def inside_and_outside_differ(mask: np.ndarray) -> bool:
    seg = segment(mask)
    return seg.labels[48, 64] != seg.labels[5, 5]


def test_faint_pencil_is_ink() -> None:
    drawing = ring(paper(), (220, 220, 220))  # grey 220: the faintest line the issue names
    model = InkModel.fit([drawing])
    art = model.line_art(drawing)
    assert (art < 128).sum() > 80             # every stroke at full contrast for the matching
    assert (art[5:15, 5:15] == 255).all()     # paper stays paper
    assert inside_and_outside_differ(model.frame(drawing).mask)


def test_paper_grain_and_uneven_light_are_not_ink() -> None:
    rng = np.random.default_rng(0)
    light = np.linspace(255, 215, W)[None, :, None]                  # the scan darkens to the right
    drawing = np.clip(light + rng.normal(0, 3, (H, W, 3)), 0, 255).astype(np.uint8)
    drawing = ring(drawing, (90, 90, 90), 2)
    mask = InkModel.fit([drawing]).frame(drawing).mask
    ring_mask = ring(np.zeros((H, W, 3), np.uint8), (255, 255, 255), 2)[..., 0] > 128  # the stroke's core
    assert mask[ring_mask].mean() > 0.9
    assert mask[~cv2.dilate(ring_mask.astype(np.uint8), np.ones((5, 5))).astype(bool)].mean() < 0.01


def test_paper_grain_leaves_the_ink_layer_clear_but_strokes_and_dots_keep_it() -> None:
    """A scan's grain would darken the paint in a speckle that changes every frame; the stroke's
    anti-aliased fringe and a small dot as dark as ink (a freckle) stay as drawn."""
    rng = np.random.default_rng(1)
    grain = 236 + rng.normal(0, 3, (H, W, 1)) * np.ones((1, 1, 3))
    drawing = ring(np.clip(grain, 0, 255).astype(np.uint8), (90, 90, 90), 2)
    drawing[10:12, 10:12] = 190                                         # a faint 4-px dot: too small for the mask
    model = InkModel.fit([drawing])
    ink = model.frame(drawing)
    alpha = drawing_ink(ink)[..., 3]
    near = cv2.dilate(ink.mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    far = ~near
    far[8:14, 8:14] = False
    assert (alpha[far] == 0).all()                                   # no grain on the paint
    assert not ink.mask[10:12, 10:12].any() and (alpha[10:12, 10:12] > 40).all()  # yet drawn
    # Without the clearing the same grain would darken about half the paper a little.
    raw = InkModel(model.paper, model.stroke, model.inverted,
                   dataclasses.replace(model.settings, grain_reach=0)).frame(drawing)
    assert (drawing_ink(raw)[..., 3][far] > 0).mean() > 0.3
    on_ring = ink.mask & (alpha > 0)
    assert on_ring.sum() > 100 and (drawing_ink(raw)[..., 3][near] == alpha[near]).all()  # strokes unchanged


def test_colored_lines_bound_regions_and_stay_as_drawn() -> None:
    drawing = ring(paper(), (0, 0, 0), 2)
    cv2.line(drawing, (40, 30), (90, 66), BLUE, 2, cv2.LINE_AA)     # a shadow boundary inside the ring
    model = InkModel.fit([drawing])
    ink = model.frame(drawing)
    assert ink.colored[48, 65] and not ink.colored[48, 36]          # blue line vs black outline
    seg = segment(ink.mask)
    assert seg.labels[35, 75] != seg.labels[60, 55]                  # the blue line splits the disc
    fill = np.full((H, W, 3), (200, 180, 120), np.uint8)
    out = Layers(paint_layer(fill), drawing_ink(ink)).flatten()
    assert np.abs(out[48, 65].astype(int) - BLUE).max() < 40         # coloured ink kept as drawn
    assert out[48, 36].max() < 60                                    # black ink over the paint
    assert (out[5, 5] == fill[5, 5]).all()                           # paper shows the paint


def test_a_coloured_line_is_coloured_at_every_coverage_and_warm_grey_pencil_is_not() -> None:
    """The edge of a blue-grey line, or the whole line where a video halved its colour resolution, is the
    line's colour mixed with paper: its darkening keeps the line's balance across channels (clip12's
    lines, exported as PNG, lost a fifth of their pixels to a saturation test, and more as H.264)."""
    drawing = ring(paper(), (119, 155, 173), 3)                       # blue-grey, as clip12 draws
    cv2.line(drawing, (10, 90), (120, 90), (120, 118, 110), 2, cv2.LINE_AA)  # warm grey pencil
    faded = (0.5 * drawing + 0.5 * 255).astype(np.uint8)              # every stroke half as dark
    model = InkModel.fit([drawing])
    ring_mask = ring(np.zeros((H, W, 3), np.uint8), (255, 255, 255), 3)[..., 0] > 0
    for image in (drawing, faded):
        ink = model.frame(image)
        assert ink.colored[ring_mask & ink.mask].mean() > 0.95
        assert not ink.colored[86:94].any()
    # Black ink on light blue paper darkens every channel by the same share of the paper: not coloured.
    blue_paper = np.array([200.0, 220.0, 255.0])
    inked = ring(paper(), (0, 0, 0), 3).astype(np.float64) / 255.0            # the ink's transmittance
    tinted = np.rint(blue_paper * inked).astype(np.uint8)
    ink = InkModel.fit([tinted]).frame(tinted)
    assert ink.mask[ring_mask].mean() > 0.9 and not ink.colored.any()


def through_h264(image: np.ndarray) -> np.ndarray:
    """``image`` encoded by x264 with its defaults (crf 23, yuv420p: colour at half resolution) and decoded."""
    import io

    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=24, options={"crf": "23"})
        stream.width, stream.height, stream.pix_fmt = image.shape[1], image.shape[0], "yuv420p"
        for _ in range(2):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")))
        out.mux(stream.encode())
    buf.seek(0)
    with av.open(buf) as inp:
        return next(inp.decode(video=0)).to_ndarray(format="rgb24")


def test_a_thin_coloured_line_keeps_its_class_through_a_420_video_and_grey_pencil_stays_grey() -> None:
    """x264's yuv420p keeps one colour per 2x2 block: a 1 px blue-grey line gives most of its colour to the
    paper beside it and its own pixels come out nearly grey (clip12 as H.264: 32% of its ink counted black and
    was multiplied into the paint). The model sees the halved colour on the clip's first frame and reads such
    a line's class over the neighbourhood that took its colour; a grey pencil line stays grey, and the same
    drawing as a PNG is read pixel by pixel, as before."""
    drawing = paper()
    for y in range(12, 60, 8):                                                     # thin blue-grey strokes
        cv2.line(drawing, (8, y), (120, y + 20), (119, 155, 173), 1, cv2.LINE_AA)
    cv2.rectangle(drawing, (90, 70), (120, 90), (119, 155, 173), -1)              # a filled shadow shape
    cv2.line(drawing, (8, 84), (80, 84), (128, 128, 128), 1, cv2.LINE_AA)         # grey pencil
    video = through_h264(drawing)
    model = InkModel.fit([video])
    assert model.halved_chroma and not InkModel.fit([drawing]).halved_chroma
    assert InkModel.from_dict(model.to_dict()) == model
    thin = np.zeros((H, W), bool)
    thin[8:66, 6:122] = True
    ink = model.frame(video)
    pixel_by_pixel = dataclasses.replace(model, halved_chroma=False).frame(video)
    assert ink.colored[thin & ink.mask].mean() > 0.85                         # measured 0.90
    assert pixel_by_pixel.colored[thin & pixel_by_pixel.mask].mean() < 0.5    # measured 0.13
    assert not ink.colored[82:87, 8:80].any()                                      # the grey pencil line
    # Black ink alone through the same video: nothing to tell, nothing coloured.
    black = ring(paper(), (0, 0, 0), 2)
    assert not InkModel.fit([through_h264(black)]).frame(through_h264(black)).colored.any()


def test_inverted_line_art() -> None:
    drawing = 255 - ring(paper(), (0, 0, 0), 2)                      # white lines on black
    model = InkModel.fit([drawing])
    assert model.inverted
    assert inside_and_outside_differ(model.frame(drawing).mask)


def test_rgba_with_transparent_paper_and_16_bit(tmp_path) -> None:
    rgba = np.zeros((H, W, 4), np.uint8)
    cv2.circle(rgba, (64, 48), 28, (40, 40, 40, 255), 2, cv2.LINE_AA)  # ink opaque, paper transparent
    cv2.imwrite(str(tmp_path / "rgba.png"), rgba)
    deep = ring(paper(), (200, 200, 200)).astype(np.uint16) * 257      # a faint line in a 16-bit PNG
    cv2.imwrite(str(tmp_path / "deep.png"), deep)
    for name in ("rgba.png", "deep.png"):
        drawing = read_image(tmp_path / name)                          # as colorize reads frames
        assert drawing.dtype == np.uint8 and (drawing[5, 5] == 255).all()
        assert inside_and_outside_differ(InkModel.fit([drawing]).frame(drawing).mask)


def test_gaps_are_closed_but_plain_components_leak() -> None:
    drawing = ring(paper(), (0, 0, 0), 1, gap=2)
    mask = InkModel.fit([drawing]).frame(drawing).mask
    assert inside_and_outside_differ(mask)
    assert not (segment(mask, gap_radius=0).labels[48, 64] != segment(mask, gap_radius=0).labels[5, 5])


def test_one_model_per_clip_never_per_frame() -> None:
    strong = ring(paper(), (0, 0, 0), 2)
    faint = ring(paper(), (190, 190, 190))
    model = InkModel.fit([strong])
    # A lighter frame read with the clip's model: its strokes are weaker than the clip's, but ink.
    assert model.frame(faint).mask.sum() > 50
    assert InkModel.from_dict(model.to_dict()) == model


def test_blank_page_has_no_ink() -> None:
    blank = paper()
    model = InkModel.fit([blank])
    assert not model.frame(blank).mask.any() and (model.line_art(blank) == 255).all()
    assert segment(model.frame(blank).mask).n == 1


def test_black_ink_only_skips_the_nearest_colour_search(monkeypatch) -> None:
    """A drawing with no coloured line has nothing to look up: the whole-frame nearest-pixel search is
    not run, and its ink over paint is what the search would have given (no pixel is coloured)."""
    import lacvid.preprocess.ink as ink_module

    searched = []
    real = ink_module.nearest_values
    monkeypatch.setattr(ink_module, "nearest_values", lambda *a: searched.append(1) or real(*a))
    drawing = ring(paper(), (40, 40, 40), 2)
    model = InkModel.fit([drawing])
    ink = model.frame(drawing)
    assert not searched and not ink.colored.any()
    fill = np.full((H, W, 3), (200, 180, 120), np.uint8)
    rgba = drawing_ink(ink)
    assert (rgba[..., :3] == 0).all()                                      # neutral ink: black, its strength as alpha
    assert (rgba[..., 3] == np.rint(255 * ink.strength).astype(np.uint8)).all()
    assert Layers(paint_layer(fill), rgba).flatten()[48, 36].max() < 100   # the stroke darkens the paint
    cv2.line(drawing, (40, 30), (90, 66), BLUE, 2, cv2.LINE_AA)            # one coloured line: the search runs
    assert model.frame(drawing).colored.any() and searched


def test_frame_reads_its_mask_from_its_own_line_art() -> None:
    """colorize's compositing hands ``frame`` the line art its scan drew with the same model: the ink is
    then the same, array for array, as measured from scratch (the faint strokes kept by the hysteresis,
    the isolated grain dropped, a coloured line's class and alpha), without the hysteresis run again."""
    rng = np.random.default_rng(3)
    drawing = np.clip(255 + rng.normal(0, 4, (H, W, 3)), 0, 255).astype(np.uint8)   # paper grain
    drawing = ring(drawing, (215, 215, 215), 1, gap=3)                              # faint pencil with a gap
    cv2.line(drawing, (40, 30), (90, 66), BLUE, 2, cv2.LINE_AA)                     # a coloured line
    cv2.line(drawing, (20, 80), (50, 85), (60, 60, 60), 1, cv2.LINE_AA)             # a dark stroke
    model = InkModel.fit([drawing])
    measured, read = model.frame(drawing), model.frame(drawing, line_art=model.line_art(drawing))
    assert measured.mask.any() and measured.colored.any()
    for name in ("strength", "mask", "colored", "ink_rgb", "alpha"):
        assert np.array_equal(getattr(measured, name), getattr(read, name)), name
    with pytest.raises(ValueError, match="line art must be uint8"):
        model.frame(drawing, line_art=model.line_art(drawing)[:-1])
