"""Shot detection that works on line art as well as on colour footage.

Colour never flows across a cut, so clips are split into shots first. Histogram and HSV-based
detectors see nothing in line art (no hue, almost all paper), so the main metric here is
geometric: a symmetric chamfer distance between the line masks of consecutive frames at a small
working size (mean distance from each frame's ink to the other frame's nearest ink, via exact
distance transforms), taken after cancelling the global shift that phase correlation finds, so
a camera pan costs almost nothing. On colour footage a hue/saturation histogram distance adds
evidence (it ignores brightness, so fades do not move it).

A cut is a frame whose change is both large in absolute terms (``threshold``) and several
times (``ratio``) the typical change of the frames around it (a window on both sides): fast
motion and pans change every frame a lot, a cut changes one frame. Held drawings ("on twos")
give zero change and are left out of the typical value. Frames too flat to hold lines (black
between a fade out and a fade in) are skipped, and the first frame after them is compared to
the last frame before, so a fade through black gives at most one cut.

``ShotDetector`` is fed one frame at a time and keeps only the previous frame's small masks
and a window of scores: constant memory for any length.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from lacvid.progress import NULL_PROGRESS, Progress


@dataclass(frozen=True, order=True)
class Shot:
    """Frames ``start <= index < stop`` of one shot."""

    start: int
    stop: int

    def __len__(self) -> int:
        return self.stop - self.start

    def __contains__(self, index: object) -> bool:
        return isinstance(index, (int, np.integer)) and self.start <= index < self.stop


@dataclass(frozen=True)
class ShotSettings:
    """How sure a change must be to count as a cut. Distances in pixels at ``width``."""

    threshold: float = 0.4  # a cut's score must exceed this (share of lines changed, + colour term)
    ratio: float = 1.5  # ... and this many times the median score of nearby changing frames
    window: int = 8  # frames on each side that make the "nearby" median (also the decision delay)
    min_shot_len: int = 6  # no cut closer than this to the previous one
    width: int = 256  # working width (height keeps the aspect ratio)
    radius: float = 2.0  # a line pixel farther than this (px) from the other frame's lines has changed
    max_distance: float = 12.0  # distances are clipped here (px) in the mean chamfer distance
    hist_weight: float = 0.5  # weight of the hue/saturation histogram distance (0..1) in the score
    min_contrast: float = 40.0  # luma range below which a frame is blank (black, deep in a fade)
    blank_ink: float = 0.0005  # frames with less ink than this fraction are blank (fade black)
    threads: int | None = None  # kernel threads; None = the CPUs this process may use


@dataclass
class FrameSummary:
    """One frame as shot detection compares it (``ShotDetector.summarize``), at the small working width."""

    mask: np.ndarray  # (h, w) uint8, 1 = ink
    dist: np.ndarray  # (h, w) float32 px to the nearest ink
    gray: np.ndarray  # (h, w) float32, for phase correlation
    hist: np.ndarray | None  # (16*8,) float32 hue/saturation histogram; None for grey or dark frames
    bright: float  # mean luma


def _as_image(frame: object) -> tuple[int | None, np.ndarray]:
    image = getattr(frame, "image", frame)
    index = getattr(frame, "index", None)
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError("frames must be uint8 (H, W) / (H, W, 3) arrays or lacvid.media.Frame objects")
    return index, image


class ShotDetector:
    """Feed frames in order with ``push``; cuts come out ``window`` frames later; ``finish`` at the end."""

    def __init__(self, settings: ShotSettings = ShotSettings()) -> None:
        self.settings = settings
        self._prev: FrameSummary | None = None
        self._pending: deque[tuple[int, float, bool]] = deque()  # (index, score, after_blank)
        self._history: deque[float] = deque(maxlen=settings.window)  # scores already decided
        self._blank_gap = False
        self._last_cut = 0
        self._count = 0
        self._cuts: list[int] = []
        self._window: np.ndarray | None = None  # Hanning window for phase correlation

    @property
    def frame_count(self) -> int:
        return self._count

    def summarize(self, frame: object) -> FrameSummary:
        """What ``push`` keeps of one frame (its small line mask, distances, grey and colour histogram).

        Depends on nothing but the frame and the settings, so a caller may summarize frames on several threads
        (the scan does, beside its preprocessing: at 1080p the summary is most of detection's time) and
        ``push_summary`` them in order."""
        import cv2  # here, not at the top: ``Shot`` is imported by commands that never detect

        from lacvid.preprocess.distance import distance_transform
        from lacvid.preprocess.lines import dog_ink

        _, image = _as_image(frame)
        h, w = image.shape[:2]
        size = self._small_size(h, w)
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA) if (w, h) != size else image
        gray = small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        # Sigma 0.8 at 256 px: lines of 1-4 px at the full size become 1-2 px strokes here.
        # Frames with less than min_contrast of luma range (deep in a fade) count as blank.
        mask = dog_ink(gray, 0.8, 2.5, 0.03, self.settings.min_contrast)
        hist = None
        bright = float(gray.mean())
        if small.ndim == 3:
            hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
            # Hue and saturation of dark pixels are codec noise (fades flicker through every
            # hue), so only lit pixels count, and a mostly dark frame has no histogram.
            lit = cv2.inRange(hsv, (0, 0, 48), (180, 256, 256))
            if cv2.countNonZero(lit) >= 0.5 * lit.size:
                hist = cv2.calcHist([hsv], [0, 1], lit, [16, 8], [0, 180, 0, 256]).ravel()
                hist /= max(float(hist.sum()), 1.0)
        return FrameSummary(mask=mask, dist=distance_transform(mask), gray=gray.astype(np.float32), hist=hist,
                            bright=bright)

    def _small_size(self, h: int, w: int) -> tuple[int, int]:
        """(w, h) of the working size for frames of (h, w)."""
        sw = min(self.settings.width, w)
        return sw, max(8, round(h * sw / w))

    def _score(self, a: FrameSummary, b: FrameSummary) -> float:
        import cv2

        from lacvid.util import kernels

        s = self.settings
        # Cancel a global shift (camera pan) before comparing lines; keep the better of the two.
        if self._window is None or self._window.shape != a.gray.shape:
            self._window = cv2.createHanningWindow(a.gray.shape[::-1], cv2.CV_32F)
        (dx, dy), response = cv2.phaseCorrelate(a.gray, b.gray, self._window)
        shifts = [(0, 0)]
        if abs(dx) >= 0.5 or abs(dy) >= 0.5:
            shifts.append((int(round(dy)), int(round(dx))))
        best = None
        for shift in shifts:
            c = kernels.chamfer_sums(a.mask, a.dist, b.mask, b.dist, shift, s.max_distance, s.radius, s.threads)
            if best is None or c.changed() < best.changed():
                best = c
        assert best is not None
        hist = 0.0
        # Colour evidence only between frames of similar brightness: within a fade every frame
        # is darker than the last and its hues shift with codec rounding.
        similar = min(a.bright, b.bright) >= 0.92 * max(a.bright, b.bright)
        if a.hist is not None and b.hist is not None and similar:
            hist = 0.5 * float(np.abs(a.hist - b.hist).sum())
        return best.changed() + s.hist_weight * hist

    def push(self, frame: object) -> list[int]:
        """Add the next frame (an array or a ``Frame``); returns cuts decided by this call."""
        return self.push_summary(self.summarize(frame))

    def push_summary(self, small: FrameSummary) -> list[int]:
        """Add the next frame by its ``summarize``; returns cuts decided by this call."""
        index = self._count
        self._count += 1
        if small.mask.mean() < self.settings.blank_ink:  # black (or empty paper): no lines to compare
            if self._prev is not None:
                self._blank_gap = True
            return self._decide(final=False)
        if self._prev is None:
            self._prev = small
            return self._decide(final=False)
        score = self._score(self._prev, small)
        self._pending.append((index, score, self._blank_gap))
        self._blank_gap = False
        self._prev = small
        return self._decide(final=False)

    def finish(self) -> list[int]:
        """Decide the frames still waiting for their look-ahead; returns cuts decided by this call."""
        return self._decide(final=True)

    @property
    def cuts(self) -> list[int]:
        """Every cut decided so far: the first frame index of each new shot."""
        return list(self._cuts)

    def _decide(self, final: bool) -> list[int]:
        s = self.settings
        out: list[int] = []
        while self._pending and (final or len(self._pending) > s.window):
            index, score, after_blank = self._pending.popleft()
            around = [v for v in self._history if v > 1e-3]
            around += [v for _, v, _ in list(self._pending)[: s.window] if v > 1e-3]
            # Fewer than 3 changing neighbours: the shot holds still (or another cut is near),
            # so there is no motion to compare with and the absolute threshold decides.
            typical = float(np.median(around)) if len(around) >= 3 else 0.0
            if after_blank:  # across black: both sides are dim fade frames, any clear change is a cut
                is_cut = score > 0.5 * s.threshold
            else:
                is_cut = score > s.threshold and score > s.ratio * typical
            if is_cut and index - self._last_cut >= s.min_shot_len:
                self._cuts.append(index)
                self._last_cut = index
                out.append(index)
                self._history.clear()  # the new shot's motion says nothing about the old one
            else:
                self._history.append(score)
        return out

    def shots(self) -> list[Shot]:
        """The shots so far (call after ``finish``): consecutive spans between cuts."""
        bounds = [0, *self._cuts, self._count]
        return [Shot(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def detect_shots(frames: Iterable[object], settings: ShotSettings = ShotSettings(),
                 progress: Progress = NULL_PROGRESS, total: int | None = None) -> list[Shot]:
    """Split a stream of frames (arrays or ``lacvid.media.Frame``) into shots, in constant memory."""
    detector = ShotDetector(settings)
    task = progress.task("shots", total=total)
    try:
        for frame in frames:
            detector.push(frame)
            task.advance()
        detector.finish()
    finally:
        task.close()
    return detector.shots()
