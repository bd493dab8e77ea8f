"""Style ``stress``: generated shots that make, on purpose, each failure real drawings showed.

Real shots by other artists broke lacvid where the generated training shots never do (issue 21):
a large shape whose outline runs off the frame, crossed by others; a large occluder sweeping
across the whole frame; a thing entering from outside that only the later key shows; paint nearly
as light as the paper; keys painted with a gradient (the sky, in half the shots, so both the flat
and the per-pixel paths are stressed); faint pencil with many gaps. A stress shot is an ordinary
random shot with all of these added, drawn in faint pencil, so the benchmark
(``benchmarks/quality.py --sets stress``) and the tests meet each of them every time.
"""

from __future__ import annotations

import numpy as np

from lacvid.synth.rig import Actor, Part, Shape
from lacvid.synth.style import SHADOW_LINE_COLORS, PencilStyle

GAPS_PER_256 = 12    # pencil skips per frame per 256 px: three times the most ``pencil`` draws
SKY_RAMP = 70        # levels the gradient sky darkens from top to bottom


def stress_look(rng: np.random.Generator) -> PencilStyle:
    """Faint grey pencil with pressure, many gaps and coloured shadow lines."""
    color = SHADOW_LINE_COLORS[int(rng.integers(len(SHADOW_LINE_COLORS)))]
    return PencilStyle(float(rng.uniform(0.25, 0.5)), float(rng.uniform(0.2, 0.6)), GAPS_PER_256, color)


def near_paper(rng: np.random.Generator) -> tuple[int, int, int]:
    """A paint colour a few levels off white (a pale dress, a white shirt's cream)."""
    base = np.array([255, 255, 255]) - rng.integers(4, 16, 3)
    return int(base[0]), int(base[1]), int(base[2])


def sky_gradient(sky: np.ndarray) -> np.ndarray:
    """The flat sky (H, W, 3) uint8 darkened by ``SKY_RAMP`` levels from top to bottom: a key
    painted with a gradient, not flat cel paint."""
    h = sky.shape[0]
    ramp = np.linspace(0, SKY_RAMP, h, dtype=np.float32)[:, None, None]                # (H, 1, 1)
    return np.clip(sky.astype(np.float32) - ramp, 0, 255).astype(np.uint8)


def _still(parts: list[Part], start: tuple[float, float], end: tuple[float, float], radius: float,
           world: bool = False) -> Actor:
    return Actor(parts=parts, start=start, end=end, radius=radius, rot0=0.0, rot_speed=0.0, scale_amp=0.0,
                 scale_speed=0.0, squash=0.0, bob=0.0, bob_speed=0.0, on_twos=False, world=world)


def stress_actors(rng: np.random.Generator, pal: list[tuple[int, int, int]], h: int, w: int) -> list[Actor]:
    """Behind the shot's characters: a globe off a frame edge, crossed by two bands. In front:
    a large occluder sweeping across the whole frame, and a prop entering from outside."""
    side = min(h, w)
    pick = lambda: pal[int(rng.integers(len(pal)))]  # noqa: E731
    r = 0.55 * side
    cx = -0.15 * w if rng.random() < 0.5 else 1.15 * w                                # its centre off the frame
    cy = float(rng.uniform(0.3, 0.7)) * h
    globe = Part(Shape("ellipse", aspect=float(rng.uniform(0.85, 1.15))), pick(), shade=False,
                 stripes=[(-0.3, 0.12, pick()), (0.35, 0.1, near_paper(rng))])
    drift = float(rng.uniform(-0.08, 0.08)) * w
    occluder_r = 0.3 * side
    y = float(rng.uniform(0.35, 0.75)) * h
    a, b = -1.3 * occluder_r, w + 1.3 * occluder_r
    start, end = ((a, y), (b, y)) if rng.random() < 0.5 else ((b, y), (a, y))
    occluder = Part(Shape("blob", aspect=0.6, amps=np.array([0.08, 0.04]), phases=rng.uniform(0, 6.3, 2),
                          speeds=np.array([0.1, -0.1])), pick(), shade=True)
    enter_r = 0.12 * side
    ey = float(rng.uniform(0.2, 0.5)) * h
    e0, e1 = (-1.6 * enter_r, ey), (float(rng.uniform(0.25, 0.45)) * w, ey)
    if rng.random() < 0.5:
        e0, e1 = (w - e0[0], ey), (w - e1[0], ey)
    prop = Part(Shape("ellipse", aspect=0.8), near_paper(rng), shade=True, pupil=0.0,
                children=[Part(Shape("ellipse"), pick(), offset=(0.0, 0.0), size=0.4, shade=False)])
    return [_still([globe], (cx, cy), (cx + drift, cy), r, world=True),
            _still([occluder], start, end, occluder_r),
            _still([prop], e0, e1, enter_r)]
