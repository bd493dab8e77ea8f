"""Style ``redrawn``: the small shapes an animator redraws in every drawing, so generated shots fail as real ones do.

``benchmarks/hop_accuracy.py`` showed where real hand-drawn shots and generated ones part (issue 21): carried one
frame by the pipeline's own flow from a perfect neighbour, 29% of the real drawings' small regions come out
wrong against 7% of the generated pencil shots'. A generated character moves rigid parts; a real inbetween is
drawn anew, and a character is mostly small shapes (hair locks, folds, a collar's points) that each land
somewhere a little different in every drawing, often by more than their own width. Jitter alone on the few
details a generated character has (eyes, a pocket) moved its figures little (0.93 -> 0.83-0.89, fifteenth
session): it needs many small shapes. So here the characters come close up, every head grows a fringe of hair
locks over the background, every body a few folds, and each lock and fold swings about its root by up to 0.9
radian, at its own pace of 1-2.2 radians of phase a frame: neighbouring drawings hold the same shapes, each one
redrawn. One hop, small regions right: pencil 0.932, ``redrawn`` 0.771, the real clips 0.708.
"""

from __future__ import annotations

import math

import numpy as np

from lacvid.synth.rig import Actor, Part, Shape

LOCKS = (7, 14)            # hair locks per head (at least, at most)
FOLDS = (3, 7)             # folds per body
SWING = (0.4, 0.9)         # radians a lock or fold swings about its root, at most
PACE = (1.0, 2.2)          # radians of that swing's phase per frame: drawn anew, not moved smoothly
CLOSER = 1.8               # characters this much larger than other styles' (a real shot's fill its frame)


def _darker(color: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return int(color[0] * factor), int(color[1] * factor), int(color[2] * factor)


def _lock(rng: np.random.Generator, angle: float, color: tuple[int, int, int]) -> Part:
    """One hair lock: a long, thin shape rooted at the head's outline, pointing out along ``angle``."""
    size = float(rng.uniform(0.3, 0.5))      # half its length, in head radii
    reach = 0.85 + 0.7 * size                # its centre, from the head's: the root just inside the outline
    return Part(Shape("ellipse", aspect=float(rng.uniform(0.3, 0.45))), color,
                offset=(reach * math.cos(angle), reach * math.sin(angle)), size=size, angle=angle,
                swing=float(rng.uniform(*SWING)), swing_speed=float(rng.uniform(*PACE) * rng.choice([-1, 1])),
                pivot=(-1.0, 0.0), shade=False)


def _fold(rng: np.random.Generator, color: tuple[int, int, int]) -> Part:
    """One fold: a small sliver of shadow inside a body, swinging about one of its ends."""
    spread = float(rng.uniform(0.35, 0.6))
    angles = np.array([0.0, math.pi - spread, math.pi + spread])
    where = float(rng.uniform(0, 2 * math.pi))
    at = float(rng.uniform(0.2, 0.55))
    return Part(Shape("poly", angles=angles, radii=np.array([1.0, 0.9, 0.9])), color,
                offset=(at * math.cos(where), at * math.sin(where)), size=float(rng.uniform(0.15, 0.25)),
                angle=float(rng.uniform(0, 2 * math.pi)), swing=float(rng.uniform(*SWING)),
                swing_speed=float(rng.uniform(*PACE) * rng.choice([-1, 1])), pivot=(1.0, 0.0), shade=False)


def redrawn_details(rng: np.random.Generator, actors: list[Actor], pal: list[tuple[int, int, int]]) -> None:
    """Give every head (a part with eyes) a fringe of hair locks, in one hair colour and its shade, and every
    other filled part of a character a few folds; in place. Locks are drawn before the eyes, so a face stays
    a face; folds before a part's other details."""
    for actor in actors:
        if len(actor.parts) < 2:
            continue  # a plain prop: no hair, no clothes
        actor.radius *= CLOSER
        for part in actor.parts:
            if any(child.pupil > 0 for child in part.children):
                hair = pal[int(rng.integers(len(pal)))]
                count = int(rng.integers(LOCKS[0], LOCKS[1] + 1))
                top = np.linspace(-math.pi * 0.85, -math.pi * 0.15, count) + rng.normal(0, 0.08, count)
                locks = [_lock(rng, float(a), hair if i % 2 == 0 else _darker(hair, 0.72)) for i, a in enumerate(top)]
                part.children[:0] = locks
            elif part.shape.kind != "ellipse" or part.shape.aspect > 0.5:  # a body, not a limb
                folds = [_fold(rng, _darker(part.fill, 0.8)) for _ in range(int(rng.integers(FOLDS[0], FOLDS[1] + 1)))]
                part.children[:0] = folds
