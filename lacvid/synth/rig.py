"""The rig of a synthetic shot: 2-D affine transforms, outlines, parts in a hierarchy, actors.

Parts are shapes in local units under their parent's transform, so a head turns with its body
and an arm swings about its shoulder; actors carry parts across the screen over a shot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

SHIFT = 4  # cv2 sub-pixel bits: points are drawn at 1/16 px so slow motion stays smooth
ONE = 1 << SHIFT

Affine = np.ndarray  # (3, 3) float64 homogeneous 2-D transform


def translate(x: float, y: float) -> Affine:
    return np.array([[1.0, 0.0, x], [0.0, 1.0, y], [0.0, 0.0, 1.0]])


def rotate(a: float) -> Affine:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def scale(sx: float, sy: float | None = None) -> Affine:
    return np.array([[sx, 0.0, 0.0], [0.0, sx if sy is None else sy, 0.0], [0.0, 0.0, 1.0]])


def apply(m: Affine, pts: np.ndarray) -> np.ndarray:
    """Transform (N, 2) points by a homogeneous affine."""
    return pts @ m[:2, :2].T + m[:2, 2]  # (N, 2)


def fixed(pts: np.ndarray) -> np.ndarray:
    """Float pixel coordinates -> cv2 fixed-point int32 (N, 1, 2) for ``shift=SHIFT``."""
    return np.round(pts * ONE).astype(np.int32).reshape(-1, 1, 2)


@dataclass
class Shape:
    """A closed outline in local units (radius about 1); ``blob`` shapes deform with time."""

    kind: str  # "ellipse" | "poly" | "blob"
    aspect: float = 1.0  # ellipse y/x ratio
    angles: np.ndarray | None = None  # poly vertex angles
    radii: np.ndarray | None = None  # poly vertex radii
    amps: np.ndarray | None = None  # blob harmonic amplitudes
    phases: np.ndarray | None = None
    speeds: np.ndarray | None = None

    def points(self, t: float) -> np.ndarray:
        """Outline points (N, 2) at time ``t`` (frames)."""
        if self.kind == "ellipse":
            th = np.linspace(0, 2 * np.pi, 48, endpoint=False)
            return np.stack([np.cos(th), self.aspect * np.sin(th)], 1)
        if self.kind == "poly":
            assert self.angles is not None and self.radii is not None
            return np.stack([self.radii * np.cos(self.angles), self.radii * np.sin(self.angles)], 1)
        assert self.amps is not None and self.phases is not None and self.speeds is not None
        th = np.linspace(0, 2 * np.pi, 64, endpoint=False)
        k = np.arange(2, 2 + len(self.amps))[:, None]  # (H, 1) harmonics
        r = 1.0 + (self.amps[:, None] * np.sin(k * th[None] + self.phases[:, None]
                                                + self.speeds[:, None] * t)).sum(0)  # (N,)
        return np.stack([r * np.cos(th), self.aspect * r * np.sin(th)], 1)


@dataclass
class Part:
    """One inked, filled region of a character or of the background, with its details."""

    shape: Shape
    fill: tuple[int, int, int]
    offset: tuple[float, float] = (0.0, 0.0)  # in the parent's units
    size: float = 1.0
    angle: float = 0.0
    swing: float = 0.0  # limb swing amplitude (radians) ...
    swing_speed: float = 0.0  # ... and angular speed (radians per frame)
    pivot: tuple[float, float] = (0.0, 0.0)  # swing about this local point
    shade: bool = True
    stripes: list[tuple[float, float, tuple[int, int, int]]] = field(default_factory=list)  # (centre, width, fill)
    children: list[Part] = field(default_factory=list)
    pupil: float = 0.0  # > 0: an inked pupil of this radius (local units) at the centre
    mouth: bool = False

    def matrix(self, parent: Affine, t: float) -> Affine:
        a = self.angle + self.swing * math.sin(self.swing_speed * t)
        px, py = self.pivot
        return parent @ translate(*self.offset) @ translate(px * self.size, py * self.size) @ rotate(a) \
            @ translate(-px * self.size, -py * self.size) @ scale(self.size)


@dataclass
class Actor:
    """A character or prop: parts under one moving transform (screen px)."""

    parts: list[Part]
    start: tuple[float, float]
    end: tuple[float, float]
    radius: float  # px
    rot0: float
    rot_speed: float
    scale_amp: float
    scale_speed: float
    squash: float  # squash-and-stretch amplitude
    bob: float  # px, a walk's vertical bounce
    bob_speed: float
    on_twos: bool
    world: bool  # fixed to the background (moves with the pan) rather than the screen

    def matrix(self, t: float, n: int, pan: tuple[float, float]) -> Affine:
        if self.on_twos:
            t = t - (t % 2)  # a held drawing: the pose changes every other frame
        u = t / max(n - 1, 1)
        x = self.start[0] + (self.end[0] - self.start[0]) * u
        y = self.start[1] + (self.end[1] - self.start[1]) * u + self.bob * abs(math.sin(self.bob_speed * t))
        if self.world:
            x, y = x - pan[0], y - pan[1]
        s = self.radius * (1.0 + self.scale_amp * math.sin(self.scale_speed * t))
        q = 1.0 + self.squash * math.sin(2 * self.bob_speed * t)
        return translate(x, y) @ rotate(self.rot0 + self.rot_speed * t) @ scale(s * q, s / q)
