"""Generated line-art and colour clips with known shot boundaries, for tests and benchmarks.

Each shot is a little cel scene drawn with OpenCV: a background of outlined shapes larger than
the frame (so the camera can pan) and a "character" (a cluster of outlined ellipses) that can
hold still, move slowly, move fast, enter from outside the frame, or be held on twos. Shots are
joined by hard cuts or by a fade through black. ``make_clip`` returns the frames and the true
cut positions, so a detector can be scored exactly. Deterministic for a given seed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

MOTIONS = ("static", "slow", "fast", "pan", "enter", "twos")


@dataclass(frozen=True)
class ShotSpec:
    """One generated shot: its length, motion and whether it ends in a fade to black."""

    length: int
    motion: str = "slow"  # one of MOTIONS
    fade_out: int = 0  # frames of fade to black at the end (the next shot fades in as long)
    seed: int = 0


@dataclass
class Clip:
    """Generated frames and the truth: ``cuts`` are the first frame indices of shots 2..n."""

    frames: list[np.ndarray]  # uint8 (H, W, 3) RGB
    cuts: list[int]
    windows: list[tuple[int, int]] = field(default_factory=list)  # per cut: [lo, hi] accepted indices


def _scene(rng: np.random.Generator, h: int, w: int):
    world_w, world_h = int(w * 1.8), int(h * 1.4)
    shapes = []
    for _ in range(int(rng.integers(6, 11))):
        kind = rng.choice(["rect", "circle", "poly"])
        cx, cy = rng.uniform(0, world_w), rng.uniform(0, world_h)
        s = rng.uniform(0.08, 0.3) * h
        if kind == "rect":
            pts = np.array([[cx - s, cy - s * 0.7], [cx + s, cy - s * 0.7],
                            [cx + s, cy + s * 0.7], [cx - s, cy + s * 0.7]])
        elif kind == "circle":
            a = np.linspace(0, 2 * np.pi, 24, endpoint=False)
            pts = np.stack([cx + s * np.cos(a), cy + s * 0.8 * np.sin(a)], 1)
        else:
            n = int(rng.integers(3, 7))
            a = np.sort(rng.uniform(0, 2 * np.pi, n))
            r = s * rng.uniform(0.5, 1.2, n)
            pts = np.stack([cx + r * np.cos(a), cy + r * np.sin(a)], 1)
        shapes.append((pts, tuple(int(v) for v in rng.integers(40, 250, 3))))
    horizon = rng.uniform(0.45, 0.75) * world_h
    sky = tuple(int(v) for v in rng.integers(120, 255, 3))
    ground = tuple(int(v) for v in rng.integers(30, 200, 3))
    # Character: a body and a head with two eyes, in character-local coordinates.
    size = rng.uniform(0.15, 0.28) * h
    body = ((0.0, 0.0), (size * 0.5, size * 0.8))
    head = ((0.0, -size * 1.1), (size * 0.4, size * 0.4))
    colors = [tuple(int(v) for v in rng.integers(30, 255, 3)) for _ in range(2)]
    return dict(world=(world_w, world_h), shapes=shapes, horizon=horizon, sky=sky, ground=ground,
                body=body, head=head, colors=colors, size=size)


def _draw(sc: dict, cam: tuple[float, float], char: tuple[float, float, float], h: int, w: int,
          lines_only: bool) -> np.ndarray:
    t = max(1, round(h / 180))  # line thickness grows with resolution
    img = np.empty((h, w, 3), np.uint8)
    ox, oy = cam
    if lines_only:
        img[:] = 255
    else:
        hy = int(round(sc["horizon"] - oy))
        img[:max(0, min(h, hy))] = sc["sky"]
        img[max(0, min(h, hy)):] = sc["ground"]
    hy = int(round(sc["horizon"] - oy))
    cv2.line(img, (0, hy), (w - 1, hy), (0, 0, 0), t, cv2.LINE_AA)
    for pts, col in sc["shapes"]:
        p = np.round((pts - [ox, oy]) * 16).astype(np.int32)[None]
        cv2.fillPoly(img, p, (255, 255, 255) if lines_only else col, cv2.LINE_AA, shift=4)
        cv2.polylines(img, p, True, (0, 0, 0), t, cv2.LINE_AA, shift=4)
    cx, cy, ang = char
    for (dx, dy), (ax, ay), col in ((*sc["body"], sc["colors"][0]), (*sc["head"], sc["colors"][1])):
        c, s = np.cos(ang), np.sin(ang)
        px, py = cx + c * dx - s * dy, cy + s * dx + c * dy
        center = (int(round(px * 16)), int(round(py * 16)))
        axes = (int(round(ax * 16)), int(round(ay * 16)))
        cv2.ellipse(img, center, axes, np.degrees(ang), 0, 360, (255, 255, 255) if lines_only else col, -1,
                    cv2.LINE_AA, shift=4)
        cv2.ellipse(img, center, axes, np.degrees(ang), 0, 360, (0, 0, 0), t, cv2.LINE_AA, shift=4)
    # eyes
    hx, hy2 = cx + np.sin(-ang) * sc["size"] * 1.1 * -1, cy - np.cos(ang) * sc["size"] * 1.1
    for e in (-1, 1):
        eye = (int(round(hx + e * sc["size"] * 0.15)), int(round(hy2)))
        cv2.circle(img, eye, max(1, t), (0, 0, 0), -1, cv2.LINE_AA)
    return img


def render_shot(spec: ShotSpec, height: int, width: int, lines_only: bool) -> Iterator[np.ndarray]:
    """Yield the frames of one shot (RGB uint8), without fades."""
    rng = np.random.default_rng(spec.seed)
    h, w = height, width
    sc = _scene(rng, h, w)
    world_w, world_h = sc["world"]
    cam0 = np.array([rng.uniform(0, world_w - w), rng.uniform(0, world_h - h)])
    pan = rng.choice([-1, 1]) * np.array([rng.uniform(0.015, 0.03) * w, rng.uniform(-0.004, 0.004) * h])
    start = np.array([rng.uniform(0.3, 0.7) * w, rng.uniform(0.45, 0.7) * h])
    slow = rng.uniform(-1, 1, 2) * 0.006 * w
    fast = rng.choice([-1, 1]) * np.array([rng.uniform(0.06, 0.1) * w, 0.0])
    for i in range(spec.length):
        cam = cam0.copy()
        pos = start.copy()
        ang = 0.0
        m = spec.motion
        if m == "slow":
            pos = start + slow * i
        elif m == "twos":
            pos = start + slow * 2 * (i // 2)
            ang = 0.05 * np.sin((i // 2) * 0.6)
        elif m == "fast":
            # bounce back and forth across the frame with a wobble
            x = (fast[0] * i) % (2 * w * 0.8)
            x = x if x < w * 0.8 else 2 * w * 0.8 - x
            pos = np.array([w * 0.1 + abs(x), start[1] + 0.08 * h * np.sin(i * 1.3)])
            ang = 0.3 * np.sin(i * 0.9)
        elif m == "pan":
            cam = cam0 + pan * i
            pos = start + slow * i
        elif m == "enter":
            side = -1 if spec.seed % 2 else 1
            x0 = w / 2 + side * (w / 2 + sc["size"])
            pos = np.array([x0 - side * min(i * 0.03 * w, w / 2 + sc["size"]), start[1]])
        yield _draw(sc, (float(cam[0]), float(cam[1])), (float(pos[0]), float(pos[1]), ang), h, w, lines_only)


def make_clip(specs: list[ShotSpec], height: int = 144, width: int = 256, lines_only: bool = True) -> Clip:
    """Frames of ``specs`` joined by hard cuts or fades, with the true cut positions.

    A shot with ``fade_out=F`` darkens to black over its last F frames and the next shot
    brightens from black over its first F frames; its cut is the next shot's first frame, and
    any detection from the first dark frame to the last brightening frame counts as a hit.
    """
    frames: list[np.ndarray] = []
    cuts: list[int] = []
    windows: list[tuple[int, int]] = []
    fade_in = 0
    for k, spec in enumerate(specs):
        shot = list(render_shot(spec, height, width, lines_only))
        if k > 0:
            cuts.append(len(frames))
            prev_fade = specs[k - 1].fade_out
            if prev_fade:
                windows.append((len(frames) - prev_fade, len(frames) + prev_fade - 1))
            else:
                windows.append((len(frames), len(frames)))
        for i in range(min(fade_in, len(shot))):
            shot[i] = (shot[i].astype(np.float32) * ((i + 1) / (fade_in + 1))).astype(np.uint8)
        n = len(shot)
        for j in range(min(spec.fade_out, n)):
            i = n - spec.fade_out + j
            shot[i] = (shot[i].astype(np.float32) * (1 - (j + 1) / (spec.fade_out + 1))).astype(np.uint8)
        fade_in = spec.fade_out
        frames.extend(shot)
    return Clip(frames=frames, cuts=cuts, windows=windows)


def random_specs(rng: np.random.Generator, n_shots: int, min_len: int = 12, max_len: int = 40,
                 fade_prob: float = 0.2) -> list[ShotSpec]:
    """A random mix of shot motions and transitions for benchmarks."""
    specs = []
    for _ in range(n_shots):
        specs.append(ShotSpec(length=int(rng.integers(min_len, max_len + 1)), motion=str(rng.choice(MOTIONS)),
                              fade_out=int(rng.integers(4, 9)) if rng.random() < fade_prob else 0,
                              seed=int(rng.integers(0, 2**31))))
    return specs
