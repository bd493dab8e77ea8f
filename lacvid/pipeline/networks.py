"""Pass 2 of colorize, per shot: the color transform network, then the temporal network.

The color network paints every frame that is not a key, with the K keys nearest in time as
references (each set of references encoded once per shot); the temporal network then refines
each frame from its window (t-1, t, t+1), the shot's edges repeated and keys as painted.
Both read their inputs from the cache and write their uint8 outputs to it.

A shot runs them on every frame in one pass (``color``, ``refine``), or runs the colour network alone
only for the frames its composing asks for (``NetworksOnDemand``: drawings with flat keys, where the
network's colour only votes for the regions the keys' propagation leaves open, ``compose.fusion.
fuse_regions``). Frames not run are simply not done in the cache: a later run that needs them computes
them, the same as a whole pass would.

Frames run in batches (``network_batch``: 16 on a GPU, 1 on the CPU where batching gains
nothing and costs memory). A batch is fixed by the frames' positions in the shot and their
reference set, never by what a run has left to do, so an interrupted shot resumes to the very
frames an uninterrupted run makes: a batch with some frames cached runs whole and stores the
rest. A GPU out of memory halves the batch (down to one frame) instead of failing the run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Hashable, Sequence

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
    a call took 135, 135, 130 and 151 ms per colour frame: batching buys nothing on the CPU (and, when
    the exported attention held its whole matrix, cost 2.4, 4.4, 8.5 and 16.8 GB at peak)."""
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
        self.stop = threading.Event()  # set by another thread: a whole-shot pass returns after the batch in hand
        # One network call at a time: composing threads ask for frames on demand (``NetworksOnDemand``),
        # maybe while the next shot's whole pass runs; two calls at once would hold two attention matrices.
        self.lock = threading.Lock()

    def _encode(self, refs: tuple[int, ...], keys: dict[int, np.ndarray], prep: PrepEntry):
        ref_lines = images_to_float([prep.frames.get("lines", i) for i in refs])[None]        # (1, K, 1, h, w)
        ref_dists = np.stack([prep.frames.get("dist", i).astype(np.float32) for i in refs])
        ref_dists = ref_dists[None, :, None]                                                   # (1, K, 1, h, w)
        ref_colors = images_to_float([keys[i] for i in refs])[None]                            # (1, K, 3, h, w)
        return self.backend.encode_references(ref_lines, ref_colors, ref_dists)

    def color(self, shot: Shot, keys: dict[int, np.ndarray], prep: PrepEntry, out: FrameArrays,
              frames: Collection[int] | None = None, encoded: dict | None = None) -> None:
        """Color network on every non-key frame of ``shot`` -> ``out`` (uint8, working size); ``frames``:
        only these (each with its whole batch). ``encoded``: the shot's encoded references, kept by a
        caller that comes back for more frames."""
        key_indices = sorted(keys)
        encoded = {} if encoded is None else encoded  # each reference set encoded once per shot

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

        every = [t for t in range(shot.start, shot.stop) if t not in keys]
        self._in_batches(shot, every, refs_of, run, out, frames)

    def refine(self, shot: Shot, keys: dict[int, np.ndarray], prep: PrepEntry, colored: FrameArrays,
               out: FrameArrays) -> None:
        """Temporal network over sliding windows (t-1, t, t+1), edges repeated, keys as painted."""
        def rgb(i: int) -> np.ndarray:
            i = min(max(i, shot.start), shot.stop - 1)
            return keys[i] if i in keys else colored.get("rgb", i)

        every = [t for t in range(shot.start, shot.stop) if t not in keys]
        if not self.temporal:
            for t in every:
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

        self._in_batches(shot, every, lambda t: None, run, out)

    @property
    def temporal(self) -> bool:
        """Whether ``refine`` runs the temporal network (else it passes the colour network's frames on)."""
        return self.backend.has_temporal and self.options.temporal

    def _in_batches(self, shot: Shot, frames: Sequence[int], group_key: Callable[[int], Hashable],
                    run: Callable[[list[int]], np.ndarray], out: FrameArrays, wanted: Collection[int] | None = None
                    ) -> None:
        """``run`` over batches of ``frames`` (same position chunk and ``group_key``), storing what ``out`` lacks;
        ``wanted``: only the batches holding these. A whole pass (no ``wanted``) returns early once ``stop``
        is set; frames asked for by name are always made: their caller cannot go on without them."""
        wanted = None if wanted is None else set(wanted)
        pending = [t for t in frames if not out.is_done(t) and (wanted is None or t in wanted)]
        while pending and not (wanted is None and self.stop.is_set()):
            batch, first = self.batch, pending[0]
            chunk, key = (first - shot.start) // batch, group_key(first)
            group = [t for t in frames if (t - shot.start) // batch == chunk and group_key(t) == key]
            try:
                with self.lock:
                    y = run(group)                                                              # (B, 3, h, w)
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


class NetworksOnDemand:
    """One flat-keyed drawing's colour network, run only for the frames its composing asks for (``frame``), each
    at most once, with the shot's references as a whole pass uses them: its output goes to the cache as a
    whole pass's would, the same bits. The temporal network is not run (``pipeline.shot_work``: a palette
    fill reads the network's colour only as a vote). Composing threads call ``frame`` at once: one of them
    runs a frame's network while the others wait for it or compose. ``record(stage, seconds)`` is told the
    time the network took.
    """

    def __init__(self, networks: ShotNetworks, shot: Shot, keys: dict[int, np.ndarray], prep: PrepEntry,
                 colored: FrameArrays, record: Callable[[str, float], None] = lambda stage, seconds: None) -> None:
        self.networks, self.shot, self.keys, self.prep = networks, shot, keys, prep
        self.colored, self.record = colored, record
        self._encoded: dict = {}  # the shot's encoded references, kept between frames
        self._lock = threading.Lock()

    def frame(self, t: int) -> np.ndarray:
        """Frame ``t``'s network colour (uint8 (h, w, 3)): from the cache, or run now."""
        with self._lock:
            if not self.colored.is_done(t):
                start = time.perf_counter()
                self.networks.color(self.shot, self.keys, self.prep, self.colored, [t], self._encoded)
                self.record("colour", time.perf_counter() - start)
        return self.colored.get("rgb", t)
