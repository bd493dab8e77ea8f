"""The one-hop region matching benchmark (benchmarks/hop_accuracy.py) on shots whose answer is known."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import cv2
import numpy as np

_HOPS = Path(__file__).parents[2] / "benchmarks" / "hop_accuracy.py"
_spec = importlib.util.spec_from_file_location("lacvid_bench_hop_accuracy", _HOPS)
hop_accuracy = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = hop_accuracy  # dataclasses look their module up by name
_spec.loader.exec_module(hop_accuracy)


def still_shot(disc_colors: list[tuple[int, int, int]]) -> hop_accuracy.quality.Shot:
    """The same drawing in every frame (two discs on paper, keys first and last); frame t's left disc is
    painted ``disc_colors[t]``."""
    lines = np.full((64, 96), 255, np.uint8)
    for x in (28, 68):
        cv2.circle(lines, (x, 32), 14, 0, 2)
    colors = []
    for left in disc_colors:
        c = np.full((64, 96, 3), 250, np.uint8)
        cv2.circle(c, (28, 32), 14, left, -1)
        cv2.circle(c, (68, 32), 14, (40, 40, 200), -1)
        colors.append(c)
    n = len(disc_colors)
    return hop_accuracy.quality.Shot("still", colors, [lines] * n, (0, n - 1))


def test_a_still_drawing_carries_every_region_right() -> None:
    count = hop_accuracy.hop_counts(still_shot([(200, 40, 40)] * 3), [hop_accuracy.CarrySettings()])[0]
    # Hops 0 -> 1, 1 -> 0, 1 -> 2, 2 -> 1, each scoring the paper (large) and the two discs (medium), each
    # carrying nearly all of its belief to the truth.
    assert {k: v for k, v in count.items() if k[1] != "p"} == {("large", True): 4, ("medium", True): 8}
    assert count[("large", "p")] > 4 * 0.99 and count[("medium", "p")] > 8 * 0.99


def test_a_region_repainted_between_frames_counts_wrong_from_the_other_side() -> None:
    # The left disc is red in frames 0 and 1, green in frame 2: carried 1 -> 2 and 2 -> 1 it is wrong.
    count = hop_accuracy.hop_counts(still_shot([(200, 40, 40), (200, 40, 40), (40, 180, 40)]),
                                    [hop_accuracy.CarrySettings()])[0]
    wrong = sum(v for (_, ok), v in count.items() if ok is False)
    assert wrong == 2
    assert count[("medium", "p")] < 8 - 2 * 0.99  # the two wrong hops give the truth next to nothing


def test_carry_changes_are_parsed_and_bad_ones_refused() -> None:
    assert hop_accuracy.parse_carry(["proximity=0", "decay=0.9"]).proximity == 0.0
    for bad in (["nope=1"], ["proximity"]):
        try:
            hop_accuracy.parse_carry(bad)
        except SystemExit as exc:
            assert "--carry" in str(exc)
        else:
            raise AssertionError(f"{bad} was accepted")
