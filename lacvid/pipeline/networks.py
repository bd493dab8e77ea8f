"""Pass 2 of colorize, per shot: the color transform network, then the temporal network.

The color network paints every frame that is not a key, with the K keys nearest in time as
references (each set of references encoded once per shot); the temporal network then refines
each frame from its window (t-1, t, t+1), the shot's edges repeated and keys as painted.
Both read their inputs from the cache and write their uint8 outputs to it.

Frames run in batches (``network_batch``: 16 on a GPU, 1 on the CPU where batching gains
nothing and costs memory). A batch is fixed by the frames' positions in the shot and their
reference set, never by what a run has left to do, so an interrupted shot resumes to the very
frames an uninterrupted run makes: a batch with some frames cached runs whole and stores the
rest. A GPU out of memory halves the batch (down to one frame) instead of failing the run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence

import numpy as np

from lacvid.errors import InputError
from lacvid.models.runtime import NetworkBackend
from lacvid.pipeline.cache import PrepEntry
from lacvid.pipeline.options import NetworkOptions
from lacvid.progress import NULL_PROGRESS, Progress, warn
from lacvid.shots.detect import Shot
from lacvid.util.arrays import float_to_image, images_to_float
from lacvid.util.store import FrameArrays

GPU_BATCH = 16   # frames per network call on a GPU (the paper-width nets at 256 x 456 fit in a few GB)


def network_batch(batch: int | None, device: str) -> int:
    """Frames per network call: ``batch`` when given, else ``GPU_BATCH`` on CUDA and 1 on the CPU.

    Measured on 2 cores with ONNX Runtime, default model at 256 x 456, K = 2: 1, 2, 4 and 8 frames
    a call took 135, 135, 130 and 151 ms per colour frame while peak memory went 2.4, 4.4, 8.5 and
    16.8 GB (the attention matrix is held per frame, ``models.runtime.attention_bytes``)."""
    if batch is not None:
        return batch
    return GPU_BATCH if str(device).startswith("cuda") else 1


def nearest_keys(index: int, key_indices: list[int], k: int) -> list[int]:
    """The ``k`` keys closest in time to ``index``, in time order (ties: the earlier key)."""
    chosen = sorted(key_indices, key=lambda i: (abs(i - index), i))[:k]
    return sorted(chosen)


def is_out_of_memory(exc: BaseException) -> bool:
    """True for a device allocation failure (torch raises ``OutOfMemoryError``, a ``RuntimeError``)."""
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def _release_device_memory() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


class ShotNetworks:
    """Runs both networks over one shot at a time, reading and writing the cache."""

    def __init__(self, backend: NetworkBackend, options: NetworkOptions, batch: int = 1,
                 progress: Progress = NULL_PROGRESS) -> None:
        if batch < 1:
            raise InputError(f"the network batch must be at least 1 frame, got {batch}")
        self.backend, self.options, self.batch, self.progress = backend, options, batch, progress
        self.stop = threading.Event()  # set by another thread: return after the batch in hand

    def _encode(self, refs: tuple[int, ...], keys: dict[int, np.ndarray], prep: PrepEntry):
        ref_lines = images_to_float([prep.frames.get("lines", i) for i in refs])[None]        # (1, K, 1, h, w)
        ref_dists = np.stack([prep.frames.get("dist", i).astype(np.float32) for i in refs])
        ref_dists = ref_dists[None, :, None]                                                   # (1, K, 1, h, w)
        ref_colors = images_to_float([keys[i] for i in refs])[None]                            # (1, K, 3, h, w)
        return self.backend.encode_references(ref_lines, ref_colors, ref_dists)

    def color(self, shot: Shot, keys: dict[int, np.ndarray], prep: PrepEntry, out: FrameArrays) -> None:
        """Color network on every non-key frame of ``shot`` -> ``out`` (uint8, working size)."""
        key_indices = sorted(keys)
        encoded: dict[tuple[int, ...], object] = {}  # each reference set encoded once per shot

        def refs_of(t: int) -> tuple[int, ...]:
            return tuple(nearest_keys(t, key_indices, self.options.max_refs))

        def run(group: list[int]) -> np.ndarray:
            refs = refs_of(group[0])
            if refs not in encoded:
                encoded.clear()  # the nearest keys only change forward along a shot
                encoded[refs] = self._encode(refs, keys, prep)
            lines = images_to_float([prep.frames.get("lines", t) for t in group])               # (B, 1, h, w)
            dist = np.stack([prep.frames.get("dist", t).astype(np.float32) for t in group])[:, None]  # (B, 1, h, w)
            return self.backend.color(lines, dist, encoded[refs])                               # (B, 3, h, w)

        frames = [t for t in range(shot.start, shot.stop) if t not in keys]
        self._in_batches(shot, frames, refs_of, run, out)

    def refine(self, shot: Shot, keys: dict[int, np.ndarray], prep: PrepEntry, colored: FrameArrays,
               out: FrameArrays) -> None:
        """Temporal network over sliding windows (t-1, t, t+1), edges repeated, keys as painted."""
        def rgb(i: int) -> np.ndarray:
            i = min(max(i, shot.start), shot.stop - 1)
            return keys[i] if i in keys else colored.get("rgb", i)

        frames = [t for t in range(shot.start, shot.stop) if t not in keys]
        if not self.backend.has_temporal or not self.options.temporal:
            for t in frames:
                if not out.is_done(t) and not self.stop.is_set():
                    out.put(t, rgb=rgb(t))
            return

        def run(group: list[int]) -> np.ndarray:
            windows = []
            for t in group:
                window = [min(max(i, shot.start), shot.stop - 1) for i in (t - 1, t, t + 1)]
                colors = images_to_float([rgb(i) for i in window])                             # (3, 3, h, w)
                lines = images_to_float([prep.frames.get("lines", i) for i in window])          # (3, 1, h, w)
                windows.append(np.concatenate([colors, lines], axis=1))                         # (3, 4, h, w)
            return self.backend.temporal(np.stack(windows))                                     # (B, 3, h, w)

        self._in_batches(shot, frames, lambda t: None, run, out)

    def _in_batches(self, shot: Shot, frames: Sequence[int], group_key: Callable[[int], Hashable],
                    run: Callable[[list[int]], np.ndarray], out: FrameArrays) -> None:
        """``run`` over batches of ``frames`` (same position chunk and ``group_key``), storing what ``out`` lacks."""
        pending = [t for t in frames if not out.is_done(t)]
        while pending and not self.stop.is_set():
            batch, first = self.batch, pending[0]
            chunk, key = (first - shot.start) // batch, group_key(first)
            group = [t for t in frames if (t - shot.start) // batch == chunk and group_key(t) == key]
            try:
                y = run(group)                                                                  # (B, 3, h, w)
            except RuntimeError as exc:
                if not is_out_of_memory(exc):
                    raise
                self._shrink(exc)
                continue
            for t, image in zip(group, y):
                if not out.is_done(t):
                    out.put(t, rgb=float_to_image(image))
            pending = [t for t in pending if not out.is_done(t)]

    def _shrink(self, exc: RuntimeError) -> None:
        """Out of device memory: halve the batch, or give up at one frame with what to do."""
        _release_device_memory()
        if self.batch == 1:
            raise InputError(f"the {self.backend.device} device ran out of memory on a single frame "
                             f"({str(exc).splitlines()[0][:120]}); pass a smaller --size or --refs, or "
                             "--device cpu") from exc
        self.batch //= 2
        warn(self.progress, f"out of memory on {self.backend.device}; running the networks "
                            f"{self.batch} frame(s) at a time")
