"""How a generated shot is drawn: clean black ink, or pencil as artists export it.

``pencil`` draws what real productions hand lacvid: a light grey or dark stroke tone per shot,
pressure that varies along the strokes, small gaps where the pencil skipped, and cel-shadow
boundaries in a colour (blue or red, the cel convention) with the shadow painted a darker shade.
The colour truth is the fills under that ink as drawn: grey ink multiplies the paint, a
coloured line lies over it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

STYLES = ("clean", "pencil", "stress", "redrawn")
SHADOW_LINE_COLORS = ((70, 110, 230), (220, 70, 80), (60, 170, 90))  # blue, red, green pencil


@dataclass(frozen=True)
class PencilStyle:
    """One shot's look (drawn once per shot, so its frames match)."""

    tone: float                                    # darkness of a full stroke: 0.25 (grey 190) .. 1 (black)
    pressure: float                                # how far pressure lightens a stroke: 0 .. 0.6
    gaps: int                                      # pencil skips per frame, per 256 px of the short side
    shadow_color: tuple[int, int, int] | None      # None: shadow boundaries in the stroke's grey

    @classmethod
    def draw(cls, rng: np.random.Generator) -> PencilStyle:
        color = SHADOW_LINE_COLORS[int(rng.integers(len(SHADOW_LINE_COLORS)))] if rng.random() < 0.7 else None
        return cls(float(rng.uniform(0.25, 1.0)), float(rng.uniform(0.0, 0.6)), int(rng.integers(0, 6)), color)


def _pressure(rng: np.random.Generator, shape: tuple[int, int], amount: float) -> np.ndarray:
    """A smooth field in [1 - amount, 1], float32 (H, W): pressure that drifts along a stroke."""
    h, w = shape
    coarse = rng.random((max(2, h // 24), max(2, w // 24))).astype(np.float32)
    return 1.0 - amount * cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def _skips(rng: np.random.Generator, dark: np.ndarray, count: int) -> np.ndarray:
    """Bool (H, W): small discs on strokes where the pencil skipped."""
    skip = np.zeros(dark.shape, np.uint8)
    ys, xs = np.nonzero(dark > 0.5)
    if len(ys) == 0 or count == 0:
        return skip.astype(bool)
    radius = max(1, round(min(dark.shape) / 256))
    for i in rng.choice(len(ys), size=min(count, len(ys)), replace=False):
        cv2.circle(skip, (int(xs[i]), int(ys[i])), radius, 1, -1)
    return skip.astype(bool)


def pencil(fills: np.ndarray, lines: np.ndarray, shade: np.ndarray, style: PencilStyle,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(colour truth, drawing), both uint8 (H, W, 3), from a canvas: ``fills`` (H, W, 3) flat paint,
    ``lines`` (H, W) all ink, ``shade`` (H, W) the shadow boundaries alone (255 = paper)."""
    dark = 1.0 - lines.astype(np.float32) / 255.0                            # (H, W) in [0, 1]
    dark *= style.tone * _pressure(rng, lines.shape, style.pressure)
    gaps = max(0, round(style.gaps * min(lines.shape) / 256))
    dark[_skips(rng, 1.0 - lines / 255.0, gaps)] = 0.0
    colored = (shade < 250) & (shade.astype(np.int16) <= lines.astype(np.int16) + 8) & \
        (style.shadow_color is not None)                                       # the shadow line explains the ink
    ink = np.array(style.shadow_color or (0, 0, 0), np.float32)
    a = np.where(colored, dark / max(style.tone, 1e-6), 0.0)[..., None]      # a coloured line's coverage
    neutral = (1.0 - np.where(colored, 0.0, dark))[..., None]                 # grey ink multiplies
    drawing = 255.0 * neutral * (1 - a) + ink * a
    truth = fills.astype(np.float32) * neutral * (1 - a) + ink * a
    return (np.clip(np.rint(truth), 0, 255).astype(np.uint8), np.clip(np.rint(drawing), 0, 255).astype(np.uint8))
