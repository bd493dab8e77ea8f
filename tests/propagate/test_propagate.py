"""lacvid.propagate: region colours carried frame to frame from the keys, on generated shots."""

from __future__ import annotations

import cv2
import numpy as np

from lacvid.preprocess.ink import InkModel
from lacvid.propagate import PropagationSettings, ShotPropagation
from lacvid.propagate.shot import FrameColors, chains

H, W, N = 96, 160, 9
PAPER, RED, PINK, GREEN = (250, 250, 245), (200, 40, 40), (240, 170, 180), (40, 160, 80)


def frame(t: int) -> tuple[np.ndarray, np.ndarray]:
    """(line art RGB, truth RGB): a red ball with a pink eye moving right, and a green box that
    enters from the right edge after the first key (only the last key shows it)."""
    lines = np.full((H, W, 3), 255, np.uint8)
    color = np.full((H, W, 3), PAPER, np.uint8)
    ball = (30 + 5 * t, 50)
    cv2.circle(color, ball, 20, RED, -1)
    cv2.circle(color, (ball[0] + 6, 44), 6, PINK, -1)
    cv2.circle(lines, ball, 20, (0, 0, 0), 2, cv2.LINE_AA)
    cv2.circle(lines, (ball[0] + 6, 44), 6, (0, 0, 0), 1, cv2.LINE_AA)
    x = W + 10 - 8 * t  # off screen at t = 0, fully in by the last frame
    cv2.rectangle(color, (x, 30), (x + 36, 80), GREEN, -1)
    cv2.rectangle(lines, (x, 30), (x + 36, 80), (0, 0, 0), 2, cv2.LINE_AA)
    return lines, color


def test_chains_run_from_every_key_in_both_directions() -> None:
    got = chains(10, [0, 5, 9])
    assert (0, 1, [1, 2, 3, 4]) in got and (5, -1, [4, 3, 2, 1]) in got
    assert (5, 1, [6, 7, 8]) in got and (9, -1, [8, 7, 6]) in got
    assert all(frames for _, _, frames in got)


def test_entering_character_takes_its_colours_from_the_later_key() -> None:
    drawn, truth = zip(*(frame(t) for t in range(N)))
    ink = InkModel.fit(drawn[:1])
    keys = {0: truth[0], N - 1: truth[N - 1]}
    prop = ShotPropagation([ink.frame(d).mask for d in drawn], keys)
    result = prop.run()
    assert sorted(result) == list(range(1, N - 1))
    for t in (3, 5, 7):
        painted = result[t].image(prop.palette)
        ball = (30 + 5 * t, 50)
        box_x = W + 10 - 8 * t + 18
        assert tuple(painted[50, ball[0] - 10]) == RED, t      # the ball's body
        assert tuple(painted[44, ball[0] + 6]) == PINK, t      # its eye: a small region
        if box_x < W - 2:
            assert tuple(painted[55, box_x]) == GREEN, t        # the box no first key shows
        assert tuple(painted[5, 5]) == PAPER, t
    # Every region of a middle frame carries a palette colour: nothing is left unpainted.
    assert {tuple(c) for c in prop.palette} >= {RED, PINK, GREEN, PAPER}


def test_one_direction_alone_misses_the_entering_character() -> None:
    drawn, truth = zip(*(frame(t) for t in range(N)))
    ink = InkModel.fit(drawn[:1])
    keys = {0: truth[0], N - 1: truth[N - 1]}
    forward = ShotPropagation([ink.frame(d).mask for d in drawn], keys, PropagationSettings(directions="forward"))
    painted = forward.run()[6].image(forward.palette)
    assert tuple(painted[55, W + 10 - 48 + 18]) != GREEN  # what the benchmark's step rows measure


def test_confidence_is_low_where_no_key_shows_the_region() -> None:
    drawn, truth = zip(*(frame(t) for t in range(N)))
    ink = InkModel.fit(drawn[:1])
    only_first = {0: truth[0]}
    prop = ShotPropagation([ink.frame(d).mask for d in drawn], only_first)
    colors = prop.run()[6]
    conf = colors.confidence()
    assert conf[55, W + 10 - 48 + 18] < 0.5 * conf[50, 30 + 30 - 10]  # the box vs the ball


def test_chains_run_side_by_side_give_what_they_give_one_after_another() -> None:
    from lacvid.propagate.evidence import fuse

    drawn, truth = zip(*(frame(t) for t in range(N)))
    ink = InkModel.fit(drawn[:1])
    prop = ShotPropagation([ink.frame(d).mask for d in drawn], {0: truth[0], 4: truth[4], N - 1: truth[N - 1]})
    result = prop.run()
    heard: dict[int, list] = {}
    todo = chains(N, [0, 4, N - 1])
    hops = prop._hops(todo)  # the votes between frames, shared by the chains that cross them, as ``run`` does
    for key, step, frames in todo:  # four chains, one at a time, in order
        for t, belief, _ in prop._walk(key, step, frames, hops):
            heard.setdefault(t, []).append(belief)
    for t, beliefs in heard.items():
        fused = fuse(beliefs, prop.settings.fuse_power)
        np.testing.assert_array_equal(result[t].index, fused.prob.argmax(1))
        np.testing.assert_array_equal(result[t].conf, fused.conf)


def test_flat_colors_tell_a_painters_tone_from_a_gradient() -> None:
    """A key region painted one colour with a gentle shade (within 24 levels) is flat; a background
    painted as a radial gradient is not, and a colour standing for both counts as a gradient's."""
    from lacvid.propagate.palette import build_palette, flat_colors
    from lacvid.propagate.segments import segment

    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    key = np.repeat(np.clip(200 - 220 * np.hypot((x - W / 2) / W, y / H), 0, 255)[..., None], 3, -1)
    ink = np.zeros((H, W), np.uint8)
    cv2.circle(ink, (50, 50), 25, 1, 2)
    inside = np.zeros((H, W), np.uint8)
    cv2.circle(inside, (50, 50), 24, 1, -1)
    key[inside > 0] = (np.array(RED, np.float32) - (y[inside > 0, None] - 26) / 4)   # RED, 12 levels of shade
    key = np.clip(key, 0, 255).astype(np.uint8)
    seg = segment(ink > 0)
    palette = build_palette([key], [seg])
    flat = flat_colors([key], [seg], palette)
    red = np.abs(palette.astype(int) - RED).max(1).argmin()
    assert flat[red] and flat.sum() == 1, (palette, flat)


def test_colours_merge_only_within_the_keys_own_paint_noise() -> None:
    """Cel paint exported losslessly keeps a white dress 6 levels off the paper its own colour; the
    same paint with noise in every fill merges the two (their difference is within the noise)."""
    from lacvid.propagate.palette import MERGE, build_palette, merge_tolerance
    from lacvid.propagate.segments import segment

    ink = np.zeros((H, W), np.uint8)
    cv2.rectangle(ink, (20, 20), (80, 80), 1, 2)
    seg = segment(ink > 0)
    key = np.full((H, W, 3), 255, np.uint8)
    key[24:77, 24:77] = (249, 247, 245)                                   # the dress
    exact = merge_tolerance([key], [seg])
    assert exact == 2
    assert len(build_palette([key], [seg], exact)) == 2
    noisy = np.clip(key.astype(np.int16) + np.random.default_rng(0).integers(-9, 10, key.shape), 0, 255)
    noisy = noisy.astype(np.uint8)
    tolerance = merge_tolerance([noisy], [seg])
    assert 6 <= tolerance <= MERGE
    assert len(build_palette([noisy], [seg], tolerance)) == 1


def test_a_frames_rgba_is_its_colours_and_its_confidence_stacked() -> None:
    """What the cache keeps of a propagated frame, made from each region's four bytes, is bit for bit the colour image
    with ``rint(255 * confidence)`` stacked as alpha (the per-pixel form it replaced), at every confidence."""
    rng = np.random.default_rng(3)
    n = 300
    labels = rng.integers(0, n, (37, 53)).astype(np.int32)
    palette = rng.integers(0, 256, (9, 3)).astype(np.uint8)
    conf = np.concatenate([[0.0, 1.0, 0.5 / 255, 1.5 / 255, 0.998], rng.random(n - 5)])  # halves: rint's ties
    colors = FrameColors(labels, rng.integers(0, len(palette), n), conf)
    expected = np.dstack([colors.image(palette), np.rint(colors.confidence() * 255).astype(np.uint8)])
    got = colors.rgba(palette)
    assert got.dtype == np.uint8 and got.shape == (37, 53, 4) and got.flags.c_contiguous
    np.testing.assert_array_equal(got, expected)
