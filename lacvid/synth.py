"""Synthetic cel-animation shots: exact colour and line art for training and tests.

No public line-art video dataset may be shipped, so lacvid trains its default model on shots it
draws itself. Each shot is a little cel animation: a background with its own regions (sky,
ground, hills, buildings, clouds) under a panning camera, and characters and props built from
ellipses, polygons and blobs that move, rotate, scale, deform, swing their limbs, occlude one
another and enter or leave the frame, some of them held on twos. Every part has a black outline,
a flat fill, a cel-shading region (a darker tone on the side away from the shot's light, bounded
by an ink line) and inner details (eyes, stripes, pockets).

The line art is drawn, not extracted: every outline and every boundary between two fills is
inked (anti-aliased, ``cv2.LINE_AA``), so region fills on the line art recover the colour
regions exactly. The colour frame is the fills multiplied by the line art, as a finished cel is.

Deterministic: shot ``i`` of seed ``s`` depends on ``(s, i)`` only.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from lacvid.errors import InputError
from lacvid.outputs import atomic_output, check_output_path
from lacvid.progress import NULL_PROGRESS, Progress

_SHIFT = 4  # cv2 sub-pixel bits: points are drawn at 1/16 px so slow motion stays smooth
_ONE = 1 << _SHIFT

Affine = np.ndarray  # (3, 3) float64 homogeneous 2-D transform


def _T(x: float, y: float) -> Affine:
    return np.array([[1.0, 0.0, x], [0.0, 1.0, y], [0.0, 0.0, 1.0]])


def _R(a: float) -> Affine:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _S(sx: float, sy: float | None = None) -> Affine:
    return np.array([[sx, 0.0, 0.0], [0.0, sx if sy is None else sy, 0.0], [0.0, 0.0, 1.0]])


def _apply(m: Affine, pts: np.ndarray) -> np.ndarray:
    """Transform (N, 2) points by a homogeneous affine."""
    return pts @ m[:2, :2].T + m[:2, 2]  # (N, 2)


def _fixed(pts: np.ndarray) -> np.ndarray:
    """Float pixel coordinates -> cv2 fixed-point int32 (N, 1, 2) for ``shift=_SHIFT``."""
    return np.round(pts * _ONE).astype(np.int32).reshape(-1, 1, 2)


# --------------------------------------------------------------------------------------------
# Shapes and parts
# --------------------------------------------------------------------------------------------

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
        return parent @ _T(*self.offset) @ _T(px * self.size, py * self.size) @ _R(a) \
            @ _T(-px * self.size, -py * self.size) @ _S(self.size)


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
        return _T(x, y) @ _R(self.rot0 + self.rot_speed * t) @ _S(s * q, s / q)


# --------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------

class _Canvas:
    """A colour-fill canvas and its line art, drawn in painter's order."""

    def __init__(self, color: np.ndarray, lines: np.ndarray, width: int, light: np.ndarray) -> None:
        self.h, self.w = lines.shape
        self.color = color  # (H, W, 3) flat fills, no ink
        self.lines = lines  # (H, W) 255 = paper
        self.width = width
        self.detail_width = max(1, width - 1)
        self.light = light  # unit vector pointing towards the light

    def draw(self, part: Part, parent: Affine, t: float) -> None:
        m = part.matrix(parent, t)
        poly = _apply(m, part.shape.points(t))  # (N, 2) px
        x0, y0 = np.floor(poly.min(0)).astype(int) - 2
        x1, y1 = np.ceil(poly.max(0)).astype(int) + 3
        if x1 < 0 or y1 < 0 or x0 >= self.w or y0 >= self.h:
            return
        pts = _fixed(poly)
        mask_u8 = np.zeros((self.h, self.w), np.uint8)
        cv2.fillPoly(mask_u8, [pts], 1, lineType=cv2.LINE_8, shift=_SHIFT)
        mask = mask_u8.astype(bool)  # (H, W)
        if not mask.any():
            return
        fill = np.array(part.fill, np.uint8)
        before = self.color.copy()
        self.color[mask] = fill
        ink = np.full((self.h, self.w), 255, np.uint8)  # inner lines, clipped to the part below
        if part.stripes or part.shade:
            ys, xs = np.nonzero(mask)
            inv = np.linalg.inv(m)
            local = np.stack([xs, ys], 1) @ inv[:2, :2].T + inv[:2, 2]  # (P, 2) part units
            reach = 2.0 * float(np.abs(part.shape.points(t)).max())  # past the outline, in part units
            for centre, width, sfill in part.stripes:
                band = np.abs(local[:, 1] - centre) < width / 2
                self.color[ys[band], xs[band]] = sfill
                for edge in (centre - width / 2, centre + width / 2):
                    seg = _apply(m, np.array([[-reach, edge], [reach, edge]]))
                    cv2.line(ink, tuple(_fixed(seg[0])[0, 0]), tuple(_fixed(seg[1])[0, 0]), 0,
                             self.detail_width, cv2.LINE_AA, _SHIFT)
            if part.shade:
                centre = poly.mean(0)
                radius = float(np.abs(poly - centre).max())
                # The shadow is on the side away from the light, whatever the part's rotation.
                offset = 0.15 * radius
                d = (np.stack([xs, ys], 1) - centre) @ -self.light  # (P,)
                shade = d > offset
                self.color[ys[shade], xs[shade]] = (self.color[ys[shade], xs[shade]] * 0.68).astype(np.uint8)
                base = centre - self.light * offset
                perp = np.array([-self.light[1], self.light[0]]) * 3 * radius
                p0, p1 = _fixed(base - perp)[0, 0], _fixed(base + perp)[0, 0]
                cv2.line(ink, tuple(p0), tuple(p1), 0, self.detail_width, cv2.LINE_AA, _SHIFT)
        ink[~mask] = 255
        self.lines[mask] = 255  # this part hides the lines of everything behind it
        np.minimum(self.lines, ink, out=self.lines)
        cv2.polylines(self.lines, [pts], True, 0, self.width, cv2.LINE_AA, _SHIFT)
        # A fill pixel the stroke missed (a sharp corner's tip) would be a colour edge without
        # ink: give it back the colour underneath, so every colour boundary stays inked.
        edge = mask & ~cv2.erode(mask_u8, np.ones((3, 3), np.uint8)).astype(bool) & (self.lines == 255)
        self.color[edge] = before[edge]
        for child in part.children:
            self.draw(child, m, t)
        if part.pupil > 0:
            c = _apply(m, np.zeros((1, 2)))[0]
            r = part.pupil * float(np.linalg.norm(m[:2, 0]))
            cv2.circle(self.lines, tuple(_fixed(c)[0, 0]), max(1, int(round(r * _ONE))), 0, -1, cv2.LINE_AA, _SHIFT)
        if part.mouth:
            c = _apply(m, np.array([[0.0, 0.45]]))[0]
            axes = (max(_ONE, int(0.35 * np.linalg.norm(m[:2, 0]) * _ONE)),
                    max(_ONE, int(0.15 * np.linalg.norm(m[:2, 1]) * _ONE)))
            ang = math.degrees(math.atan2(m[1, 0], m[0, 0]))
            cv2.ellipse(self.lines, tuple(_fixed(c)[0, 0]), axes, ang, 20, 160, 0, self.detail_width,
                        cv2.LINE_AA, _SHIFT)


# --------------------------------------------------------------------------------------------
# Random scene construction
# --------------------------------------------------------------------------------------------

def _palette(rng: np.random.Generator, n: int) -> list[tuple[int, int, int]]:
    """``n`` distinct flat colours; never near black, so ink always reads as ink."""
    base = rng.random()
    cols = []
    for i in range(n):
        h = (base + i / n + rng.normal(0, 0.04)) % 1.0
        s = rng.uniform(0.25, 0.9)
        v = rng.uniform(0.55, 1.0)
        r, g, b = colorsys.hsv_to_rgb(h, s, v)
        cols.append((int(r * 255), int(g * 255), int(b * 255)))
    order = rng.permutation(n)
    return [cols[i] for i in order]


def _shape(rng: np.random.Generator, kind: str | None = None) -> Shape:
    kind = kind or rng.choice(["ellipse", "poly", "blob"], p=[0.4, 0.25, 0.35])
    if kind == "ellipse":
        return Shape("ellipse", aspect=float(rng.uniform(0.55, 1.4)))
    if kind == "poly":
        n = int(rng.integers(3, 8))
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        angles = np.linspace(0, 2 * np.pi, n, endpoint=False) * 0.6 + angles * 0.4  # avoid slivers
        return Shape("poly", angles=np.sort(angles), radii=rng.uniform(0.75, 1.15, n))
    k = int(rng.integers(2, 5))
    return Shape("blob", aspect=float(rng.uniform(0.7, 1.3)), amps=rng.uniform(0.03, 0.16, k) / np.arange(1, k + 1),
                 phases=rng.uniform(0, 2 * np.pi, k), speeds=rng.uniform(-0.25, 0.25, k))


def _character(rng: np.random.Generator, pal: list[tuple[int, int, int]]) -> list[Part]:
    """Body, optional head with eyes and mouth, limbs behind the body, stripes, a pocket."""
    pick = lambda: pal[int(rng.integers(len(pal)))]  # noqa: E731
    parts: list[Part] = []
    speed = rng.uniform(0.2, 0.5)
    for side in (-1, 1):
        if rng.random() < 0.7:
            limb = Part(Shape("ellipse", aspect=float(rng.uniform(0.25, 0.4))), pick(), offset=(0.8 * side, 0.1),
                        size=float(rng.uniform(0.45, 0.7)), angle=float(rng.uniform(-0.6, 0.6)) + (side < 0) * np.pi,
                        swing=float(rng.uniform(0.2, 0.7)), swing_speed=float(speed * side), pivot=(-0.9, 0.0))
            parts.append(limb)
    body = Part(_shape(rng), pick())
    if rng.random() < 0.5:
        c = float(rng.uniform(-0.3, 0.3))
        w = float(rng.uniform(0.12, 0.3))
        body.stripes.append((c, w, pick()))
        if rng.random() < 0.4:
            body.stripes.append((c + w + float(rng.uniform(0.1, 0.3)), w, pick()))
    if rng.random() < 0.4:
        pocket = Part(Shape("poly", angles=np.array([0.785, 2.356, 3.927, 5.498]), radii=np.full(4, 1.0)),
                      pick(), offset=(float(rng.uniform(-0.3, 0.3)), float(rng.uniform(0.2, 0.4))),
                      size=float(rng.uniform(0.15, 0.25)), shade=False)
        body.children.append(pocket)
    parts.append(body)
    if rng.random() < 0.75:
        head = Part(_shape(rng, "ellipse" if rng.random() < 0.7 else "blob"), pick(),
                    offset=(float(rng.uniform(-0.2, 0.2)), -float(rng.uniform(1.0, 1.3))),
                    size=float(rng.uniform(0.5, 0.75)), swing=float(rng.uniform(0, 0.25)),
                    swing_speed=float(rng.uniform(0.1, 0.3)), pivot=(0.0, 0.9), mouth=rng.random() < 0.6)
        eye = float(rng.uniform(0.17, 0.26))
        white = (int(rng.integers(235, 256)),) * 3
        for side in (-1, 1):
            head.children.append(Part(Shape("ellipse", aspect=float(rng.uniform(1.0, 1.5))), white,
                                      offset=(0.35 * side, -0.1), size=eye, shade=False, pupil=0.45))
        parts.append(head)
    elif rng.random() < 0.5:  # a cyclops prop: one eye on the body
        body.children.append(Part(Shape("ellipse"), (250, 250, 250), offset=(0.0, -0.3), size=0.22, shade=False,
                                  pupil=0.5))
    return parts


def _actor(rng: np.random.Generator, pal: list[tuple[int, int, int]], h: int, w: int) -> Actor:
    r = float(rng.uniform(0.07, 0.17)) * min(h, w) * 1.0
    if rng.random() < 0.3:  # enters or leaves across a side
        y = rng.uniform(0.3, 0.85) * h
        a, b = -1.6 * r, w + 1.6 * r
        start, end = ((a, y), (rng.uniform(0.3, 0.7) * w, y)) if rng.random() < 0.5 else \
            ((rng.uniform(0.3, 0.7) * w, y), (b, y))
        if rng.random() < 0.5:
            start, end = (w - start[0], start[1]), (w - end[0], end[1])
    else:
        start = (rng.uniform(0.1, 0.9) * w, rng.uniform(0.25, 0.85) * h)
        step = rng.normal(0, 0.18, 2) * np.array([w, h * 0.5])
        end = (start[0] + step[0], start[1] + step[1])
    return Actor(
        parts=_character(rng, pal) if rng.random() < 0.75 else [Part(_shape(rng), pal[int(rng.integers(len(pal)))])],
        start=(float(start[0]), float(start[1])), end=(float(end[0]), float(end[1])), radius=r,
        rot0=float(rng.uniform(-0.4, 0.4)), rot_speed=float(rng.normal(0, 0.02)),
        scale_amp=float(rng.uniform(0, 0.15)), scale_speed=float(rng.uniform(0.05, 0.2)),
        squash=float(rng.uniform(0, 0.08)), bob=float(rng.uniform(0, 0.05)) * h, bob_speed=float(rng.uniform(0.15, 0.4)),
        on_twos=bool(rng.random() < 0.4), world=bool(rng.random() < 0.3),
    )


def _background(rng: np.random.Generator, h: int, w: int, width: int, light: np.ndarray) -> _Canvas:
    """A background bigger than the frame (the camera pans over it) with its own inked regions."""
    pal = _palette(rng, 6)
    sky = np.empty((h, w, 3), np.uint8)
    sky[:] = pal[0]
    canvas = _Canvas(sky, np.full((h, w), 255, np.uint8), width, light)
    for _ in range(int(rng.integers(0, 3))):  # clouds
        cloud = Part(_shape(rng, "blob"), (245, 245, 250), size=float(rng.uniform(0.05, 0.1)) * w, shade=False)
        canvas.draw(cloud, _T(rng.uniform(0, w), rng.uniform(0.05, 0.35) * h), 0.0)
    horizon = rng.uniform(0.4, 0.7) * h
    for _ in range(int(rng.integers(0, 4))):  # hills and buildings behind the horizon
        if rng.random() < 0.5:
            hill = Part(_shape(rng, "ellipse"), pal[int(rng.integers(1, 6))], size=float(rng.uniform(0.12, 0.3)) * w)
            canvas.draw(hill, _T(rng.uniform(0, w), horizon), 0.0)
        else:
            bw, bh = rng.uniform(0.05, 0.12) * w, rng.uniform(0.15, 0.35) * h
            corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], float)
            ang = np.arctan2(corners[:, 1] * bh, corners[:, 0] * bw)
            rad = np.hypot(bw, bh) / bw
            building = Part(Shape("poly", angles=ang, radii=np.full(4, rad)), pal[int(rng.integers(1, 6))],
                            size=float(bw), stripes=[(float(rng.uniform(-0.3, 0.3)) * bh / bw, 0.25, pal[0])])
            canvas.draw(building, _T(rng.uniform(0, w), horizon - bh * 0.8), 0.0)
    # Ground: a wavy horizon edge, extended past the canvas so no ink runs along the border.
    xs = np.linspace(-0.1 * w, 1.1 * w, 24)
    ys = horizon + np.cumsum(rng.normal(0, 0.012 * h, xs.size))
    outline = np.concatenate([np.stack([xs, ys], 1), [[1.1 * w, 1.2 * h], [-0.1 * w, 1.2 * h]]])
    centre = outline.mean(0)
    rel = outline - centre
    ground = Part(Shape("poly", angles=np.arctan2(rel[:, 1], rel[:, 0]), radii=np.hypot(rel[:, 0], rel[:, 1])),
                  pal[int(rng.integers(1, 6))], shade=False,
                  stripes=[(float(rng.uniform(0.2, 0.6)) * (1.2 * h - horizon), float(rng.uniform(0.04, 0.1)) * h,
                            pal[int(rng.integers(1, 6))])] if rng.random() < 0.5 else [])
    canvas.draw(ground, _T(*centre), 0.0)
    for _ in range(int(rng.integers(0, 4))):  # rocks, bushes on the ground
        prop = Part(_shape(rng), pal[int(rng.integers(1, 6))], size=float(rng.uniform(0.02, 0.06)) * w)
        canvas.draw(prop, _T(rng.uniform(0, w), rng.uniform(horizon + 0.05 * h, h)), 0.0)
    return canvas


@dataclass(frozen=True)
class SynthConfig:
    """What ``lacvid synth`` draws: shot count, frames per shot, frame size, seed."""

    shots: int = 8
    frames: int = 16
    height: int = 256
    width: int = 256
    seed: int = 0


def render_shot(seed: int, index: int, frames: int, height: int, width: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``frames`` pairs (colour uint8 (H, W, 3) RGB, line art uint8 (H, W)) of one shot."""
    if frames < 1 or height < 8 or width < 8:
        raise InputError(f"cannot draw {frames} frames of {width}x{height}; use at least 1 frame of 8x8 px")
    rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
    scale = min(height, width) / 256
    line_w = max(2, int(round(rng.choice([1.5, 2.0, 2.5, 3.0]) * scale)))  # 1 px AA outlines leak
    a = rng.uniform(0, 2 * np.pi)
    light = np.array([math.cos(a), math.sin(a)])
    pan_x = rng.choice([0.0, 0.0, 1.0, -1.0]) * rng.uniform(0.1, 0.35) * width
    pan_y = rng.choice([0.0, 0.0, 0.0, 1.0, -1.0]) * rng.uniform(0.05, 0.15) * height
    bh, bw = height + int(abs(pan_y)) + 1, width + int(abs(pan_x)) + 1
    bg = _background(rng, bh, bw, line_w, light)
    pal = _palette(rng, int(rng.integers(4, 9)))
    actors = [_actor(rng, pal, height, width) for _ in range(int(rng.integers(1, 5)))]
    actors.sort(key=lambda act: act.start[1] + act.radius)  # nearer (lower, bigger) in front
    ox0 = 0 if pan_x >= 0 else int(abs(pan_x))
    oy0 = 0 if pan_y >= 0 else int(abs(pan_y))
    for t in range(frames):
        u = t / max(frames - 1, 1)
        px, py = pan_x * u, pan_y * u
        # The camera moves on ones, by whole pixels, never past the background's edge.
        ox = min(max(ox0 + int(round(px)), 0), bw - width)
        oy = min(max(oy0 + int(round(py)), 0), bh - height)
        canvas = _Canvas(bg.color[oy:oy + height, ox:ox + width].copy(), bg.lines[oy:oy + height, ox:ox + width].copy(),
                         line_w, light)
        for actor in actors:
            m = actor.matrix(float(t), frames, (px, py))
            for part in actor.parts:
                canvas.draw(part, m, float(t))
        color = (canvas.color.astype(np.uint16) * canvas.lines[..., None] // 255).astype(np.uint8)  # (H, W, 3)
        yield color, canvas.lines


def _write_png(path: Path, image: np.ndarray) -> None:
    img = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    if not cv2.imwrite(str(path), img, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
        raise InputError(f"cannot write {path}; check the output folder")


def write_dataset(out: Path | str, config: SynthConfig, *, overwrite: bool = False,
                  progress: Progress = NULL_PROGRESS) -> Path:
    """Write ``OUT/<shot>/color/NNNN.png`` and ``OUT/<shot>/lines/NNNN.png`` atomically.

    The layout is the training dataset layout ``lacvid train`` reads.
    """
    if config.shots < 1:
        raise InputError(f"cannot draw {config.shots} shots; ask for at least 1 (--shots)")
    out = Path(out)
    check_output_path(out, overwrite)  # before any progress bar: a bad path is one error line
    task = progress.task("synth", total=config.shots * config.frames, unit="frames")
    try:
        with atomic_output(out, overwrite=overwrite, directory=True) as tmp:
            for i in range(config.shots):
                shot = tmp / f"shot{i:04d}"
                (shot / "color").mkdir(parents=True)
                (shot / "lines").mkdir()
                for t, (color, lines) in enumerate(render_shot(config.seed, i, config.frames, config.height,
                                                               config.width)):
                    _write_png(shot / "color" / f"{t:04d}.png", color)
                    _write_png(shot / "lines" / f"{t:04d}.png", lines)
                    task.advance()
    finally:
        task.close()
    return out
