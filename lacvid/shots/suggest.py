"""Which frames a painter should colour: key-frame suggestions per shot.

Every shot needs its first frame as a key (colour never flows across a cut, and the networks
need at least one reference per shot). More keys help where the drawing changes most within a
shot: new regions appear (a character enters, a hand uncovers a face) that no earlier key shows.
So the suggestion is a greedy farthest-point selection on line art: after the first frame,
repeatedly add the frame whose lines are least explained by the keys chosen so far, measured as
the share of its line pixels farther than ``radius`` from any key's lines (new lines) plus the
share of the key's lines it has lost (occlusions), and stop at ``per_shot`` keys or when no
frame changes more than ``min_change``.

Memory: one shot at a time, each frame kept as a bit-packed line mask at the working size
(~5 KB a frame at 256 px wide), so long clips are fine.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from lacvid.preprocess.distance import distance_transform
from lacvid.preprocess.lines import dog_ink
from lacvid.progress import NULL_PROGRESS, Progress
from lacvid.shots.detect import Shot
from lacvid.util import kernels


@dataclass(frozen=True)
class KeySettings:
    """How many keys and how much change earns one."""

    per_shot: int = 1  # at most this many keys per shot (the first frame always)
    min_change: float = 0.1  # a frame needs this share of changed lines to become an extra key
    width: int = 256  # working width, as in shot detection
    radius: float = 2.0  # px at ``width``: lines farther than this from a key's lines are new
    min_gap: int = 2  # no two keys closer than this (or shot length / (2 * per_shot)) frames


def _small_mask(image: np.ndarray, width: int) -> np.ndarray:
    """Ink mask uint8 ``(h, w)`` at the working width, as shot detection sees the frame."""
    h, w = image.shape[:2]
    sw = min(width, w)
    size = (sw, max(8, round(h * sw / w)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA) if (w, h) != size else image
    gray = small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    return dog_ink(gray, 0.8, 2.5, 0.03)


def _change(c: kernels.Chamfer) -> float:
    """Share of the candidate's lines that no key shows, plus the share of the key's it lost."""
    if c.ink_a == 0 and c.ink_b == 0:
        return 0.0
    if c.ink_a == 0 or c.ink_b == 0:
        return 1.0
    return 0.5 * (c.far_b / c.ink_b + c.far_a / c.ink_a)


def _select(masks: list[np.ndarray], start: int, settings: KeySettings) -> list[int]:
    """Greedy farthest-point selection over one shot's packed masks; returns frame indices."""
    n = len(masks)
    if settings.per_shot == 1 or n == 1:
        return [start]

    def load(i: int) -> tuple[np.ndarray, np.ndarray]:
        bits, shp = masks[i]
        m = np.unpackbits(bits, count=shp[0] * shp[1]).reshape(shp)
        return m, distance_transform(m)

    chosen = [0]  # the shot's first frame is always a key
    key_mask, key_dist = load(0)
    best = np.full(n, np.inf)  # change of each frame w.r.t. its nearest key
    while len(chosen) < settings.per_shot:
        for i in range(n):
            if best[i] == 0.0:
                continue
            m, d = load(i)
            c = kernels.chamfer_sums(key_mask, key_dist, m, d, (0, 0), radius=settings.radius)
            best[i] = min(best[i], _change(c))
        gap = max(settings.min_gap, n // (2 * settings.per_shot))  # spread keys over the shot
        for k in chosen:
            lo, hi = max(0, k - gap + 1), min(n, k + gap)
            best[lo:hi] = 0.0
        i = int(np.argmax(best))
        if best[i] < settings.min_change:
            break
        chosen.append(i)
        key_mask, key_dist = load(i)
    return sorted(start + i for i in chosen)


def suggest_keys(frames: Iterable[object], shots: list[Shot], per_shot: int = 1,
                 settings: KeySettings | None = None, progress: Progress = NULL_PROGRESS,
                 total: int | None = None) -> dict[Shot, list[int]]:
    """Suggested key frame indices for every shot: its first frame, then the most changed ones.

    ``frames`` streams the clip in order (arrays or ``lacvid.media.Frame``, colour or line
    art); ``shots`` covers it (from ``lacvid.shots.detect.detect_shots``). Returns ``{shot: [index,
    ...]}`` with 1 to ``per_shot`` sorted indices per shot.
    """
    if per_shot < 1:
        raise ValueError(f"per_shot must be >= 1, got {per_shot}")
    settings = settings or KeySettings()
    settings = KeySettings(per_shot=per_shot, min_change=settings.min_change, width=settings.width,
                           radius=settings.radius, min_gap=settings.min_gap)
    shots = sorted(shots)
    result: dict[Shot, list[int]] = {}
    task = progress.task("keys", total=total)
    k = 0
    buf: list[tuple[np.ndarray, tuple[int, int]]] = []
    try:
        for index, frame in enumerate(frames):
            while k < len(shots) and index >= shots[k].stop:
                if buf:
                    result[shots[k]] = _select(buf, shots[k].start, settings)
                buf = []
                k += 1
            if k >= len(shots):
                break
            image = getattr(frame, "image", frame)
            if index >= shots[k].start:
                if per_shot == 1:  # only the first frame: no need to look at the others
                    buf = buf or [(np.zeros(1, np.uint8), (1, 1))]
                else:
                    m = _small_mask(image, settings.width)
                    buf.append((np.packbits(m), m.shape))
            task.advance()
        if k < len(shots) and buf:
            result[shots[k]] = _select(buf, shots[k].start, settings)
    finally:
        task.close()
    for shot in shots:  # shots the stream never reached still get their first frame
        result.setdefault(shot, [shot.start])
    return {shot: result[shot] for shot in shots}
