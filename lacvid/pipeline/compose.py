"""Pass 3 of colorize: finished frames at full resolution, written in order on their own thread.

A frame is its key as painted, or the network's color (working size) fused with the region
colours propagated from the keys (drawings: ``pipeline.propagation``), per region with the keys' palette
when the shot is flat cel paint, else per pixel; regions the drawing holds still since a key take that
key's paint (``lacvid.compose.held``); then the artist's ink goes on top, as drawn
(``lacvid.preprocess.ink``), but where the drawing is a key's stroke for stroke, as that key finished it
(``compose.held.finish_held``). Colour footage is its nearest key warped onto it at full size
(``lacvid.compose.fusion.footage_paint``). Frames
compose on a few threads and are written in order on another, while the caller prepares the next shot.
"""

from __future__ import annotations

import functools
import queue
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

import cv2
import numpy as np

from lacvid.compose.composite import composite_full_resolution
from lacvid.compose.doubt import clear_held, pixel_doubt, region_doubt
from lacvid.compose.flat import KeyColorIds, key_color_ids, palette_coverage, palette_from_keys
from lacvid.compose.fusion import (
    Candidate,
    FusionSettings,
    footage_paint,
    fuse_pixels,
    fuse_regions,
    key_shading,
    keys_at_full_size,
    paint_confident_regions,
    uniform_weight,
    warped_keys_with_flows,
)
from lacvid.compose.held import FrameDrawing, KeyDrawing, bare_paper, finish_held, held_mask, paste_held_with_mask
from lacvid.compose.key_colors import KeyColors
from lacvid.compose.layers import Layers, drawing_ink, line_art_ink, no_ink, paint_layer, resolve_ink
from lacvid.compose.regions import fill_ink_labels
from lacvid.compose.trace import paint_trace_lines
from lacvid.media import FrameWriter
from lacvid.pipeline.cache import PrepEntry
from lacvid.pipeline.layer_files import LayerWriter
from lacvid.pipeline.networks import nearest_keys
from lacvid.pipeline.options import ComposeOptions
from lacvid.preprocess.ink import InkModel
from lacvid.preprocess.lines import INK_THRESHOLD
from lacvid.util.cpus import thread_limit
from lacvid.util.store import FrameArrays

FLAT_COVERAGE = 0.95  # synthetic cel keys measure 1.0, real anime keys 0.6-0.8 (benchmarks/quality.py)
# The network's vote against propagated region colours (1.0 = a fully confident propagation):
# it decides only regions the propagation found no evidence for. The default model, trained on
# generated cartoons, is a worse guess on real drawings than a weak propagation: region accuracy
# on clip11 was 0.58 at the 0.25 used with warped keys, 0.668 at 0.06, 0.697 at 0.02, 0.709 at 0.005.
PROPAGATED_NETWORK_WEIGHT = 0.005
# Where the propagation found next to no evidence, the nearest key's paint at the same place
# (what pasting the key would give) outvotes the network: a guess from the keys is never a colour
# or a bare paper the keys do not show there. Twice the network's weight: it decides only there.
NEAREST_KEY_WEIGHT = 2 * PROPAGATED_NETWORK_WEIGHT


T = TypeVar("T")


def compose_workers() -> int:
    """Threads that compose frames: as many as lacvid may use (``--threads``), up to 4 (each holds a few 1080p
    temporaries). The last shot's frames, and a long shot's once its successor is prepared,
    have nothing else to overlap: one thread would leave the other cores idle."""
    return max(1, min(4, thread_limit()))


class Composer:
    """Runs frame jobs on a few threads and writes their frames in submission order on one more.

    At most ``ahead`` frames are composed and not yet written (memory); jobs wait in an
    unbounded queue, so submitting never blocks the caller (it prepares the next shot meanwhile:
    ``wait_written`` is how it keeps to one shot ahead). ``seconds``: the busy time of composing
    and writing, summed over the threads.
    """

    def __init__(self, writer: FrameWriter, on_written: Callable[[], None], layers: LayerWriter | None = None,
                 workers: int | None = None, ahead: int | None = None) -> None:
        self.writer = writer
        self.layers = layers  # --layers: paint and ink of every frame beside the finished frames
        self.on_written = on_written
        self.workers = workers or compose_workers()
        self.ahead = max(ahead or 2 * self.workers, self.workers)
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.error: BaseException | None = None
        self.seconds = 0.0
        self._seconds_lock = threading.Lock()
        self.written = 0
        self._drop = False  # closing after a failure elsewhere: frames not yet composed are dropped
        self._progress = threading.Condition()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="lacvid-compose")
        self.thread = threading.Thread(target=self._run, name="lacvid-write", daemon=True)
        self.thread.start()

    def submit(self, make_frame: Callable[[], Layers], name: str) -> None:
        if self.error is not None:
            raise self.error
        self.jobs.put((make_frame, name))

    def submit_shot(self, action: Callable[[], None]) -> None:
        """Run ``action`` on the writing thread after the frames submitted before it are written (the
        layers folder learns which shot the next frames belong to)."""
        if self.error is not None:
            raise self.error
        self.jobs.put((action, None))

    def wait_written(self, frames: int) -> None:
        """Block until ``frames`` frames are written; a frame's error is raised here."""
        with self._progress:
            self._progress.wait_for(lambda: self.written >= frames or self.error is not None)
        if self.error is not None:
            raise self.error

    def _compose(self, make_frame: Callable[[], Layers]) -> Layers:
        start = time.perf_counter()
        layers = make_frame()
        self._count(time.perf_counter() - start)
        return layers

    def _count(self, seconds: float) -> None:
        with self._seconds_lock:
            self.seconds += seconds

    def _run(self) -> None:
        inflight: deque[tuple[Future, str]] = deque()
        closing = False
        while inflight or not closing:
            while not closing and len(inflight) < self.ahead:  # keep the composing threads busy
                try:
                    job = self.jobs.get(block=not inflight)
                except queue.Empty:
                    break
                if job is None:
                    closing = True
                elif self.error is None and not self._drop:
                    if job[1] is None:  # an action in order with the frames, not a frame
                        done: Future = Future()
                        done.set_result(job[0])
                        inflight.append((done, None))
                    else:
                        inflight.append((self._pool.submit(self._compose, job[0]), job[1]))
            if inflight:
                self._write(*inflight.popleft())

    def _write(self, future: Future, name: str | None) -> None:
        if name is None:
            try:
                if self.error is None and not self._drop:
                    future.result()()
            except BaseException as exc:
                self.error = self.error or exc
            return
        try:
            if self._drop and future.cancel():
                return
            layers = future.result()
            if self.error is None and not self._drop:
                start = time.perf_counter()
                self.writer.write(layers.flatten(), name=name)
                if self.layers is not None:
                    self.layers.write(layers, name)
                self._count(time.perf_counter() - start)
                self.on_written()
        except BaseException as exc:
            self.error = self.error or exc
        with self._progress:
            self.written += 1
            self._progress.notify_all()

    def close(self, drop: bool = False) -> None:
        """Write what was submitted, then stop the threads. ``drop``: after a failure elsewhere, write
        nothing more and compose no new frame (those composing finish into the cache), so Ctrl-C
        is not kept waiting."""
        self._drop = self._drop or drop
        self.jobs.put(None)
        self.thread.join()
        self._pool.shutdown()
        if self.error is not None:
            raise self.error


class _PerKey(Generic[T]):
    """Something made from each key of a shot once, when first asked for (by frame index), then shared."""

    def __init__(self, make: Callable[[int], T]) -> None:
        self._make = make
        self._made: dict[int, T] = {}
        self._lock = threading.Lock()

    def __getitem__(self, index: int) -> T:
        with self._lock:
            if index not in self._made:
                self._made[index] = self._make(index)
            return self._made[index]


class KeyRegions(_PerKey[tuple[np.ndarray, int]]):
    """A shot's keys' line-enclosed regions at full size (``FusionSettings.regions``, as its frames'), each
    made once, when first asked for, and shared by the palette and the held pasting."""

    def __init__(self, prep: PrepEntry) -> None:
        super().__init__(lambda index: FusionSettings().regions(prep.frames.get("lines_full", index)))


class KeyColorIndex(_PerKey[KeyColorIds]):
    """A shot's keys' distinct colours and each pixel's index among them (``compose.flat.key_color_ids``), each
    found once, when first asked for, and shared by the palette, its coverage and the index layer's counts."""

    def __init__(self, keys_full: Mapping[int, np.ndarray]) -> None:
        super().__init__(lambda index: key_color_ids(keys_full[index]))


def flat_palette(keys_full: dict[int, np.ndarray], prep: PrepEntry, flat: bool | None,
                 regions: KeyRegions | None = None,
                 colors: KeyColorIndex | None = None) -> tuple[np.ndarray | None, str]:
    """The shot's palette when its frames are to be flat-filled, else None and why not (see
    ``ColorizeOptions.flat``): the why is what ``--layers`` says of a shot without an index layer.
    ``regions``: the shot's ``KeyRegions``, to share the keys' regions with its composer; ``colors``: its
    ``KeyColorIndex``, likewise with its index layer."""
    if flat is False:
        return None, "--no-flat was given"
    regions = regions if regions is not None else KeyRegions(prep)
    colors = colors if colors is not None else KeyColorIndex(keys_full)
    keys = list(keys_full.values())
    lines = [prep.frames.get("lines_full", i) for i in keys_full]
    key_colors = [colors[i] for i in keys_full]
    palette = palette_from_keys(keys, lines, labels=[regions[i] for i in keys_full], colors=key_colors)
    if flat is None:
        coverage = palette_coverage(keys, lines, palette, colors=key_colors)
        if coverage < FLAT_COVERAGE:
            return None, (f"its keys are not flat cel paint (only {coverage:.0%} of their paint is in "
                          f"{len(palette)} palette colours; {FLAT_COVERAGE:.0%} needed)")
    return palette, ""


def paints_footage(drawing: bool, palette: np.ndarray | None, warp: bool) -> bool:
    """Whether a shot's frames are colour footage painted by warping the nearest key (``compose.fusion.
    footage_paint``, no network read): not a drawing, no flat palette, warps not turned off (``--no-warp``:
    the network's colour)."""
    return not drawing and palette is None and warp


MEMO = 4  # held drawings' paints kept per shot (``ShotComposer.painted``): more than compose at once


@dataclass(frozen=True)
class Painted:
    """A frame's paint before its ink goes on: what every frame of a held drawing shares."""

    frame: int         # the frame it was painted as (held pasting takes the keys nearest to it first)
    fill: np.ndarray   # uint8 (H, W, 3): the paint layer's colours
    held: np.ndarray   # bool (H, W): pixels pasted from a key (``compose.held``)
    doubt: np.ndarray  # uint8 (H, W): the frame's doubt (``compose.doubt``)


class ShotComposer:
    """Makes the frame jobs of one shot: what each finished frame is made of.

    ``network``: frame t's network colour (uint8 (h, w, 3)), read from the cache or run on demand;
    ``network_on_demand``: the flat fill asks for it only where it could decide a region
    (``compose.fusion.fuse_regions``), so a frame the keys' colours decide alone never runs the networks
    (else it is read for every frame, as when the networks ran on every frame first).
    ``propagated``: the shot's region colours from ``pipeline.propagation`` (drawings), the
    candidate that joins the network's color instead of keys warped by flow; ``ink``: the
    clip's ink model, to put a drawing's ink back as drawn (None: the line art is multiplied);
    ``repeats``: the frames whose line art is the previous frame's (``PrepEntry.repeats``), a drawing held
    on twos or threes, painted once (``painted``).
    """

    def __init__(self, keys_full: dict[int, np.ndarray], keys_small: dict[int, np.ndarray], prep: PrepEntry,
                 network: Callable[[int], np.ndarray], palette: np.ndarray | None, options: ComposeOptions,
                 propagated: FrameArrays | None = None, ink: InkModel | None = None,
                 propagated_palette: np.ndarray | None = None, flat_colors: np.ndarray | None = None,
                 network_on_demand: bool = False, key_regions: KeyRegions | None = None,
                 repeats: Collection[int] = ()) -> None:
        self.keys_full, self.keys_small = keys_full, keys_small
        self.key_regions = key_regions if key_regions is not None else KeyRegions(prep)
        self.key_lines = {i: prep.frames.get("lines", i) for i in keys_small}
        self.prep, self.network, self.palette, self.options = prep, network, palette, options
        self.network_on_demand = network_on_demand
        self.propagated, self.ink = propagated, ink
        self.propagated_palette, self.flat_colors = propagated_palette, flat_colors
        # What the keys give a frame, each made once per shot by the first composing thread that asks, and
        # only when a frame needs it: a flat fill never projects onto the keys' colours, footage pastes nothing.
        self._key_drawings: list[KeyDrawing] | None = None
        self._key_colors: KeyColors | None = None
        self._shading: np.ndarray | None = None  # float32 (P,): the keys' shade per propagated colour
        self._key_lines_full: list[tuple[KeyDrawing, np.ndarray]] | None = None
        self._keys_lock = threading.RLock()
        # A held drawing (``repeats``: frames whose line art is the previous frame's, stroke for stroke) is painted
        # once (``painted_as``); each of its frames then only puts its own ink over that paint.
        self.repeats = frozenset(repeats)
        self._painted: OrderedDict[int, Painted] = OrderedDict()   # the last few paints, by the frame painted as
        self._painting: dict[int, threading.Lock] = {}             # one thread paints a drawing, the others wait
        self._painted_lock = threading.Lock()

    def key_drawings(self) -> list[KeyDrawing]:
        """The keys with their drawings' regions (for ``held`` pasting)."""
        with self._keys_lock:
            if self._key_drawings is None:
                drawings = [KeyDrawing.of(i, key, self.prep.frames.get("lines_full", i), self.key_regions[i])
                            for i, key in sorted(self.keys_full.items())]
                self._key_drawings = drawings
            return self._key_drawings

    def key_drawn_lines(self) -> list[tuple[KeyDrawing, np.ndarray]]:
        """Each key's drawing (``key_drawings``) with its line art at full size (``held.finish_held``), read once."""
        with self._keys_lock:
            if self._key_lines_full is None:
                self._key_lines_full = [(d, self.prep.frames.get("lines_full", d.index)) for d in self.key_drawings()]
            return self._key_lines_full

    def key_colors(self) -> KeyColors:
        """The colours the keys hold, off their ink (the per-pixel paint is projected onto them)."""
        with self._keys_lock:
            if self._key_colors is None:
                if self.footage:  # no drawings made for footage: its keys' ink is the extracted lines
                    paints = [self.keys_full[i] for i in sorted(self.keys_full)]
                    clean = [bare_paper(self.prep.frames.get("lines_full", i)) for i in sorted(self.keys_full)]
                else:
                    drawings = self.key_drawings()
                    paints, clean = [d.paint for d in drawings], [d.paper for d in drawings]
                self._key_colors = KeyColors.of(paints, clean)
            return self._key_colors

    def key_shading(self) -> np.ndarray | None:
        """float32 (P,): how much shade the keys paint within each propagated colour (``compose.fusion.key_shading``);
        None without a propagation."""
        with self._keys_lock:
            if self._shading is None and self.propagated_palette is not None:
                drawings = self.key_drawings()
                self._shading = key_shading([d.paint for d in drawings], [d.labels for d in drawings],
                                            [d.paper for d in drawings], self.propagated_palette)
            return self._shading

    def candidates(self, t: int, propagated: np.ndarray | None = None) -> list[Candidate]:
        """What joins the network's color on frame ``t``: propagated region colours (``propagated``, its
        cached RGB + confidence), or warped keys."""
        if propagated is not None and self.palette is not None:
            rgba = propagated                                                 # (m, n, 4) uint8
            m, n = rgba.shape[:2]
            key = self.keys_full[nearest_keys(t, sorted(self.keys_full), 1)[0]]
            nearest = cv2.resize(key, (n, m), interpolation=cv2.INTER_NEAREST)  # (m, n, 3): its colours exact
            # (the colour a view of the cached RGBA: only snapped to the palette, which reads it where it lies)
            return [Candidate(rgba[..., :3], rgba[..., 3].astype(np.float32) / 255.0),
                    Candidate(nearest, uniform_weight(NEAREST_KEY_WEIGHT, (m, n)))]
        if not self.options.warp:
            return []
        return self._warped_keys(t)[0]

    def _warped_keys(self, t: int) -> tuple[list[Candidate], list[np.ndarray], list[int]]:
        """The nearest keys warped onto frame ``t`` (``candidates`` without a flat palette), the flow each was
        warped by, and which keys, in that order."""
        near = sorted(nearest_keys(t, sorted(self.keys_small), self.options.max_refs))
        candidates, flows = warped_keys_with_flows(self.prep.frames.get("lines", t),
                                                   {k: self.keys_small[k] for k in near},
                                                   {k: self.key_lines[k] for k in near}, t)
        return candidates, flows, near

    def frame(self, t: int) -> Layers:
        """Frame ``t``'s finished layers: its paint (``painted``), its own ink over it, its doubt."""
        lines_full = self.prep.frames.get("lines_full", t)                    # (H, W) uint8
        painted = self.painted(t, lines_full)
        layers = self._layers(t, painted.fill, lines_full)
        if painted.held.any() and self._finishes_held(layers):  # where the drawing is a key's, strokes and all: the key
            finish_held(layers.ink, painted.held, painted.fill, lines_full, self.key_drawn_lines(), painted.frame)
        return replace(layers, doubt=painted.doubt)

    def painted(self, t: int, lines_full: np.ndarray | None = None) -> Painted:
        """Frame ``t``'s paint, made once per held drawing (``repeats``: a frame whose line art is the previous
        frame's, stroke for stroke): every frame of the drawing takes the paint of one of them (``painted_as``).
        Only a drawing of several frames keeps its paint, the last ``MEMO`` of them; ``lines_full``: frame
        ``t``'s line art, when the caller has it."""
        first, last = self.run_of(t)
        if first == last:  # a drawing of one frame: nothing to share
            return self._paint(t, lines_full)
        source = self.painted_as(t)
        with self._painted_lock:
            painting = self._painting.setdefault(source, threading.Lock())
        with painting:
            got = self._painted.get(source)
            if got is None:
                got = self._paint(source, lines_full if source == t else None)
                with self._painted_lock:
                    self._painted[source] = got
                    while len(self._painted) > MEMO:
                        gone, _ = self._painted.popitem(last=False)
                        self._painting.pop(gone, None)
            return got

    def run_of(self, t: int) -> tuple[int, int]:
        """The first and last frame of the held drawing frame ``t`` shows (``t``, ``t`` unless it repeats the frame
        before or the next repeats it)."""
        first, last = t, t
        while first in self.repeats:
            first -= 1
        while last + 1 in self.repeats:
            last += 1
        return first, last

    def painted_as(self, t: int) -> int:
        """The frame whose paint frame ``t`` takes: a key its held drawing holds (the key is that very drawing,
        painted by the artist; the nearest, then the earlier), else the drawing's frame nearest to a key (the
        propagation's evidence there went through the fewest hops; the earlier of a tie)."""
        first, last = self.run_of(t)
        keys = [k for k in self.keys_full if first <= k <= last]
        if keys:
            return min(keys, key=lambda k: (abs(k - t), k))
        return min(range(first, last + 1), key=lambda f: (min(abs(f - k) for k in self.keys_full), f))

    def _paint(self, t: int, lines_full: np.ndarray | None = None) -> Painted:
        """Frame ``t``'s paint, held pixels and doubt, made from its regions, candidates and held keys."""
        if lines_full is None:
            lines_full = self.prep.frames.get("lines_full", t)                # (H, W) uint8
        if t in self.keys_full:  # the key as painted, every pixel its own
            return Painted(t, self.keys_full[t], np.ones(lines_full.shape, bool), np.zeros(lines_full.shape, np.uint8))
        if self.footage:
            return self._footage_paint(t, lines_full)
        # The propagated colours and confidence, read once: candidates, flat regions and doubt use them.
        rgba = self.propagated.get("rgb", t) if self.propagated is not None else None   # (m, n, 4) uint8
        # (h, w, 3) uint8, or where the flat fill may do without it, how to get it
        network = functools.partial(self.network, t) if self.network_on_demand else self.network(t)
        warped = self._warped_keys(t) if self.palette is None and self.options.warp else None
        candidates = warped[0] if warped is not None else self.candidates(t, rgba)
        # Propagated colours yield to the network only where they found no evidence at all.
        settings = (FusionSettings(network_weight=PROPAGATED_NETWORK_WEIGHT, min_confidence=PROPAGATED_NETWORK_WEIGHT)
                    if self.propagated is not None and self.palette is not None
                    else FusionSettings())
        labels = settings.regions(lines_full)
        # (H, W): ink as its nearest region; made once for the fill and the doubt
        full = fill_ink_labels(labels[0]) if self.palette is not None or rgba is not None else None
        if self.palette is not None:  # every region one palette colour: the keys' by construction
            fill = fuse_regions(lines_full, network, candidates, self.palette, settings, labels=labels, with_ink=False,
                                full=full)
        else:  # per pixel: only colours the keys hold, the network's and the upsampling's blends included
            key_colors = self.key_colors()
            network = key_colors.project(network() if callable(network) else network)
            fill = composite_full_resolution(fuse_pixels(network, _at_size(candidates, network.shape[:2]), settings),
                                             lines_full, with_ink=False)
            if warped is not None:  # the keys' paint where they decide, sampled at full size
                drawings = {d.index: d for d in self.key_drawings()}
                fill = keys_at_full_size(fill, candidates, warped[1], [self.keys_full[k] for k in warped[2]],
                                         [drawings[k].paper for k in warped[2]], labels[0] > 0, settings)
            fill = key_colors.project(fill)
            if rgba is not None:  # regions the keys paint flat: their propagated colour whole
                fill = paint_confident_regions(fill, labels, np.ascontiguousarray(rgba[..., :3]),
                                               rgba[..., 3].astype(np.float32) / 255.0, self.propagated_palette,
                                               self.flat_colors, shading=self.key_shading(), full=full)
        # Where the drawing holds still since a key, that key's paint, pixel for pixel (compose.held).
        fill, held = paste_held_with_mask(fill, FrameDrawing.of(*labels, lines_full), self.key_drawings(), t)
        return Painted(t, fill, held, self.doubt(labels, held, candidates, rgba, full))

    def _finishes_held(self, layers: Layers) -> bool:
        """Whether a held drawing's strokes take their key's finish (``compose.held.finish_held``): where the
        drawing's own ink is drawn, and not with ``--trace-lines paint``, whose flatten leaves ink in colour out."""
        return not layers.trace_painted and resolve_ink(self.options.ink, drawing=self.ink is not None) == "drawn"

    @property
    def footage(self) -> bool:
        """Whether frames are painted as colour footage (``paints_footage``)."""
        return paints_footage(self.ink is not None, self.palette, self.options.warp)

    def _footage_paint(self, t: int, lines_full: np.ndarray) -> Painted:
        """Colour footage: its nearest key warped at full size (``compose.fusion.footage_paint``), in the keys'
        colours. Nothing is pasted (a still part warps onto itself, the key's paint already, and the strokes
        keep their own paint), and the networks are never read."""
        near = nearest_keys(t, sorted(self.keys_small), self.options.max_refs)
        nearest = nearest_keys(t, near, 1)[0]
        paint, candidates = footage_paint(self.prep.frames.get("lines", t), {k: self.keys_small[k] for k in near},
                                          {k: self.key_lines[k] for k in near}, t, nearest, self.keys_full[nearest])
        fill = self.key_colors().project(paint)                                  # (H, W, 3) uint8
        held = np.zeros(lines_full.shape, bool)
        return Painted(t, fill, held, self.doubt(None, held, candidates, None))

    def doubt(self, labels: tuple[np.ndarray, int] | None, held: np.ndarray, candidates: list[Candidate],
              propagated: np.ndarray | None, full: np.ndarray | None = None) -> np.ndarray:
        """uint8 (H, W): a frame's doubt (``lacvid.compose.doubt``) from what its paint was made of:
        ``labels`` its regions (needed with ``propagated`` only), ``held`` its pixels pasted from a key,
        ``candidates`` as ``candidates(t)``,
        ``propagated`` its cached propagation (RGB + confidence; None: footage); ``full`` the regions
        with ink as its nearest (``fill_ink_labels``) when ``frame`` made them already."""
        if propagated is not None:  # a drawing: per region, the propagation's confidence
            conf = propagated[..., 3].astype(np.float32) / 255.0                      # (m, n) float32
            doubt = region_doubt(labels, conf, full)
        else:  # colour footage (or no propagation): per pixel, the warped keys' confidence
            doubt = pixel_doubt([c.color for c in candidates], [c.weight for c in candidates], held.shape)
        return clear_held(doubt, held)

    def frame_doubt(self, t: int) -> np.ndarray:
        """uint8 (H, W): ``frame(t).doubt`` without the networks or the paint (``lacvid keys --next``):
        the same regions, held pixels and candidates; a key's is 0, a held drawing's its ``painted_as`` frame's."""
        t = self.painted_as(t)
        lines_full = self.prep.frames.get("lines_full", t)                    # (H, W) uint8
        if t in self.keys_full:
            return np.zeros(lines_full.shape, np.uint8)
        if self.footage:  # nothing pasted, as ``frame`` paints it
            return self.doubt(None, np.zeros(lines_full.shape, bool), self.candidates(t), None)
        labels = FusionSettings().regions(lines_full)
        held = held_mask(FrameDrawing.of(*labels, lines_full), self.key_drawings())
        if self.propagated is not None:
            return self.doubt(labels, held, [], self.propagated.get("rgb", t))
        return self.doubt(labels, held, self.candidates(t), None)

    def _layers(self, t: int, fill: np.ndarray, lines_full: np.ndarray) -> Layers:
        """The paint ``fill`` (uint8 (H, W, 3)) and frame ``t``'s ink as layers."""
        ink = resolve_ink(self.options.ink, drawing=self.ink is not None)
        if ink == "drawn":
            drawn = self.ink.frame(self.prep.drawn.get("rgb", t), line_art=lines_full)  # scan drew it so
            if self.options.trace_lines == "paint":  # coloured lines in their area's colour (compose.trace)
                fill = paint_trace_lines(fill, drawn.colored, drawn.mask | (lines_full < INK_THRESHOLD), self.palette)
                return Layers(paint_layer(fill), drawing_ink(drawn), trace_painted=True)
            return Layers(paint_layer(fill), drawing_ink(drawn))
        if ink == "multiply":
            return Layers(paint_layer(fill), line_art_ink(lines_full))
        return Layers(paint_layer(fill), no_ink(lines_full.shape))


def _at_size(candidates: list[Candidate], size: tuple[int, int]) -> list[Candidate]:
    """Candidates resampled to ``size`` (h, w) for the per-pixel fusion (nearest: colours stay exact)."""
    h, w = size
    return [c if c.color.shape[:2] == (h, w) else
            Candidate(cv2.resize(c.color, (w, h), interpolation=cv2.INTER_NEAREST),
                      cv2.resize(c.weight, (w, h), interpolation=cv2.INTER_LINEAR)) for c in candidates]
