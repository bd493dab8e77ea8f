"""Doubt: where lacvid guessed a frame's paint, defined once.

A doubt map is uint8 (H, W) at the frame's full resolution: **0 = every key agrees and the
evidence is strong, 255 = guessed**. It is ``255 * (1 - trust)``, where trust is the same
quantity the fusion decides with, so doubt marks exactly where lacvid's choice rested on little:

- **drawings** (the propagation ran): per line-enclosed region, one value: the region's mean
  propagated confidence (``propagate.evidence.fuse``: the winning colour's share of the votes of
  the chains from every key, times the best chain's trust, which decays with every frame and
  every area mismatch on the way). Chains from two keys that disagree, or a region no chain
  reached (a character entering between keys that both lack it: the network's colour), are doubt.
- **colour footage** (keys warped by optical flow): per pixel, the warped keys' match
  confidence the same way: the most trusted warped key's confidence, times the share of the
  trusted keys' weight that agrees with its colour.
- Wherever the frame's paint is a key's pasted because the drawing holds still since that key
  (``compose.held``), doubt is 0: the key says what is there, and key frames are 0 throughout.
- Ink pixels take the doubt of the region they bound (the paint beneath them is that region's).

A pixel is *doubtful* at ``DOUBTFUL`` (128, trust below one half) or more; a frame's doubtful
share is the share of its pixels that are doubtful (lacvid paints every pixel; leaving bare
paper is a paint decision too). The map is what ``--layers`` writes as ``doubt/NAME.png``, what
``lacvid preview`` outlines, and what ``lacvid keys --next`` reduces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from lacvid.compose.regions import fill_ink_labels, paint_regions, region_sums
from lacvid.util.checks import check_array

DOUBTFUL = 128        # doubt at or above this marks a pixel as doubtful (trust below one half)
AGREE_LEVELS = 24     # warped keys' colours within this (max over RGB) agree


def _to_doubt(trust: np.ndarray) -> np.ndarray:
    """uint8: 255 * (1 - trust), trust clipped to [0, 1]."""
    return np.rint(255.0 * (1.0 - np.clip(trust, 0.0, 1.0))).astype(np.uint8)


def region_doubt(labels: tuple[np.ndarray, int], confidence: np.ndarray, full: np.ndarray | None = None) -> np.ndarray:
    """uint8 (H, W): per region of ``labels`` (``label_regions`` of the frame's full-size line art),
    ``255 * (1 - mean confidence)``; ``confidence`` float32 (h, w) in [0, 1] at the propagation's size
    (sampled by nearest neighbour, never upsampled whole); ``full``: ``fill_ink_labels(labels[0])`` when
    the caller has it already."""
    lab_map, n = labels
    check_array(lab_map, "labels", np.int32, ("H", "W"))
    check_array(confidence, "confidence", np.float32, ("h", "w"))
    total, area = region_sums(np.ascontiguousarray(lab_map), n, np.ascontiguousarray(confidence))  # (n + 1,) twice
    per_region = _to_doubt(total / np.maximum(area, 1))                          # (n + 1,) uint8
    per_region[area == 0] = 255
    if full is None:
        full = fill_ink_labels(np.ascontiguousarray(lab_map))                    # (H, W): ink as its region
    return paint_regions(per_region, full)                                       # (H, W) uint8


def pixel_doubt(colors: Sequence[np.ndarray], weights: Sequence[np.ndarray], size: tuple[int, int]) -> np.ndarray:
    """uint8 ``size`` (H, W) from warped keys: ``colors`` uint8 (h, w, 3) and ``weights`` float32 (h, w)
    each (``compose.fusion.Candidate``). Trust is the best key's weight (clipped to 1) times the share
    of all keys' clipped weight whose colour agrees with the best key's; no key at all: 255."""
    H, W = size
    if not colors:
        return np.full((H, W), 255, np.uint8)
    w = np.clip(np.stack([np.asarray(x, np.float32) for x in weights]), 0.0, 1.0)  # (N, h, w)
    c = np.stack(colors).astype(np.int16)                                        # (N, h, w, 3)
    best = w.argmax(0)                                                           # (h, w)
    chosen = np.take_along_axis(c, best[None, ..., None], 0)                     # (1, h, w, 3)
    agree = np.abs(c - chosen).max(-1) <= AGREE_LEVELS                           # (N, h, w)
    share = (w * agree).sum(0) / np.maximum(w.sum(0), 1e-6)                      # (h, w)
    trust = (w.max(0) * np.where(w.sum(0) > 0, share, 0.0)).astype(np.float32)  # (h, w)
    h, wd = trust.shape
    if (h, wd) != (H, W):
        trust = cv2.resize(trust, (W, H), interpolation=cv2.INTER_LINEAR)        # (H, W)
    return _to_doubt(trust)


def clear_held(doubt: np.ndarray, held: np.ndarray) -> np.ndarray:
    """``doubt`` with 0 wherever ``held`` (bool (H, W)): the paint there is a key's, pasted."""
    check_array(held, "held", np.bool_, doubt.shape)
    out = doubt.copy()
    out[held] = 0
    return out


def no_doubt(shape: tuple[int, int]) -> np.ndarray:
    """uint8 (H, W) zeros: a key frame, as painted."""
    return np.zeros(tuple(shape), np.uint8)


def doubtful_share(doubt: np.ndarray) -> float:
    """The share of a frame's pixels that are doubtful (``doubt >= DOUBTFUL``)."""
    return float(np.count_nonzero(doubt >= DOUBTFUL)) / max(doubt.size, 1)


def doubtful_outline(doubt: np.ndarray, width: int = 2) -> np.ndarray:
    """bool (H, W): the inner border, ``width`` px, of the doubtful areas: an outline that leaves the
    paint inside visible."""
    doubtful = (doubt >= DOUBTFUL).view(np.uint8)                                # (H, W) 0/1
    kernel = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
    return (doubtful > cv2.erode(doubtful, kernel, borderType=cv2.BORDER_REPLICATE))


def mark_doubt(frame: np.ndarray, doubt: np.ndarray, color: tuple[int, int, int] = (255, 0, 255),
               width: int | None = None) -> np.ndarray:
    """``frame`` (uint8 (H, W, 3)) with the doubtful areas outlined in ``color`` and hatched with thin
    diagonal lines every 8 px (the paint between them shows): how ``lacvid preview`` shows doubt."""
    check_array(frame, "frame", np.uint8, doubt.shape + (3,))
    H, W = doubt.shape
    width = width or max(1, round(min(H, W) / 120))
    doubtful = doubt >= DOUBTFUL                                                 # (H, W)
    yy, xx = np.mgrid[0:H, 0:W]
    hatch = doubtful & ((xx + yy) % max(8, 4 * width) < max(1, width // 2))     # (H, W)
    out = frame.copy()
    out[doubtful_outline(doubt, width) | hatch] = color
    return out


def doubt_mass(doubt: np.ndarray) -> float:
    """The frame's mean doubt in [0, 1]: how much of it is guessed, weighing each pixel by its doubt."""
    return float(doubt.mean()) / 255.0


@dataclass(frozen=True)
class ShotDoubt:
    """A shot's doubt figures: per frame its doubtful share (``doubtful_share``), keys at 0."""

    shares: dict[int, float]

    @property
    def doubtful(self) -> float:
        """The doubtful share of the shot's painted area (every frame's, keys included)."""
        return sum(self.shares.values()) / max(len(self.shares), 1)

    @property
    def worst_frame(self) -> int | None:
        """The frame with the largest doubtful share (the earliest of equals); None where no frame has a
        doubtful pixel."""
        if not any(self.shares.values()):
            return None
        return max(self.shares, key=lambda t: (self.shares[t], -t))

    def figures(self) -> dict[str, float | int | None]:
        """What ``preview --json`` and ``colorize --progress json`` say of a shot."""
        worst = self.worst_frame
        return {"doubtful": round(self.doubtful, 4), "worst_frame": worst,
                "worst_doubtful": round(self.shares[worst], 4) if worst is not None else None}


@dataclass(frozen=True)
class NextKey:
    """A frame to paint next and why: the doubt it would take out of its shot."""

    frame: int
    gain: float           # the shot's doubt mass (frames' mean doubt, summed) painting it would remove
    shot_mass: float      # the shot's doubt mass before


def key_reach(frames: range, keys: Sequence[int], t: int) -> np.ndarray:
    """float64 (len(frames),): how much a new key at ``t`` would take over each frame of the shot
    ``frames`` from the keys it already has: 1 at ``t``, falling linearly to 0 at the nearest key on
    either side (or just past the shot's end where there is none), 0 beyond it. The propagation
    trusts the nearer key more (its trust decays with every frame carried), so a frame between
    the new key and an old one gets new evidence in the measure it is nearer the new one."""
    s = np.arange(frames.start, frames.stop, dtype=np.float64)                         # (F,)
    left = max([k for k in keys if k < t], default=frames.start - 1)
    right = min([k for k in keys if k > t], default=frames.stop)
    reach = np.where(s <= t, 1.0 - (t - s) / (t - left), 1.0 - (s - t) / (right - t))  # (F,)
    return np.clip(reach, 0.0, 1.0)


def next_keys(shots: Sequence[tuple[range, Sequence[int], Sequence[float]]], n: int) -> list[tuple[int, NextKey]]:
    """The ``n`` frames whose painting would most reduce doubt, greedily: per shot ``(frames, keys,
    masses)`` (each frame's ``doubt_mass``), a candidate's gain is the shot's doubt mass it would
    remove (``key_reach`` times each frame's mass); the largest gain over every shot is taken, its
    shot's masses lowered as if it were painted, and so on. Returns (shot position, NextKey)."""
    state = [(frames, list(keys), np.asarray(masses, np.float64)) for frames, keys, masses in shots]
    before = [float(m.sum()) for _, _, m in state]
    chosen: list[tuple[int, NextKey]] = []
    for _ in range(n):
        best: tuple[float, int, int, np.ndarray] | None = None
        for i, (frames, keys, masses) in enumerate(state):
            for t in frames:
                if t in keys:
                    continue
                reach = key_reach(frames, keys, t)                                        # (F,)
                gain = float((reach * masses).sum())
                if best is None or gain > best[0] + 1e-12:
                    best = (gain, i, t, reach)
        if best is None or best[0] <= 0:
            break
        gain, i, t, reach = best
        frames, keys, masses = state[i]
        keys.append(t)
        state[i] = (frames, keys, masses * (1.0 - reach))
        chosen.append((i, NextKey(t, gain, before[i])))
    return chosen
