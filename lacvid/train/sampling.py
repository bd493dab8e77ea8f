"""Training samples drawn from the cache: a target frame (or a window of three) between
reference frames of one shot, cropped and flipped the same way.

Sampling is a pure function of ``(seed, step, slot)``: resuming at a step reproduces the same
batches without saving any sampler state, DataLoader workers need no coordination, and the
ranks of a DDP run draw disjoint samples by taking different slots.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from lacvid.errors import DatasetError
from lacvid.train.data import MIN_SHOT_FRAMES, FrameCache

K_CHOICES = (1, 2, 3)
K_PROBS = (0.2, 0.6, 0.2)  # K = 2 as in the paper most of the time; 1 and 3 so any K works


@dataclass(frozen=True)
class SampleSettings:
    """How training samples are drawn."""

    size: int = 256  # square crop, px
    window: int = 1  # target frames: 1 (colour stage) or 3 (temporal stage: t-1, t, t+1)
    max_span: int = 8  # largest distance between the two outer references, frames
    flip: bool = True
    fixed_k: int | None = None  # None: K in K_CHOICES with K_PROBS
    seed: int = 0


def batch_k(seed: int, step: int, fixed: int | None = None) -> int:
    """The number of references of every sample of batch ``step`` (one K per batch, so it stacks)."""
    if fixed is not None:
        return fixed
    rng = np.random.default_rng([seed, step, 7])
    return int(rng.choice(K_CHOICES, p=K_PROBS))


def pick_frames(rng: np.random.Generator, n: int, k: int, window: int, max_span: int
                ) -> tuple[list[int], list[int]]:
    """(target frames, reference frames) inside a shot of ``n`` frames; refs bracket the targets."""
    if n < MIN_SHOT_FRAMES:
        raise ValueError(f"a shot needs at least {MIN_SHOT_FRAMES} frames, got {n}")
    half = window // 2
    if window == 1:
        span = int(rng.integers(2, max(2, min(max_span, n - 1)) + 1))  # q - p >= 2 leaves a frame between
        p = int(rng.integers(0, n - span))
        q = p + span
        t = int(rng.integers(p + 1, q))
        targets = [t]
    else:
        t = int(rng.integers(half, n - half))
        targets = list(range(t - half, t + half + 1))
        room = max(0, max_span - window - 1)
        p = max(0, targets[0] - int(rng.integers(0, room // 2 + 1)))
        q = min(n - 1, targets[-1] + int(rng.integers(0, room // 2 + 1)))
        if window == 3 and n >= 5 and rng.random() < 0.5:  # often keep the keys off the window itself
            p, q = max(0, min(p, targets[0] - 1)), min(n - 1, max(q, targets[-1] + 1))
    if k == 1:
        refs = [p if rng.random() < 0.5 else q]
    else:
        refs = [p, q]
        if k == 3:
            others = [i for i in range(n) if i not in (p, q, *targets)]
            refs.append(int(rng.choice(others)) if others else p)
    return targets, refs


class TripletDataset(Dataset):
    """Samples for the trainer, indexed by ``(step, slot)`` (see ``StepSampler``).

    Each item: ``lines`` (T, 1, S, S), ``dist`` (T, 1, S, S), ``color`` (T, 3, S, S) for the
    target frames (T = window) and ``ref_lines`` (K, 1, S, S), ``ref_colors`` (K, 3, S, S),
    ``ref_dists`` (K, 1, S, S); float32 in [0, 1].
    """

    def __init__(self, cache: FrameCache, settings: SampleSettings) -> None:
        self.cache, self.settings = cache, settings
        small = [c for c, (h, w) in cache.sizes.items() if min(h, w) < settings.size]
        if small:
            h, w = cache.sizes[small[0]]
            raise DatasetError(f"cached frames of {cache.path} are {w}x{h}, smaller than the crop size "
                               f"{settings.size}; lower --size or raise --scale")
        usable = [s for s in cache.shots if len(s) >= max(MIN_SHOT_FRAMES, settings.window)]
        if not usable:
            raise DatasetError(f"no shot in {cache.path} has the {settings.window} frames a sample needs")
        self.shots = usable
        lengths = np.array([len(s) for s in usable], np.float64)
        self._p = lengths / lengths.sum()  # longer shots hold more distinct samples

    def __len__(self) -> int:  # nominal: the sampler is infinite
        return 1 << 62

    def __getitem__(self, key: tuple[int, int]) -> dict[str, torch.Tensor]:
        step, slot = key
        s = self.settings
        rng = np.random.default_rng([s.seed, step, slot])
        k = batch_k(s.seed, step, s.fixed_k)
        shot = self.shots[int(rng.choice(len(self.shots), p=self._p))]
        targets, refs = pick_frames(rng, len(shot), k, s.window, s.max_span)
        if s.window > 1 and rng.random() < 0.5:
            targets = targets[::-1]  # time runs either way in a window
        h, w = self.cache.sizes[shot.clip]
        y0, x0 = int(rng.integers(0, h - s.size + 1)), int(rng.integers(0, w - s.size + 1))
        flip = s.flip and rng.random() < 0.5
        group = self.cache.group(shot.clip)
        frames = [shot.start + i for i in (*targets, *refs)]
        crop = (slice(y0, y0 + s.size), slice(x0, x0 + s.size))
        color = np.stack([group["color"][(f, *crop)] for f in frames])  # (N, S, S, 3) uint8
        lines = np.stack([group["lines"][(f, *crop)] for f in frames])  # (N, S, S) uint8
        dist = np.stack([group["dist"][(f, *crop)] for f in frames])  # (N, S, S) float16
        if flip:
            color, lines, dist = color[:, :, ::-1], lines[:, :, ::-1], dist[:, :, ::-1]
        color_t = torch.from_numpy(np.ascontiguousarray(color)).permute(0, 3, 1, 2).float() / 255  # (N, 3, S, S)
        lines_t = torch.from_numpy(np.ascontiguousarray(lines))[:, None].float() / 255  # (N, 1, S, S)
        dist_t = torch.from_numpy(np.ascontiguousarray(dist).astype(np.float32))[:, None]  # (N, 1, S, S)
        n = len(targets)
        return {"lines": lines_t[:n], "dist": dist_t[:n], "color": color_t[:n],
                "ref_lines": lines_t[n:], "ref_colors": color_t[n:], "ref_dists": dist_t[n:]}


class StepSampler(Sampler):
    """Yields ``(step, slot)`` keys forever from ``start_step``: rank ``r`` gets slots r*B .. r*B+B-1.

    Batches are a function of the step alone, so ``--resume`` needs only the step, and the
    ranks of a DDP run draw disjoint samples.
    """

    def __init__(self, batch: int, start_step: int = 0, rank: int = 0) -> None:
        self.batch, self.start, self.rank = batch, start_step, rank

    def __iter__(self) -> Iterator[tuple[int, int]]:
        step = self.start
        while True:
            for i in range(self.batch):
                yield step, self.rank * self.batch + i
            step += 1


def loader(dataset: TripletDataset, batch: int, start_step: int = 0, rank: int = 0,
           workers: int = 0) -> torch.utils.data.DataLoader:
    """An infinite DataLoader of batches, step ``start_step`` first."""
    return torch.utils.data.DataLoader(
        dataset, batch_size=batch, sampler=StepSampler(batch, start_step, rank), num_workers=workers,
        persistent_workers=False, prefetch_factor=4 if workers else None, pin_memory=False)
