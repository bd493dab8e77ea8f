"""Random shots: a panning background, characters and props that move, and the frames they make.

Deterministic: shot ``i`` of seed ``s`` depends on ``(s, i)`` only.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Iterator

import numpy as np

from lacvid.errors import InputError
from lacvid.synth.canvas import Canvas
from lacvid.synth.redrawn import redrawn_details
from lacvid.synth.rig import Actor, Part, Shape, translate
from lacvid.synth.stress import sky_gradient, stress_actors, stress_look
from lacvid.synth.style import STYLES, PencilStyle, pencil


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
        squash=float(rng.uniform(0, 0.08)), bob=float(rng.uniform(0, 0.05)) * h,
        bob_speed=float(rng.uniform(0.15, 0.4)),
        on_twos=bool(rng.random() < 0.4), world=bool(rng.random() < 0.3),
    )


def _background(rng: np.random.Generator, h: int, w: int, width: int, light: np.ndarray,
                gradient_sky: bool = False) -> Canvas:
    """A background bigger than the frame (the camera pans over it) with its own inked regions."""
    pal = _palette(rng, 6)
    sky = np.empty((h, w, 3), np.uint8)
    sky[:] = pal[0]
    if gradient_sky:
        sky = sky_gradient(sky)
    canvas = Canvas(sky, np.full((h, w), 255, np.uint8), width, light)
    for _ in range(int(rng.integers(0, 3))):  # clouds
        cloud = Part(_shape(rng, "blob"), (245, 245, 250), size=float(rng.uniform(0.05, 0.1)) * w, shade=False)
        canvas.draw(cloud, translate(rng.uniform(0, w), rng.uniform(0.05, 0.35) * h), 0.0)
    horizon = rng.uniform(0.4, 0.7) * h
    for _ in range(int(rng.integers(0, 4))):  # hills and buildings behind the horizon
        if rng.random() < 0.5:
            hill = Part(_shape(rng, "ellipse"), pal[int(rng.integers(1, 6))], size=float(rng.uniform(0.12, 0.3)) * w)
            canvas.draw(hill, translate(rng.uniform(0, w), horizon), 0.0)
        else:
            bw, bh = rng.uniform(0.05, 0.12) * w, rng.uniform(0.15, 0.35) * h
            corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], float)
            ang = np.arctan2(corners[:, 1] * bh, corners[:, 0] * bw)
            rad = np.hypot(bw, bh) / bw
            building = Part(Shape("poly", angles=ang, radii=np.full(4, rad)), pal[int(rng.integers(1, 6))],
                            size=float(bw), stripes=[(float(rng.uniform(-0.3, 0.3)) * bh / bw, 0.25, pal[0])])
            canvas.draw(building, translate(rng.uniform(0, w), horizon - bh * 0.8), 0.0)
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
    canvas.draw(ground, translate(*centre), 0.0)
    for _ in range(int(rng.integers(0, 4))):  # rocks, bushes on the ground
        prop = Part(_shape(rng), pal[int(rng.integers(1, 6))], size=float(rng.uniform(0.02, 0.06)) * w)
        canvas.draw(prop, translate(rng.uniform(0, w), rng.uniform(horizon + 0.05 * h, h)), 0.0)
    return canvas


def render_shot(seed: int, index: int, frames: int, height: int, width: int,
                style: str = "clean") -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``frames`` pairs (colour uint8 (H, W, 3) RGB, line art) of one shot.

    ``style``: ``clean`` (line art uint8 (H, W), black anti-aliased ink) or ``pencil`` (the drawing
    as artists export it, uint8 (H, W, 3): see ``lacvid.synth.style``): the scene is the same.
    ``stress``: that scene in faint pencil with many gaps, a gradient sky, and the shapes real drawings
    broke lacvid with added (``lacvid.synth.stress``). ``redrawn``: that scene in pencil with hair locks and
    folds that land a little differently in every drawing, as real inbetweens do (``lacvid.synth.redrawn``).
    """
    if frames < 1 or height < 8 or width < 8:
        raise InputError(f"cannot draw {frames} frames of {width}x{height}; use at least 1 frame of 8x8 px")
    if style not in STYLES:
        raise InputError(f"unknown drawing style {style!r}; use one of {', '.join(STYLES)}")
    look = PencilStyle.draw(np.random.default_rng(np.random.SeedSequence([seed, index, 1])))
    stress = np.random.default_rng(np.random.SeedSequence([seed, index, 3])) if style == "stress" else None
    if stress is not None:
        look = stress_look(stress)
    rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
    scale = min(height, width) / 256
    line_w = max(2, int(round(rng.choice([1.5, 2.0, 2.5, 3.0]) * scale)))  # 1 px AA outlines leak
    a = rng.uniform(0, 2 * np.pi)
    light = np.array([math.cos(a), math.sin(a)])
    pan_x = rng.choice([0.0, 0.0, 1.0, -1.0]) * rng.uniform(0.1, 0.35) * width
    pan_y = rng.choice([0.0, 0.0, 0.0, 1.0, -1.0]) * rng.uniform(0.05, 0.15) * height
    bh, bw = height + int(abs(pan_y)) + 1, width + int(abs(pan_x)) + 1
    bg = _background(rng, bh, bw, line_w, light, gradient_sky=stress is not None and bool(stress.random() < 0.5))
    pal = _palette(rng, int(rng.integers(4, 9)))
    actors = [_actor(rng, pal, height, width) for _ in range(int(rng.integers(1, 5)))]
    actors.sort(key=lambda act: act.start[1] + act.radius)  # nearer (lower, bigger) in front
    if stress is not None:
        globe, *front = stress_actors(stress, pal, height, width)
        actors = [globe, *actors, *front]
    if style == "redrawn":
        redrawn_details(np.random.default_rng(np.random.SeedSequence([seed, index, 4])), actors, pal)
    ox0 = 0 if pan_x >= 0 else int(abs(pan_x))
    oy0 = 0 if pan_y >= 0 else int(abs(pan_y))
    for t in range(frames):
        u = t / max(frames - 1, 1)
        px, py = pan_x * u, pan_y * u
        # The camera moves on ones, by whole pixels, never past the background's edge.
        ox = min(max(ox0 + int(round(px)), 0), bw - width)
        oy = min(max(oy0 + int(round(py)), 0), bh - height)
        crop = (slice(oy, oy + height), slice(ox, ox + width))
        canvas = Canvas(bg.color[crop].copy(), bg.lines[crop].copy(), line_w, light, bg.shade[crop].copy())
        for actor in actors:
            m = actor.matrix(float(t), frames, (px, py))
            for part in actor.parts:
                canvas.draw(part, m, float(t))
        if style in ("pencil", "stress", "redrawn"):
            yield pencil(canvas.color, canvas.lines, canvas.shade, look,
                         np.random.default_rng(np.random.SeedSequence([seed, index, 2, t])))
            continue
        color = (canvas.color.astype(np.uint16) * canvas.lines[..., None] // 255).astype(np.uint8)  # (H, W, 3)
        yield color, canvas.lines
