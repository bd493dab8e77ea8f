"""One shot, start to finish: the unit of work of a ``colorize`` run, in this process or on a Ray worker.

A shot's results depend only on the input's preprocessing, the run's settings and *that shot's*
keys (references never cross a cut), so every shot has its own cache entries, keyed by its own
fingerprint (``RunPlan.shot_id``): repainting one key recolours one shot, and ``--shot N`` or
``--frames A-B`` reuse every other shot's finished frames. The passes of a shot:

1. ``propagation``: region colours from the keys (drawings);
2. ``networks``: color transform then temporal network (working size);
3. ``compose``: each finished frame as paint and ink layers at full resolution, stored in the
   cache (``finished``), so the frame written to the output is read back bit for bit by any
   process: the writer, a rerun, or the driver of a Ray job.

Which frames the networks run on depends on what reads them. A drawing whose keys are flat cel paint
takes each region's colour by a vote (``compose.fusion.fuse_regions``) where the network's vote is
tiny beside the propagation's and the nearest key's: it can only decide a region the propagation
found (next to) no evidence for and the nearest key paints in more than one colour. So such a shot
propagates first and then composes, and composing runs the colour network for a frame only when the
vote could go the network's way there (``pipeline.networks.NetworksOnDemand``); every other frame is
bit for bit what it would be had the network run. The temporal network does not run on such a shot:
its colour only picks a region's palette colour, a palette fill has no per-pixel flicker for it to
remove, and with the bundled model it changed no frame of any benchmark set (README, Speed). Colour
footage whose keys are not flat is its nearest key warped (``compose.fusion.footage_paint``) and never
reads the networks: they do not run. Drawings whose keys are not all flat, and ``--no-warp``, read the
network everywhere: there the networks run on every frame, on their own thread beside the propagation.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lacvid._version import __version__
from lacvid.compose.layers import Layers, key_layers
from lacvid.compose.palette import ShotPalette, with_index
from lacvid.errors import InputError
from lacvid.models.runtime import LoadedModel, NetworkBackend, load_model, make_backend
from lacvid.pipeline.cache import ColorizeCache, PrepEntry, damaged_message
from lacvid.pipeline.compose import KeyColorIndex, KeyRegions, ShotComposer, flat_palette, paints_footage
from lacvid.pipeline.keys import KeyFrame
from lacvid.pipeline.networks import NetworksOnDemand, ShotNetworks, network_batch
from lacvid.pipeline.options import ColorizeOptions
from lacvid.pipeline.propagation import ShotPropagator, match_size
from lacvid.preprocess.frame import resize_to
from lacvid.preprocess.ink import InkModel
from lacvid.progress import NULL_PROGRESS, Progress, warn
from lacvid.shots.detect import Shot
from lacvid.util.hashing import fingerprint
from lacvid.util.store import FrameArrays


@dataclass(frozen=True)
class RunPlan:
    """What any process needs to colour any shot of one run: small and picklable (a Ray job ships it)."""

    input_path: Path
    cache_root: Path
    input_id: str
    prep_id: str
    full: tuple[int, int]          # (H, W) of the input
    work_size: tuple[int, int]     # (h, w) the networks see
    options: ColorizeOptions
    model_path: Path
    model_digest: str
    device: str                    # resolved: "cpu", "cuda:0", ...
    backend: str                   # resolved: "torch" or "onnx"
    keys: tuple[tuple[int, str, str], ...]  # (frame, path, content digest) of every painted key
    version: str = __version__

    @property
    def networks_id(self) -> str:
        # The backend's name, not the option: the backends' outputs differ in the last bits.
        # The batch too: a batch's frames may come out of a backend a few bits apart from single frames.
        o = self.options
        return fingerprint("run", 3, self.prep_id, self.model_digest, o.refs, o.temporal,
                           self.device.split(":")[0], self.backend, network_batch(o.batch, self.device))

    @property
    def propagation_id(self) -> str:
        # 3: also for keys not all flat, with flat colours; 4: the keys' colours merge within their own noise;
        # 5: flows to a chain's sources two frames back composed through the frame between (propagate.shot);
        # 6: the pan start tried only where DIS from rest left the fields apart (propagate.flow.EXPLAINED);
        # 7: a held drawing (a frame repeating the one before) is one drawing, nothing moves within it;
        # 8: one flow per pair of neighbouring frames, pulled by the nearer key's chain, pushed by the other
        # 9: the ink at the matching size keeps its lines' own width (pipeline.propagation.ink_at_size)
        return fingerprint("propagate", 9, self.prep_id)

    @property
    def finish_id(self) -> str:
        o = self.options
        # 2: regions the drawing holds still since a key take its paint (compose.held); per-pixel paint
        # only in colours the keys hold (compose.key_colors); 3: the nearest key where the propagation
        # knows nothing; 5: drawings with gradient keys take the propagated colour in the regions the
        # keys paint flat (compose.fusion.paint_confident_regions); the shot's indexed palette in the
        # entry's attributes (--layers index), and --trace-lines (the paint under coloured lines); 6: each
        # frame's doubt (compose.doubt) beside its layers; 7: those regions keep the keys' own shade
        # (compose.fusion.key_shading); 8: footage is its nearest key warped at full size, nothing pasted;
        # 9: full-size regions bridge gaps in proportion to the frame (compose.fusion.FusionSettings.at_size);
        # 10: a held drawing's strokes as its key finished them (compose.held.finish_held); 11: a frame that
        # repeats the one before takes that one's paint (pipeline.compose.ShotComposer.painted); 12: a drawing with
        # flat keys reads the colour network alone (pipeline.networks.NetworksOnDemand); 13: paper grain away
        # from the ink is not drawn over the paint (preprocess.ink.InkModel._clear_grain); 14: a coloured line
        # is told by its darkening's balance across channels, at any coverage (util.kernels.ink_classes); 15: in a
        # drawing whose colour was kept at half resolution, over the neighbourhood that took a thin line's colour
        # (preprocess.ink.halved_chroma); 16: keys not painted flat lend their paint sampled at full size
        # (compose.fusion.keys_at_full_size)
        return fingerprint("finish", 16, self.networks_id, self.propagation_id, o.flat, o.warp, o.refs, o.ink,
                           o.trace_lines)

    def shot_keys(self, shot: Shot) -> list[KeyFrame]:
        return [KeyFrame(index, Path(path)) for index, path, _ in self.keys if index in shot]

    def shot_id(self, shot: Shot) -> str:
        """The shot's bounds and its own keys' pixels: all a shot's results depend on beyond the run's settings."""
        return fingerprint(shot.start, shot.stop, [(i, digest) for i, _, digest in self.keys if i in shot])


@dataclass
class ShotArrays:
    """The cache entries of one shot (frames indexed as in the input)."""

    colored: FrameArrays
    refined: FrameArrays
    propagated: FrameArrays
    finished: FrameArrays

    @classmethod
    def open(cls, cache: ColorizeCache, plan: RunPlan, shot: Shot) -> ShotArrays:
        sid = plan.shot_id(shot)
        H, W = plan.full
        n = shot.stop  # a new entry is made at this length, not grown to it
        arrays = cls(cache.run_stage(f"{plan.networks_id}/{sid}", "colour", plan.work_size, length=n),
                     cache.run_stage(f"{plan.networks_id}/{sid}", "refined", plan.work_size, length=n),
                     cache.run_stage(f"{plan.propagation_id}/{sid}", "propagated", match_size(*plan.full), channels=4,
                                     length=n),
                     cache.finished(f"{plan.finish_id}/{sid}", (H, W), length=n))
        for a in arrays.all():
            a.reserve(shot.stop)
        return arrays

    def all(self) -> tuple[FrameArrays, ...]:
        return self.colored, self.refined, self.propagated, self.finished

    def missing(self, frames: range) -> list[int]:
        """Frames of ``frames`` whose finished layers are not in the cache."""
        return [t for t in frames if not self.finished.is_done(t)]


class ShotLayers:
    """A shot's finished frames, one at a time: read from the cache, or composed and stored there first.

    Without a composer (``ShotLayers(finished)``) it only reads: for shots another process coloured.
    """

    def __init__(self, finished: FrameArrays, composer: ShotComposer | None = None,
                 keys_full: dict[int, np.ndarray] | None = None, flat: bool = False) -> None:
        self.finished, self.composer, self.keys_full, self.flat = finished, composer, keys_full or {}, flat
        attrs = finished.group.attrs
        # The shot's indexed palette (flat shots), or why it has none: what --layers writes beside the frames.
        self.palette = ShotPalette.from_attrs(attrs["palette"]) if attrs.get("palette") else None
        self.no_palette_why = str(attrs.get("palette_why") or "it was coloured without a palette")
        self.trace_painted = attrs.get("trace_lines") == "paint"  # see Layers.trace_painted

    def indexed(self, t: int) -> Layers:
        """``layers(t)`` with its index layer (a shot with a palette; else as ``layers``)."""
        layers = self.layers(t)
        return layers if self.palette is None else with_index(layers, self.palette.colors)

    def layers(self, t: int) -> Layers:
        if self.finished.is_done(t):
            return Layers(self.finished.get("paint", t), self.finished.get("ink", t), trace_painted=self.trace_painted,
                          doubt=self.finished.get("doubt", t))
        if self.composer is None:
            raise InputError(f"frame {t} is not in the cache entry {self.finished.entry}; colour it first "
                             "(run without --frames and --shot)")
        layers = key_layers(self.keys_full[t]) if t in self.keys_full else self.composer.frame(t)
        self.finished.put(t, paint=layers.paint, ink=layers.ink, doubt=layers.doubt)
        return layers


def _no_network(t: int) -> np.ndarray:
    # ShotComposer.frame_doubt and a footage frame never ask
    raise AssertionError(f"frame {t}: made without the networks, yet they were asked for")


def open_backend(plan: RunPlan, model: LoadedModel | None = None, progress: Progress = NULL_PROGRESS) -> NetworkBackend:
    """The networks of ``plan`` as its driver resolved them (model, device, backend), in this process."""
    if model is None:
        model = load_model(plan.model_path)
    return make_backend(model, plan.device, plan.backend, plan.cache_root, work_size=plan.work_size,
                        max_refs=plan.options.refs, progress=progress)


@dataclass
class ShotWorker:
    """Colours shots of one run with one loaded backend: the driver's own, or a Ray worker's."""

    plan: RunPlan
    cache: ColorizeCache
    backend: NetworkBackend
    progress: Progress = NULL_PROGRESS
    stages: dict[str, float] = field(default_factory=lambda: {"colour": 0.0, "temporal": 0.0, "propagate": 0.0})
    # Run the networks on every frame and let every flat fill read them, as before they ran on demand:
    # what tests and benchmarks compare the on-demand frames with (the same bits).
    networks_everywhere: bool = False
    _ink: InkModel | None = None
    _stages_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.prep: PrepEntry = self.cache.prep(self.plan.prep_id, self.plan.full, self.plan.work_size)
        self.networks = ShotNetworks(self.backend, self.plan.options.networks(),
                                     network_batch(self.plan.options.batch, self.plan.device), self.progress)

    def load_keys(self, shot: Shot) -> dict[int, np.ndarray]:
        """The shot's keys at full resolution; transparent paint shows the frame's own line art."""
        return {k.index: k.load(self.plan.full, backdrop=self.prep.frames.get("lines_full", k.index))
                for k in self.plan.shot_keys(shot)}

    def prepare(self, shot: Shot, frames: range | None = None, segment: bool = False) -> ShotLayers:
        """Propagation of ``shot``, and its networks where every frame reads them (what the cache lacks); its
        frames then compose one by one, running the networks they need on demand (module doc).

        ``frames``: the finished frames this call reads (default: all), the ones checked against their
        checksums here. ``segment``: a part of a shot whose networks and propagation an earlier task ran
        (``ray_executor``), which checked their cached frames already: so each is read once a run, not
        once per segment.
        """
        whole = range(shot.start, shot.stop)
        arrays = ShotArrays.open(self.cache, self.plan, shot)
        self._verify(arrays.finished, whole if frames is None else frames)
        if not arrays.missing(whole):
            return ShotLayers(arrays.finished, flat=bool(arrays.finished.group.attrs.get("flat", False)))
        if not segment:
            for a in (arrays.colored, arrays.refined, arrays.propagated):
                self._verify(a, whole)
        keys_full = self.load_keys(shot)
        keys_small = {i: resize_to(img, self.plan.work_size) for i, img in keys_full.items()}
        options = self.plan.options
        # The propagation needs nothing of the keys' full-size regions and palette, nor of the networks: it
        # starts first, on a thread of its own (its flow, segmentation and carry release the GIL), so a
        # shot's setup here and the networks where every frame reads them run beside it, not before it.
        stop = threading.Event()
        self.networks.stop.clear()
        with ThreadPoolExecutor(1, thread_name_prefix="lacvid-propagate") as pool:  # leaving it waits for it
            propagating = pool.submit(self._propagate_held, shot, keys_full, arrays, stop)
            # A failed propagation stops the networks running here at their next batch (its error is raised below).
            propagating.add_done_callback(lambda done: done.exception() is None or self.networks.stop.set())
            try:
                key_regions = KeyRegions(self.prep)  # the keys' regions, made once for the palette and the composer
                key_colors = KeyColorIndex(keys_full)  # the keys' colours, found once for the palette and index layer
                palette, why = flat_palette(keys_full, self.prep, options.flat, key_regions, key_colors)
                # A drawing with flat keys: the flat fill reads the network only where the propagation leaves a
                # region open, so composing runs the networks it needs once the propagation is done (module doc).
                flat_drawing = palette is not None and self._propagates(shot)
                on_demand = flat_drawing and not self.networks_everywhere
                # Colour footage is its nearest key warped (compose.fusion.footage_paint): no frame reads them.
                footage = paints_footage(self.prep.has_drawing(shot.start), palette, options.warp)
                if on_demand:
                    network = NetworksOnDemand(self.networks, shot, keys_small, self.prep, arrays.colored,
                                               self._record).frame
                elif footage and not self.networks_everywhere:
                    network = _no_network
                elif flat_drawing:  # networks_everywhere: the colour network alone, on every frame
                    self._timed("colour", self.networks.color, shot, keys_small, self.prep, arrays.colored)
                    network = functools.partial(arrays.colored.get, "rgb")
                else:  # every frame reads the networks: they run here, on every frame, while the propagation runs
                    self._networks(shot, keys_small, arrays)
                    network = functools.partial(arrays.refined.get, "rgb")
                propagated, ink, shot_palette, flat_colors, repeats = propagating.result()  # its error raised here
            except BaseException:
                stop.set()  # an error or Ctrl-C here (waiting included): the chains stop after the hop in hand
                raise
        if palette is not None:
            # Every colour the paint is made of, for the index layer: the propagation's, then the keys' own fills.
            indexed = ShotPalette.of([p for p in (shot_palette, palette) if p is not None], keys_full, key_colors)
            arrays.finished.group.attrs.update({"palette": indexed.to_attrs(), "palette_why": ""})
        else:
            arrays.finished.group.attrs.update({"palette": None, "palette_why": why})
        if palette is not None and shot_palette is not None:
            palette = shot_palette  # the colours the propagation voted with, so no vote is lost to snapping
        arrays.finished.group.attrs.update({"flat": palette is not None, "trace_lines": options.trace_lines})
        composer = ShotComposer(keys_full, keys_small, self.prep, network, palette, options.compose(),
                                propagated=propagated, ink=ink, propagated_palette=shot_palette,
                                flat_colors=flat_colors, network_on_demand=on_demand, key_regions=key_regions,
                                repeats=repeats)
        return ShotLayers(arrays.finished, composer, keys_full, flat=palette is not None)

    def finish(self, shot: Shot, frames: range, segment: bool = False) -> bool:
        """Colour ``frames`` of ``shot`` into the cache (a Ray task's whole job); returns whether it was flat-filled.
        ``segment``: as for ``prepare``."""
        shot_layers = self.prepare(shot, frames, segment)
        t0, networks = time.perf_counter(), self.stages["colour"] + self.stages["temporal"]
        for t in frames:
            shot_layers.layers(t)
        # The networks composing ran on demand count as theirs, not as composing.
        self._record("compose", time.perf_counter() - t0 - (self.stages["colour"] + self.stages["temporal"] - networks))
        return shot_layers.flat

    def doubts(self, shot: Shot) -> Iterator[tuple[int, np.ndarray]]:
        """Each frame of ``shot`` with its doubt (``lacvid.compose.doubt``, uint8 (H, W)): the finished
        frame's where the cache holds it, else from the propagation (run where needed) and the keys'
        held paint, the same as composing would give; the networks are not run."""
        arrays = ShotArrays.open(self.cache, self.plan, shot)
        composer: ShotComposer | None = None
        for t in range(shot.start, shot.stop):
            if arrays.finished.is_done(t):
                yield t, arrays.finished.get("doubt", t)
                continue
            if composer is None:
                self._verify(arrays.propagated, range(shot.start, shot.stop))
                keys_full = self.load_keys(shot)
                keys_small = {i: resize_to(img, self.plan.work_size) for i, img in keys_full.items()}
                propagated, ink, _, _, repeats = self._propagate_held(shot, keys_full, arrays)
                # Footage with flat keys is painted per region, with held pasting (its doubt cleared there)
                key_regions = KeyRegions(self.prep)
                palette = flat_palette(keys_full, self.prep, self.plan.options.flat, key_regions)[0] \
                    if ink is None else None
                composer = ShotComposer(keys_full, keys_small, self.prep, _no_network, palette,
                                        self.plan.options.compose(), propagated=propagated, ink=ink,
                                        key_regions=key_regions, repeats=repeats)
            yield t, composer.frame_doubt(t)

    def run_networks(self, shot: Shot) -> None:
        """The networks of ``shot`` alone, on every frame, into the cache (what ``prepare`` runs beside the
        propagation where the network is read everywhere; benchmarks time the passes apart with this)."""
        keys_small = {i: resize_to(img, self.plan.work_size) for i, img in self.load_keys(shot).items()}
        self._networks(shot, keys_small, ShotArrays.open(self.cache, self.plan, shot))

    def _networks(self, shot: Shot, keys_small: dict[int, np.ndarray], arrays: ShotArrays) -> None:
        self._timed("colour", self.networks.color, shot, keys_small, self.prep, arrays.colored)
        self._timed("temporal", self.networks.refine, shot, keys_small, self.prep, arrays.colored, arrays.refined)

    def _verify(self, arrays: FrameArrays, frames: range) -> None:
        """Damaged frames (a chunk deleted or changed since it was written) are said and computed again."""
        bad = arrays.verify(frames)
        if bad:
            warn(self.progress, damaged_message(arrays, bad))

    def _timed(self, stage: str, fn, *args) -> None:
        t0 = time.perf_counter()
        fn(*args)
        self._record(stage, time.perf_counter() - t0)

    def _record(self, stage: str, seconds: float) -> None:
        """Add ``seconds`` to ``stage``: composing threads run networks on demand while this one works."""
        with self._stages_lock:
            self.stages[stage] = self.stages.get(stage, 0.0) + seconds

    def _propagates(self, shot: Shot) -> bool:
        """Whether ``_propagate`` carries region colours over ``shot`` (a drawing, with ``--warp``)."""
        return self.prep.has_drawing(shot.start) and self.plan.options.warp

    def _propagate_held(self, shot: Shot, keys_full: dict, arrays: ShotArrays, stop: threading.Event | None = None
                        ) -> tuple[FrameArrays | None, InkModel | None, np.ndarray | None, np.ndarray | None,
                                   frozenset[int]]:
        """``_propagate`` with the shot's held drawings found first (``PrepEntry.repeats``: a read of each frame's
        line art, on the propagation's thread), and returned for composing."""
        repeats = self.prep.repeats(shot)
        return (*self._propagate(shot, keys_full, arrays, stop, repeats), repeats)

    def _propagate(self, shot: Shot, keys_full: dict, arrays: ShotArrays, stop: threading.Event | None = None,
                   repeats: frozenset[int] = frozenset()
                   ) -> tuple[FrameArrays | None, InkModel | None, np.ndarray | None, np.ndarray | None]:
        """A drawing's shot: region colours propagated from its keys, the clip's ink model, the
        propagation's palette and which of its colours the keys paint flat. With flat cel keys every
        region takes its propagated colour; keys painted with gradients are also warped onto each
        frame, and only the regions whose colour is flat take it (``compose.fusion.paint_confident_regions``).
        ``stop``: set by the thread that started it when that one fails (``ShotPropagator.run``); ``repeats``: the
        shot's held drawings (``PrepEntry.repeats``)."""
        if not self.prep.has_drawing(shot.start):
            return None, None, None, None  # colour footage: keys warped by flow instead (no ink on top by default)
        if self._ink is None:  # the model the scan fitted on the first frame (fitted again the same way if not kept)
            self._ink = self.prep.ink_model() or InkModel.fit([self.prep.drawn.get("rgb", 0)])
        if not self.plan.options.warp:
            return None, self._ink, None, None
        t0 = time.perf_counter()
        propagator = ShotPropagator(self.prep, arrays.propagated, match_size(*self.plan.full),
                                     spill=self.plan.cache_root, repeats=repeats)
        palette, flat_colors = propagator.run(shot, keys_full, stop)
        self._record("propagate", time.perf_counter() - t0)
        return arrays.propagated, self._ink, palette, flat_colors
