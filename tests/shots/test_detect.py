"""Shot detection on generated clips with known cuts (tests.support.cuts)."""

from __future__ import annotations

import numpy as np
import pytest

from lacvid.shots.detect import Shot, ShotDetector, ShotSettings, detect_shots
from tests.support.cuts import ShotSpec, make_clip


def test_three_line_art_shots_give_exactly_three_shots() -> None:
    clip = make_clip([ShotSpec(14, "slow", seed=1), ShotSpec(12, "twos", seed=2), ShotSpec(14, "enter", seed=3)])
    assert detect_shots(clip.frames) == [Shot(0, 14), Shot(14, 26), Shot(26, 40)]


@pytest.mark.parametrize("motion", ["static", "twos", "fast", "pan", "enter"])
def test_no_cut_within_a_shot(motion: str) -> None:
    clip = make_clip([ShotSpec(30, motion, seed=7)])
    assert detect_shots(clip.frames) == [Shot(0, 30)]


def test_color_footage_cuts() -> None:
    clip = make_clip([ShotSpec(12, "pan", seed=4), ShotSpec(12, "fast", seed=5), ShotSpec(12, "static", seed=6)],
                     lines_only=False)
    assert [s.start for s in detect_shots(clip.frames)] == [0, 12, 24]


def test_fade_through_black_is_one_cut() -> None:
    clip = make_clip([ShotSpec(20, "slow", fade_out=6, seed=8), ShotSpec(20, "slow", seed=9)], lines_only=False)
    starts = [s.start for s in detect_shots(clip.frames)]
    lo, hi = clip.windows[0]
    assert len(starts) == 2 and lo <= starts[1] <= hi


def test_held_frames_and_black_frames_alone_make_no_cut() -> None:
    frame = make_clip([ShotSpec(1, "static", seed=3)]).frames[0]
    frames = [frame] * 10 + [np.zeros_like(frame)] * 3 + [frame] * 10  # flash to black and back
    assert detect_shots(frames) == [Shot(0, 23)]


def test_streaming_detector_and_min_shot_len() -> None:
    clip = make_clip([ShotSpec(8, "static", seed=1), ShotSpec(3, "static", seed=2), ShotSpec(8, "static", seed=3)])
    det = ShotDetector(ShotSettings(min_shot_len=5))
    found = []
    for f in clip.frames:
        found += det.push(f)
    found += det.finish()
    assert found == det.cuts == [8]  # the 3-frame shot is too short to make its own cut at 11
    assert det.frame_count == 19 and det.shots() == [Shot(0, 8), Shot(8, 19)]


def test_empty_input_and_bad_frames() -> None:
    assert detect_shots([]) == []
    with pytest.raises(ValueError):
        detect_shots([np.zeros((8, 8), np.float32)])
