"""A whole shot colored from its painted keys by propagating region colours frame to frame.

Neighbouring drawings differ little even when the keys differ a lot (an arm sweeping across
the body over 14 frames, a camera pan, a character entering), so colour is carried one frame
at a time along DIS flow between distance fields: forward from each key up to the next key,
backward from each key down to the previous one. Each frame then holds one chain from each
side; ``fuse`` combines them per region by confidence, so a character who enters mid-shot
(only the later key shows it) takes its colours from the backward chain. Every region ends
with exactly one palette colour and a confidence; low confidence marks what no key shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from lacvid.propagate.evidence import Belief, CarrySettings, carry, fuse, key_belief, mix
from lacvid.propagate.flow import distance_image, estimate_flow
from lacvid.propagate.palette import build_palette, flat_colors, merge_tolerance, snap
from lacvid.propagate.segments import Segments, segment
from lacvid.util.cpus import thread_limit


@dataclass(frozen=True)
class PropagationSettings:
    gap_radius: float = 1.5                       # px: gaps in strokes up to about twice this are closed
    min_area: int = 3
    back_weights: tuple[float, ...] = (1.0, 0.5)  # a chain's sources 1, 2, ... frames back toward its key
    fuse_power: float = 4.0                       # how much the more confident chain wins
    pan_prior: bool = True                        # start the flow from the dominant translation
    directions: str = "both"                      # both | forward | backward (measured apart in the benchmark)
    carry: CarrySettings = field(default_factory=CarrySettings)


@dataclass(frozen=True)
class FrameColors:
    """One frame's result: a palette index and a confidence per region."""

    labels: np.ndarray  # int32 (h, w) region of every pixel
    index: np.ndarray   # int64 (n,) palette index per region
    conf: np.ndarray    # float64 (n,) in [0, 1]

    def image(self, palette: np.ndarray) -> np.ndarray:
        return palette[self.index][self.labels]                              # (h, w, 3) uint8

    def confidence(self) -> np.ndarray:
        return self.conf[self.labels].astype(np.float32)                     # (h, w)


def chains(n: int, keys: Sequence[int]) -> list[tuple[int, int, list[int]]]:
    """(key, step, frames in order of distance from the key) for every chain of a shot of ``n``
    frames: forward from each key up to the next key, backward down to the previous one."""
    keys = sorted(keys)
    out = []
    for j, k in enumerate(keys):
        after = keys[j + 1] if j + 1 < len(keys) else n
        before = keys[j - 1] if j > 0 else -1
        out.append((k, +1, list(range(k + 1, after))))
        out.append((k, -1, list(range(k - 1, before, -1))))
    return [c for c in out if c[2]]


class ShotPropagation:
    """Segments, flow fields and key evidence of one shot; ``run`` colors every other frame."""

    def __init__(self, ink: Sequence[np.ndarray], keys: Mapping[int, np.ndarray],
                 settings: PropagationSettings = PropagationSettings()) -> None:
        if not keys:
            raise ValueError("propagation needs at least one key")
        self.settings = settings
        self.n = len(ink)
        self.segments: list[Segments] = [segment(m, settings.gap_radius, settings.min_area) for m in ink]
        self.fields = [distance_image(s.dist) for s in self.segments]
        self.keys = sorted(keys)
        painted, their_segments = [keys[k] for k in self.keys], [self.segments[k] for k in self.keys]
        merge = merge_tolerance(painted, their_segments)  # the keys' own paint noise
        self.palette = build_palette(painted, their_segments, merge)
        # Which palette colours only flat key regions hold (a gradient's do not): see ``flat_colors``.
        self.flat = flat_colors(painted, their_segments, self.palette, merge=merge)
        self.key_beliefs = {k: key_belief(*snap(keys[k], self.palette), self.segments[k], len(self.palette))
                            for k in self.keys}

    def _hop(self, t: int, src: int, belief: Belief) -> Belief:
        flow = estimate_flow(self.fields[t], self.fields[src], self.settings.pan_prior)  # (h, w, 2)
        return carry(self.segments[t], self.segments[src], flow, belief, self.settings.carry)

    def _chain(self, key: int, step: int, frames: list[int]) -> dict[int, Belief]:
        got: dict[int, Belief] = {key: self.key_beliefs[key]}
        for t in frames:
            sources = [(t - j * step, w) for j, w in enumerate(self.settings.back_weights, start=1)
                       if t - j * step in got and w > 0]
            beliefs = [self._hop(t, src, got[src]) for src, _ in sources]
            got[t] = beliefs[0] if len(beliefs) == 1 else mix(beliefs, [w for _, w in sources])
        return got

    def run(self) -> dict[int, FrameColors]:
        """Every frame that is not a key: its regions, their palette colours and confidences.

        The chains need nothing of each other, so they run side by side (the flow and most of the
        carry release the GIL): a shot's two chains take the time of one where a core is free.
        """
        heard: dict[int, list[Belief]] = {t: [] for t in range(self.n) if t not in self.keys}
        wanted = {"both": (1, -1), "forward": (1,), "backward": (-1,)}[self.settings.directions]
        todo = [(key, step, frames) for key, step, frames in chains(self.n, self.keys)
                if step in wanted or _only_chain(frames[0], self.n, self.keys, wanted)]
        with ThreadPoolExecutor(max(1, min(len(todo), thread_limit())),
                                thread_name_prefix="lacvid-chain") as pool:
            done = list(pool.map(lambda chain: self._chain(*chain), todo))
        for (_, _, frames), chain in zip(todo, done):  # in chain order, as fuse has always seen them
            for t in frames:
                heard[t].append(chain[t])
        out = {}
        for t, beliefs in heard.items():
            fused = fuse(beliefs, self.settings.fuse_power)
            out[t] = FrameColors(self.segments[t].labels, fused.prob.argmax(1), fused.conf)
        return out


def _only_chain(t: int, n: int, keys: list[int], wanted: tuple[int, ...]) -> bool:
    """True when no chain of the ``wanted`` directions reaches frame ``t`` (e.g. frames before the
    first key when only forward chains are asked for): the other direction must then serve."""
    before = [k for k in keys if k < t]
    after = [k for k in keys if k > t]
    return not ((1 in wanted and before) or (-1 in wanted and after))
