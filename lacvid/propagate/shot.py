"""A whole shot colored from its painted keys by propagating region colours frame to frame.

Neighbouring drawings differ little even when the keys differ a lot (an arm sweeping across
the body over 14 frames, a camera pan, a character entering), so colour is carried one frame
at a time along DIS flow between distance fields: forward from each key up to the next key,
backward from each key down to the previous one. The two chains between two keys cross the same
pairs of frames; one flow per pair serves both (``propagate.hops``), found for the chain nearer
its key. Each frame then holds one chain from each side; ``fuse`` combines them per region by
confidence, so a character who enters mid-shot (only the later key shows it) takes its colours
from the backward chain. Every region ends with exactly one palette colour and a confidence; low
confidence marks what no key shows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from lacvid.propagate.evidence import Belief, CarrySettings, carry_votes, fuse, key_belief, mix
from lacvid.propagate.flow import distance_image
from lacvid.propagate.hops import ShotHops
from lacvid.propagate.palette import build_palette, flat_colors, merge_tolerance, region_colors, snap
from lacvid.propagate.segments import Segments, segment
from lacvid.util.cpus import thread_limit


@dataclass(frozen=True)
class PropagationSettings:
    gap_radius: float = 1.5                       # px: gaps in strokes up to about twice this are closed
    min_area: int = 3
    back_weights: tuple[float, ...] = (1.0, 0.5)  # a chain's sources 1, 2, ... frames back toward its key
    composed_flows: bool = True                   # flow to sources 2+ back: the hops' flows composed, no DIS of its own
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

    def rgba(self, palette: np.ndarray) -> np.ndarray:
        """uint8 (h, w, 4): ``image(palette)`` with ``rint(255 * confidence())`` as alpha, what the cache keeps of a
        frame. Each region's four bytes are made first (the same float32 steps), then gathered once as one uint32 a
        pixel: at 576 px the per-pixel form's gathers, float temporaries and stacking took ~13 ms a frame, holding
        the GIL the other chain and the composing threads wait on."""
        table = np.empty((len(self.index), 4), np.uint8)                     # (n, 4) each region's RGBA
        table[:, :3] = palette[self.index]
        table[:, 3] = np.rint(self.conf.astype(np.float32) * 255).astype(np.uint8)
        pixels = table.view(np.uint32)[:, 0][self.labels]                   # (h, w) uint32
        return pixels.view(np.uint8).reshape(self.labels.shape + (4,))       # (h, w, 4)


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


class FrameStore(Protocol):
    """Where a shot's per-frame matching data (regions and flow field, about 6 MB a frame at 576 px)
    waits between the chains that need it: ``ShotPropagation`` keeps only a few frames itself."""

    def get(self, t: int) -> tuple[Segments, np.ndarray] | None: ...

    def put(self, t: int, segments: Segments, field: np.ndarray) -> None: ...


class MemoryFrames:
    """A ``FrameStore`` that keeps every frame in memory (the pipeline passes one that spills to disk)."""

    def __init__(self) -> None:
        self._frames: dict[int, tuple[Segments, np.ndarray]] = {}

    def get(self, t: int) -> tuple[Segments, np.ndarray] | None:
        return self._frames.get(t)

    def put(self, t: int, segments: Segments, field: np.ndarray) -> None:
        self._frames[t] = (segments, field)


class ShotPropagation:
    """Segments, flow fields and key evidence of one shot; ``run`` colors every other frame.

    ``ink``: each frame's bool (h, w) ink mask, read once per frame and only when a chain reaches it
    (a lazy sequence keeps a long shot's masks out of memory). Each frame is segmented once, kept in
    ``store`` (default: memory) and, while a chain walks, in that chain's window of the last few
    frames: so with a store that spills to disk the memory a shot needs does not grow with its length.
    """

    def __init__(self, ink: Sequence[np.ndarray], keys: Mapping[int, np.ndarray],
                 settings: PropagationSettings = PropagationSettings(), store: FrameStore | None = None,
                 repeats: Collection[int] = ()) -> None:
        if not keys:
            raise ValueError("propagation needs at least one key")
        self.settings = settings
        self.n = len(ink)
        self.ink = ink
        # A held drawing (``repeats``: frames that show the previous frame's drawing again) is one drawing:
        # segmented once, as the first frame of its run, and nothing moves between its frames.
        self.first = list(range(self.n))
        for t in range(1, self.n):
            if t in repeats:
                self.first[t] = self.first[t - 1]
        self.store: FrameStore = store if store is not None else MemoryFrames()
        self._locks = [threading.Lock() for _ in range(self.n)]  # one frame is segmented by one chain, once
        self.keys = sorted(keys)
        painted, key_segments = [keys[k] for k in self.keys], [self.frame(k)[0] for k in self.keys]
        medians = [region_colors(k, s) for k, s in zip(painted, key_segments)]  # what all three steps read
        merge = merge_tolerance(painted, key_segments, medians=medians)  # the keys' own paint noise
        self.palette = build_palette(painted, key_segments, merge, medians=medians)
        # Which palette colours only flat key regions hold (a gradient's do not): see ``flat_colors``.
        self.flat = flat_colors(painted, key_segments, self.palette, merge=merge, medians=medians)
        self.key_beliefs = {k: key_belief(*snap(keys[k], self.palette), seg, len(self.palette))
                            for k, seg in zip(self.keys, key_segments)}

    def frame(self, t: int) -> tuple[Segments, np.ndarray]:
        """Frame ``t``'s regions and flow field (``flow.distance_image``): from the store, else made now (a
        repeated drawing's are its run's first frame's)."""
        t = self.first[t]
        with self._locks[t]:
            got = self.store.get(t)
            if got is None:
                seg = segment(self.ink[t], self.settings.gap_radius, self.settings.min_area)
                got = (seg, distance_image(seg.dist))
                self.store.put(t, *got)
            return got

    def _walk(self, key: int, step: int, frames: list[int], hops: ShotHops | None = None
              ) -> Iterator[tuple[int, Belief, Segments]]:
        """The chain from ``key`` over ``frames``: each frame's belief and regions, in order. Only the
        frames and beliefs its next hops read (``back_weights`` back) stay in its window.

        Each hop carries the beliefs of the frames one and more steps back by the votes between them
        (``hops``: shared with the chains that cross the same frames, ``propagate.hops``; default: this
        chain's own)."""
        hops = hops or self._hops([(key, step, frames)])
        back = len(self.settings.back_weights)
        got: dict[int, Belief] = {key: self.key_beliefs[key]}
        window = {key: self.frame(key)}
        for t in frames:
            window[t] = self.frame(t)
            sources = self._sources(t, step, got)
            beliefs = [carry_votes(window[t][0], window[src][0], hops.votes(t, src, window), got[src],
                                   self.settings.carry)
                       for src, _ in sources]  # nearest first: its flow is the one a further source composes
            got[t] = beliefs[0] if len(beliefs) == 1 else mix(beliefs, [w for _, w in sources])
            yield t, got[t], window[t][0]
            for held in (got, window):  # no later hop reads it
                held.pop(t - back * step, None)

    def _sources(self, t: int, step: int, got: Collection[int]) -> list[tuple[int, float]]:
        """Frame ``t``'s sources in a chain walking by ``step`` that has reached ``got``: (frame, weight)."""
        return [(t - j * step, w) for j, w in enumerate(self.settings.back_weights, start=1)
                if t - j * step in got and w > 0]

    def _hops(self, todo: Sequence[tuple[int, int, list[int]]]) -> ShotHops:
        """The votes the chains ``todo`` will read, made once for all of them (``propagate.hops.ShotHops``)."""
        needed = []
        for key, step, frames in todo:
            reached = {key}
            for t in frames:
                needed += [(t, src) for src, _ in self._sources(t, step, reached)]
                reached.add(t)
        return ShotHops(self.frame, self.keys, self.first, self.settings.carry, self.settings.composed_flows,
                        self.settings.pan_prior, needed)

    def _chain(self, key: int, step: int, frames: list[int]) -> dict[int, Belief]:
        """Every belief of one chain, the key's included (kept whole: for tests and one-off use)."""
        return {key: self.key_beliefs[key], **{t: b for t, b, _ in self._walk(key, step, frames)}}

    def run(self, emit: Callable[[int, FrameColors], None] | None = None,
            stop: threading.Event | None = None) -> dict[int, FrameColors]:
        """Every frame that is not a key: its regions, their palette colours and confidences.

        The chains need nothing of each other, so they run side by side (the flow and most of the
        carry release the GIL): a shot's two chains take the time of one where a core is free. A frame
        is fused as soon as the last chain that reaches it has (the others' beliefs, a few kB each,
        wait for it), in chain order as ``fuse`` has always seen them. ``emit``: called with each frame
        as it is done (from the chains' threads), and nothing is kept; without it, all are returned.
        ``stop``: set by another thread (its caller is failing): each chain returns after the hop in hand,
        and the frames not yet done are simply not emitted.
        """
        wanted = {"both": (1, -1), "forward": (1,), "backward": (-1,)}[self.settings.directions]
        todo = [(key, step, frames) for key, step, frames in chains(self.n, self.keys)
                if step in wanted or _only_chain(frames[0], self.n, self.keys, wanted)]
        reach: dict[int, list[int]] = {}                     # frame -> the chains (positions in todo) reaching it
        for i, (_, _, frames) in enumerate(todo):
            for t in frames:
                reach.setdefault(t, []).append(i)
        heard: dict[int, dict[int, Belief]] = {t: {} for t in reach}
        lock = threading.Lock()
        out: dict[int, FrameColors] = {}

        hops = self._hops(todo)  # the votes between two frames, made once for both chains crossing them

        def walk(i: int) -> None:
            for t, belief, seg in self._walk(*todo[i], hops):
                if stop is not None and stop.is_set():
                    return
                with lock:
                    heard[t][i] = belief
                    beliefs = [heard[t][j] for j in reach[t]] if len(heard[t]) == len(reach[t]) else None
                    if beliefs is not None:
                        del heard[t]
                if beliefs is None:
                    continue
                fused = fuse(beliefs, self.settings.fuse_power)
                colors = FrameColors(seg.labels, fused.prob.argmax(1), fused.conf)
                if emit is None:
                    out[t] = colors
                else:
                    emit(t, colors)

        with ThreadPoolExecutor(max(1, min(len(todo), thread_limit())),
                                thread_name_prefix="lacvid-chain") as pool:
            list(pool.map(walk, range(len(todo))))
        return dict(sorted(out.items()))


def _only_chain(t: int, n: int, keys: list[int], wanted: tuple[int, ...]) -> bool:
    """True when no chain of the ``wanted`` directions reaches frame ``t`` (e.g. frames before the
    first key when only forward chains are asked for): the other direction must then serve."""
    before = [k for k in keys if k < t]
    after = [k for k in keys if k > t]
    return not ((1 in wanted and before) or (-1 in wanted and after))
