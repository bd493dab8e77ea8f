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

from lacvid.colorize.cache import ColorizeCache, default_cache_dir, input_fingerprint
from lacvid.colorize.compose import Composer, ShotComposer, flat_palette
from lacvid.colorize.networks import ShotNetworks
from lacvid.colorize.options import ColorizeOptions, ColorizeResult
from lacvid.colorize.scan import resolve_shots, scan
from lacvid.devices import resolve_device
from lacvid.hashing import file_digest, fingerprint
from lacvid.inference import load_model, make_backend
from lacvid.media import MediaInfo, open_writer, probe
from lacvid.outputs import check_output_path
from lacvid.painted_keys import KeyFrame, check_keys_cover_shots, find_keys
from lacvid.preprocess import DEFAULT_WORK_SIZE, resize_to, working_size
from lacvid.progress import NULL_PROGRESS, Progress
from lacvid.shots import Shot


def colorize(input_path: Path | str, keys_dir: Path | str, output: Path | str,
             options: ColorizeOptions = ColorizeOptions(), progress: Progress = NULL_PROGRESS) -> ColorizeResult:
    """Paint every frame of ``input_path`` from the painted keys in ``keys_dir``; write ``output``.

    ``output`` is a video (by suffix; audio copied from a video input) or a frame directory.
    Resumable: an interrupted run started again with the same arguments picks up from the cache.
    """
    started = time.perf_counter()
    input_path, keys_dir, output = Path(input_path), Path(keys_dir), Path(output)
    check_output_path(output, options.overwrite)
    info = probe(input_path)
    keys = find_keys(keys_dir, info)
    device = resolve_device(options.device)
    model = load_model(options.model)
    full = (info.height, info.width)
    work = working_size(info.height, info.width, options.size or model.work_size or DEFAULT_WORK_SIZE)
    cache_dir = options.cache_dir or default_cache_dir()
    cache = ColorizeCache(cache_dir, input_fingerprint(input_path, info.names))
    prep_id = fingerprint("prep", 1, options.line_mode, work, full)
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
    run = _Run(cache, run_id, prep, work, full, ShotNetworks(backend, options.networks()), options)
    flat_shots = run.all_shots(shots, keys, names, info, output, stages, progress)
    return ColorizeResult(output=output, frames=n_frames, shots=shots, keys=[k.index for k in keys],
                          seconds=time.perf_counter() - started, stage_seconds=stages, flat_shots=flat_shots)


class _Run:
    """Networks then composition, shot after shot, into one writer."""

    def __init__(self, cache: ColorizeCache, run_id: str, prep, work: tuple[int, int], full: tuple[int, int],
                 networks: ShotNetworks, options: ColorizeOptions) -> None:
        self.colored = cache.run_stage(run_id, "colour", work)
        self.refined = cache.run_stage(run_id, "refined", work)
        self.prep, self.work, self.full, self.networks, self.options = prep, work, full, networks, options

    def all_shots(self, shots: list[Shot], keys: list[KeyFrame], names: list[str], info: MediaInfo, output: Path,
                  stages: dict[str, float], progress: Progress) -> int:
        """Every shot through the networks and the composer; returns how many were filled flat."""
        key_by_index = {k.index: k for k in keys}
        enc = self.options.encode()
        task = progress.task("colorizing", total=sum(len(s) for s in shots))
        stages.update({"colour": 0.0, "temporal": 0.0})
        flat_shots = 0
        with open_writer(output, like=info, overwrite=enc.overwrite, crf=enc.crf, preset=enc.preset,
                         codec=enc.codec, progress=progress) as writer:
            composer = Composer(writer, task.advance)
            try:
                for shot in shots:
                    keys_full = {i: key_by_index[i].load(self.full) for i in range(shot.start, shot.stop)
                                 if i in key_by_index}
                    flat_shots += self.one_shot(shot, keys_full, names, composer, stages)
            finally:
                composer.close()
        stages["compose+encode"] = composer.seconds
        task.close()
        return flat_shots

    def one_shot(self, shot: Shot, keys_full: dict, names: list[str], composer: Composer,
                 stages: dict[str, float]) -> bool:
        keys_small = {i: resize_to(img, self.work) for i, img in keys_full.items()}
        t0 = time.perf_counter()
        self.networks.color(shot, keys_small, self.prep, self.colored)
        stages["colour"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        self.networks.refine(shot, keys_small, self.prep, self.colored, self.refined)
        stages["temporal"] += time.perf_counter() - t0
        palette = flat_palette(keys_full, self.prep, self.options.flat)
        shot_composer = ShotComposer(keys_full, keys_small, self.prep, self.refined, palette, self.options.compose())
        for t in range(shot.start, shot.stop):
            composer.submit(shot_composer.job(t), names[t])
        return palette is not None
