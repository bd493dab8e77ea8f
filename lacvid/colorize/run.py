"""``colorize()``: line art + a few painted keys in, every frame painted out.

The run ties the passes together, each resumable from the Zarr cache (``colorize.cache``):

1. ``scan``: stream frames, preprocess them (``lacvid.preprocess``), detect shots;
2. ``networks``, per shot: the color transform network on every frame with the K nearest
   keys as references, then the temporal network in sliding three-frame windows;
3. ``compose``: color under the original line art (ink kept as drawn), fused with the keys
   warped onto each frame, and encoded on a writer thread that overlaps the next shot.

The library never prints: it reports through ``progress`` and raises ``InputError``s.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from lacvid.cache_home import default_cache_dir
from lacvid.colorize.cache import ColorizeCache, damaged_message, input_fingerprint
from lacvid.colorize.compose import Composer, ShotComposer, flat_palette
from lacvid.colorize.networks import ShotNetworks
from lacvid.colorize.propagation import ShotPropagator, match_size
from lacvid.colorize.options import DEFAULT_MODEL, ColorizeOptions, ColorizeResult
from lacvid.colorize.scan import resolve_shots, scan
from lacvid.devices import resolve_device
from lacvid.hashing import file_digest, fingerprint
from lacvid.ink import InkModel
from lacvid.key_check import MISMATCH_WARNING, key_mismatch
from lacvid.layers import LayerWriter, check_layers_output
from lacvid.inference import load_model, make_backend
from lacvid.media import MediaInfo, open_writer, probe
from lacvid.media.write import check_encoder
from lacvid.outputs import check_not_an_input, check_output_path
from lacvid.painted_keys import KeyFrame, check_keys_cover_shots, find_keys
from lacvid.preprocess import DEFAULT_WORK_SIZE, resize_to, working_size
from lacvid.progress import NULL_PROGRESS, Progress
from lacvid.shots import Shot
from lacvid.store import FrameArrays


def colorize(input_path: Path | str, keys_dir: Path | str, output: Path | str,
             options: ColorizeOptions = ColorizeOptions(), progress: Progress = NULL_PROGRESS) -> ColorizeResult:
    """Paint every frame of ``input_path`` from the painted keys in ``keys_dir``; write ``output``.

    ``output`` is a video (by suffix; audio copied from a video input) or a frame directory.
    Resumable: an interrupted run started again with the same arguments picks up from the cache.
    """
    started = time.perf_counter()
    input_path, keys_dir, output = Path(input_path), Path(keys_dir), Path(output)
    cache_dir = Path(options.cache_dir or default_cache_dir())
    protected = {"input": input_path, "key folder": keys_dir, "cache folder": cache_dir}
    if str(options.model) != DEFAULT_MODEL:
        protected["model"] = Path(options.model)
    check_not_an_input(output, protected)
    info = probe(input_path)
    frames_folder = not output.suffix or output.is_dir()
    check_output_path(output, options.overwrite, frames_folder=frames_folder, frame_names=info.names or ())
    if not frames_folder:
        check_encoder(options.codec, options.preset)
    if options.layers is not None:
        check_layers_output(options.layers, options.overwrite, {**protected, "output": output})
    keys = find_keys(keys_dir, info)
    device = resolve_device(options.device)
    model = load_model(options.model)
    full = (info.height, info.width)
    work = working_size(info.height, info.width, options.size or model.work_size or DEFAULT_WORK_SIZE)
    with ColorizeCache(cache_dir, input_fingerprint(input_path, info.names), input_path, progress) as cache:
        prep_id = fingerprint("prep", 2, options.line_mode, work, full)  # 2: drawings read by lacvid.ink
        prep = cache.prep(prep_id, full, work)

        t0 = time.perf_counter()
        n_frames, names, detected = scan(info, prep, options.scan(), work, progress)
        stages = {"scan": time.perf_counter() - t0}
        shots = resolve_shots(options.shots, detected, n_frames)
        check_keys_cover_shots(keys, shots, n_frames, info)

        backend = make_backend(model.checkpoint, model.path, device, options.backend, cache_dir, work_size=work,
                               max_refs=options.max_refs, model_digest=model.digest, progress=progress)
        # The backend's name, not the option: "auto" resolves per machine, and the backends' outputs
        # differ in the last bits, so a cached frame must come from the backend this run uses.
        # What the networks saw: every key's pixels and the shot boundaries (references never cross a cut),
        # so repainted keys or other shots never meet frames cached from the old ones.
        keys_id = fingerprint([(k.index, file_digest(k.path)) for k in keys], [(s.start, s.stop) for s in shots])
        run_id = fingerprint("run", 1, prep_id, model.digest, options.max_refs, options.temporal, device.type,
                             backend.name, keys_id)
        run = _Run(cache, run_id, prep, work, full, ShotNetworks(backend, options.networks()), options,
                   propagation_id=fingerprint("propagate", 1, prep_id, keys_id))
        flat_shots = run.all_shots(shots, keys, names, info, output, stages, progress)
    return ColorizeResult(output=output, frames=n_frames, shots=shots, keys=[k.index for k in keys],
                          seconds=time.perf_counter() - started, stage_seconds=stages, flat_shots=flat_shots)


class _Run:
    """Networks then composition, shot after shot, into one writer."""

    def __init__(self, cache: ColorizeCache, run_id: str, prep, work: tuple[int, int], full: tuple[int, int],
                 networks: ShotNetworks, options: ColorizeOptions, propagation_id: str) -> None:
        self.colored = cache.run_stage(run_id, "colour", work)
        self.refined = cache.run_stage(run_id, "refined", work)
        match = match_size(*full)
        self.propagator = ShotPropagator(prep, cache.run_stage(propagation_id, "propagated", match, channels=4), match)
        self._ink: InkModel | None = None
        self.prep, self.work, self.full, self.networks, self.options = prep, work, full, networks, options
        self.progress: Progress = NULL_PROGRESS

    def all_shots(self, shots: list[Shot], keys: list[KeyFrame], names: list[str], info: MediaInfo, output: Path,
                  stages: dict[str, float], progress: Progress) -> int:
        """Every shot through the networks and the composer; returns how many were filled flat."""
        key_by_index = {k.index: k for k in keys}
        self.progress = progress
        enc = self.options.encode()
        task = progress.task("colorizing", total=sum(len(s) for s in shots))
        stages.update({"colour": 0.0, "temporal": 0.0, "propagate": 0.0})
        flat_shots = 0
        with open_writer(output, like=info, overwrite=enc.overwrite, crf=enc.crf, preset=enc.preset,
                         codec=enc.codec, progress=progress) as writer:
            layers = LayerWriter(enc.layers, enc.overwrite) if enc.layers is not None else None
            composer = Composer(writer, task.advance, layers)
            error: BaseException | None = None
            try:
                for number, shot in enumerate(shots, start=1):
                    task.update(description=f"colorizing shot {number}/{len(shots)}")
                    # A key's transparent paint shows its frame's own line art (as drawn), not white.
                    keys_full = {i: key_by_index[i].load(self.full, backdrop=self.prep.frames.get("lines_full", i))
                                 for i in range(shot.start, shot.stop) if i in key_by_index}
                    self._check_keys(keys_full, key_by_index)
                    flat_shots += self.one_shot(shot, keys_full, names, composer, stages)
            except BaseException as exc:
                error = exc
                raise
            finally:
                try:
                    composer.close()
                finally:
                    if layers is not None:  # published only with the frames; dropped on any failure
                        layers.close(error or composer.error)
        stages["compose+encode"] = composer.seconds
        task.close()
        return flat_shots

    def one_shot(self, shot: Shot, keys_full: dict, names: list[str], composer: Composer,
                 stages: dict[str, float]) -> bool:
        keys_small = {i: resize_to(img, self.work) for i, img in keys_full.items()}
        for arrays in (self.colored, self.refined, self.propagator.out):  # damaged frames: computed again
            bad = arrays.verify(range(shot.start, shot.stop))
            if bad:
                self.progress.log(damaged_message(arrays, bad))
        t0 = time.perf_counter()
        self.networks.color(shot, keys_small, self.prep, self.colored)
        stages["colour"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        self.networks.refine(shot, keys_small, self.prep, self.colored, self.refined)
        stages["temporal"] += time.perf_counter() - t0
        palette = flat_palette(keys_full, self.prep, self.options.flat)
        propagated, ink, shot_palette = self._propagate(shot, keys_full, palette is not None, stages)
        if palette is not None and shot_palette is not None:
            palette = shot_palette  # the colours the propagation voted with, so no vote is lost to snapping
        shot_composer = ShotComposer(keys_full, keys_small, self.prep, self.refined, palette, self.options.compose(),
                                     propagated=propagated, ink=ink)
        for t in range(shot.start, shot.stop):
            composer.submit(shot_composer.job(t), names[t])
        return palette is not None

    def _check_keys(self, keys_full: dict[int, np.ndarray], key_by_index: dict[int, KeyFrame]) -> None:
        """Warn about a key that does not match the drawing of the frame it is named after."""
        for i, key in keys_full.items():
            mismatch = key_mismatch(key, self.prep.frames.get("lines_full", i))
            if mismatch > MISMATCH_WARNING:
                self.progress.log(f"warning: key {key_by_index[i].path} does not match the drawing of frame {i}: "
                                  f"{mismatch:.0%} of its lines lie off the key's colour edges; check that the key "
                                  "is named after the frame it paints")

    def _propagate(self, shot: Shot, keys_full: dict, flat: bool, stages: dict[str, float]
                   ) -> tuple[FrameArrays | None, InkModel | None, np.ndarray | None]:
        """A drawing's shot: region colours propagated from its keys, the clip's ink model, and the
        propagation's palette. Propagation needs flat cel keys (one colour per region); keys painted
        with gradients and texture are warped onto each frame instead, as for colour footage."""
        if not self.prep.has_drawing(shot.start):
            return None, None, None  # colour footage: keys warped by flow instead, line art multiplied
        if self._ink is None:  # the model scan fitted on the first frame, fitted again the same way
            self._ink = InkModel.fit([self.prep.drawn.get("rgb", 0)])
        if not self.options.warp or not flat:
            return None, self._ink, None
        t0 = time.perf_counter()
        palette = self.propagator.run(shot, keys_full)
        stages["propagate"] += time.perf_counter() - t0
        return self.propagator.out, self._ink, palette
