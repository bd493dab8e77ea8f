"""Pass 2 of colorize, per shot: the color transform network, then the temporal network.

The color network paints every frame that is not a key, with the K keys nearest in time as
references (each set of references encoded once per shot); the temporal network then refines
each frame from its window (t-1, t, t+1), the shot's edges repeated and keys as painted.
Both read their inputs from the cache and write their uint8 outputs to it, frame by frame,
so an interrupted shot resumes at the frame it stopped on.
"""

from __future__ import annotations

import numpy as np

from lacvid.arrays import float_to_image, images_to_float
from lacvid.colorize.cache import PrepEntry
from lacvid.colorize.options import NetworkOptions
from lacvid.inference import NetworkBackend
from lacvid.shots import Shot
from lacvid.store import FrameArrays


def nearest_keys(index: int, key_indices: list[int], k: int) -> list[int]:
    """The ``k`` keys closest in time to ``index``, in time order (ties: the earlier key)."""
    chosen = sorted(key_indices, key=lambda i: (abs(i - index), i))[:k]
    return sorted(chosen)


class ShotNetworks:
    """Runs both networks over one shot at a time, reading and writing the cache."""

    def __init__(self, backend: NetworkBackend, options: NetworkOptions) -> None:
        self.backend = backend
        self.options = options

    def _encode(self, refs: tuple[int, ...], keys: dict[int, np.ndarray], prep: PrepEntry):
        ref_lines = images_to_float([prep.frames.get("lines", i) for i in refs])[None]        # (1, K, 1, h, w)
        ref_dists = np.stack([prep.frames.get("dist", i).astype(np.float32) for i in refs])
        ref_dists = ref_dists[None, :, None]                                                   # (1, K, 1, h, w)
        ref_colors = images_to_float([keys[i] for i in refs])[None]                            # (1, K, 3, h, w)
        return self.backend.encode_references(ref_lines, ref_colors, ref_dists)

    def color(self, shot: Shot, keys: dict[int, np.ndarray], prep: PrepEntry, out: FrameArrays) -> None:
        """Color network on every non-key frame of ``shot`` -> ``out`` (uint8, working size)."""
        key_indices = sorted(keys)
        encoded_refs, encoded = None, None  # the nearest keys only change forward along a shot
        for t in range(shot.start, shot.stop):
            if t in keys or out.is_done(t):
                continue
            refs = tuple(nearest_keys(t, key_indices, self.options.max_refs))
            if refs != encoded_refs:  # each reference set is encoded once per shot
                encoded_refs, encoded = refs, self._encode(refs, keys, prep)
            lines = images_to_float([prep.frames.get("lines", t)])                              # (1, 1, h, w)
            dist = prep.frames.get("dist", t).astype(np.float32)[None, None]                     # (1, 1, h, w)
            y = self.backend.color(lines, dist, encoded)                                         # (1, 3, h, w)
            out.put(t, rgb=float_to_image(y[0]))

    def refine(self, shot: Shot, keys: dict[int, np.ndarray], prep: PrepEntry, colored: FrameArrays,
               out: FrameArrays) -> None:
        """Temporal network over sliding windows (t-1, t, t+1), edges repeated, keys as painted."""
        def rgb(i: int) -> np.ndarray:
            i = min(max(i, shot.start), shot.stop - 1)
            return keys[i] if i in keys else colored.get("rgb", i)

        for t in range(shot.start, shot.stop):
            if t in keys or out.is_done(t):
                continue
            if not self.backend.has_temporal or not self.options.temporal:
                out.put(t, rgb=rgb(t))
                continue
            window = [min(max(i, shot.start), shot.stop - 1) for i in (t - 1, t, t + 1)]
            colors = images_to_float([rgb(i) for i in window])                                 # (3, 3, h, w)
            lines = images_to_float([prep.frames.get("lines", i) for i in window])              # (3, 1, h, w)
            frames = np.concatenate([colors, lines], axis=1)[None]                              # (1, 3, 4, h, w)
            y = self.backend.temporal(frames)                                                   # (1, 3, h, w)
            out.put(t, rgb=float_to_image(y[0]))
