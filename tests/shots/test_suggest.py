"""Key suggestions: the first frame of every shot, extra keys where the drawing changes."""

from __future__ import annotations

import pytest

from lacvid.shots.detect import Shot
from lacvid.shots.suggest import suggest_keys
from tests.support.cuts import ShotSpec, make_clip


def test_first_frame_of_every_shot() -> None:
    clip = make_clip([ShotSpec(10, "slow", seed=1), ShotSpec(10, "static", seed=2)])
    shots = [Shot(0, 10), Shot(10, 20)]
    assert suggest_keys(clip.frames, shots) == {Shot(0, 10): [0], Shot(10, 20): [10]}


def test_extra_keys_only_where_the_drawing_changes() -> None:
    clip = make_clip([ShotSpec(24, "static", seed=2), ShotSpec(24, "enter", seed=1)])
    shots = [Shot(0, 24), Shot(24, 48)]
    keys = suggest_keys(clip.frames, shots, per_shot=3)
    assert keys[Shot(0, 24)] == [0]  # nothing changes: one key is enough
    entering = keys[Shot(24, 48)]
    assert entering[0] == 24 and 2 <= len(entering) <= 3
    assert all(k >= 30 for k in entering[1:])  # after the character has come in


def test_bad_per_shot() -> None:
    with pytest.raises(ValueError):
        suggest_keys([], [Shot(0, 1)], per_shot=0)
