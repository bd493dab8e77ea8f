"""``colorize()``: line art + a few painted keys in, every frame painted out.

Three passes over the input, each resumable from the Zarr cache (``lacvid.cache``):

1. **scan**: stream frames, make line art at full resolution and at the working size, its
   distance field, and detect shots (colour never crosses a cut);
2. **networks**, per shot: encode the shot's keys once, run the colour transform network on
   every frame with the K nearest keys as references, then the temporal constraint network in
   sliding three-frame windows along the shot;
3. **compose**: colour upsampled under the original line art (ink kept as drawn), optionally
   flattened to the keys' palette per line-enclosed region, and encoded, on a writer thread
   that overlaps the networks of the next shot.

The library never prints: it reports through ``progress`` and raises ``InputError``s.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import torch

from lacvid.cache import ColorizeCache, PrepEntry, default_cache_dir, file_digest, fingerprint, input_fingerprint
from lacvid.composite import composite_full_resolution
from lacvid.distance import normalized_distance
from lacvid.errors import CheckpointError, InputError, KeyFrameError
from lacvid.flat import palette_coverage, palette_from_keys
from lacvid.fusion import fuse_pixels, fuse_regions, warped_key_candidates
from lacvid.inference import NetworkBackend, make_backend
from lacvid.keyframes import KeyFrame, find_keys
from lacvid.lines import detect_kind, extract_lines
from lacvid.media import Frame, MediaInfo, open_writer, probe, read_frames
from lacvid.models.checkpoint import Checkpoint, load_checkpoint
from lacvid.outputs import check_output_path
from lacvid.progress import NULL_PROGRESS, Progress
from lacvid.shots import Shot, ShotDetector

DEFAULT_MODEL = "default"


@dataclass(frozen=True)
class ColorizeOptions:
    """Everything that decides what ``colorize`` produces (and so keys its cache)."""

    model: str | Path = DEFAULT_MODEL
    device: str = "auto"
    backend: str = "auto"         # auto | torch | onnx: what runs the networks (lacvid.inference.make_backend)
    size: int = 256               # working size: the short side the networks see, in pixels
    # Fill every line-enclosed region with one palette colour of the keys: True, False, or None
    # (auto): per shot, when the keys are flat cel paint (``flat.palette_coverage`` >= 0.95).
    flat: bool | None = None
    max_refs: int = 3             # the K nearest keys of the shot are the references
    temporal: bool = True         # run the temporal constraint network
    warp: bool = True             # fuse keys warped onto each frame with the network's colour (lacvid.fusion)
    shots: str = "auto"           # auto (detect), single (the whole input is one shot) or a JSON file
    line_mode: str = "auto"       # auto | color | lines, as ``lacvid lines --mode``
    cache_dir: Path | None = None
    overwrite: bool = False
    crf: int = 18
    preset: str = "medium"
    codec: str = "libx264"


@dataclass
class ColorizeResult:
    output: Path
    frames: int
    shots: list[Shot]
    keys: list[int]
    seconds: float
    stage_seconds: dict[str, float] = field(default_factory=dict)
    flat_shots: int = 0           # shots filled flat with the keys' palette


# ----------------------------------------------------------------------------- helpers


def working_size(height: int, width: int, size: int) -> tuple[int, int]:
    """(h, w) with the short side ``size`` (never upscaled), both multiples of 4."""
    scale = min(1.0, size / min(height, width))
    h = max(4, int(round(height * scale / 4)) * 4)
    w = max(4, int(round(width * scale / 4)) * 4)
    return h, w


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise InputError(f"unknown device {device!r}; use auto, cpu or cuda[:N]") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {device} was asked for but CUDA is not available here; use --device cpu")
    return dev


def default_model_path() -> Path:
    return Path(str(resources.files("lacvid") / "weights" / "default.pt"))


def load_model(model: str | Path, device: torch.device) -> tuple[Checkpoint, str]:
    """The checkpoint's networks on ``device`` in eval mode, and a digest of the file."""
    path = default_model_path() if str(model) == DEFAULT_MODEL else Path(model)
    if not path.is_file():
        if str(model) == DEFAULT_MODEL:
            raise CheckpointError(f"the bundled default model {path} is missing from this install; reinstall "
                                  "lacvid or pass --model PATH")
        raise CheckpointError(f"model {path} does not exist; pass --model PATH to a lacvid checkpoint")
    ckpt = load_checkpoint(path, map_location=device)
    ckpt.color_net.to(device).eval()
    if ckpt.temporal_net is not None:
        ckpt.temporal_net.to(device).eval()
    return ckpt, file_digest(path)


def _to_tensor(images: list[np.ndarray], device: torch.device) -> torch.Tensor:
    """uint8 (H,W) or (H,W,3) images -> float (N, C, H, W) in [0, 1]."""
    arr = np.stack(images)
    if arr.ndim == 3:
        arr = arr[..., None]
    t = torch.from_numpy(arr).to(device=device, dtype=torch.float32)  # (N, H, W, C)
    return t.permute(0, 3, 1, 2).contiguous() / 255.0                # (N, C, H, W)


def _to_uint8(t: torch.Tensor) -> np.ndarray:
    """float (C, H, W) in [0, 1] -> uint8 (H, W, C)."""
    return (t.float().clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    h, w = size
    if image.shape[:2] == (h, w):
        return image
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)


# ----------------------------------------------------------------------------- pass 1: scan


def _prefetch(iterator: Iterator[Frame], depth: int = 8) -> Iterator[Frame]:
    """Decode on a background thread (PyAV and cv2 release the GIL) while the caller works."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def producer() -> None:
        try:
            for item in iterator:
                if stop.is_set():
                    return
                q.put(item)
            q.put(done)
        except BaseException as exc:  # re-raised in the consumer, which owns error reporting
            q.put(exc)

    thread = threading.Thread(target=producer, name="lacvid-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(0.05)


def _preprocess(image: np.ndarray, mode: str, work: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lines_full = extract_lines(image, mode=mode)                   # (H, W) uint8, 255 = paper
    lines = _resize(lines_full, work)                              # (h, w) uint8
    dist = normalized_distance(lines).astype(np.float16)           # (h, w) in [0, 1]
    return lines_full, lines, dist


def scan(info: MediaInfo, prep: PrepEntry, options: ColorizeOptions, work: tuple[int, int],
         progress: Progress) -> tuple[int, list[str], list[Shot]]:
    """Pass 1: preprocess every frame not yet cached, and detect shots."""
    cached = prep.scan
    if cached is not None:
        return cached["n_frames"], list(cached["names"]), [Shot(a, b) for a, b in cached["shots"]]
    detector = ShotDetector()
    names: list[str] = []
    task = progress.task("scanning", total=info.frame_count)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="lacvid-prep") as pool:
        pending: list = []

        def drain(limit: int) -> None:
            while len(pending) > limit:
                index, future = pending.pop(0)
                lines_full, lines, dist = future.result()
                prep.frames.put(index, lines_full=lines_full, lines=lines, dist=dist)
                task.advance()

        mode = options.line_mode
        for frame in _prefetch(read_frames(info.path)):
            if mode == "auto":  # decide once per input: a per-frame guess could flip mid-shot
                mode = detect_kind(frame.image)
            detector.push(frame.image)
            names.append(frame.name)
            if prep.frames.is_done(frame.index):
                task.advance()
                continue
            pending.append((frame.index, pool.submit(_preprocess, frame.image, mode, work)))
            drain(4)
        drain(0)
    task.close()
    if not names:
        raise InputError(f"{info.path} holds no frames; check the input")
    detector.finish()
    shots = detector.shots()
    prep.finish_scan(len(names), names, [(s.start, s.stop) for s in shots])
    return len(names), names, shots


def resolve_shots(spec: str, detected: list[Shot], n_frames: int) -> list[Shot]:
    """The shots to colour: detected, one for the whole input, or read from a ``lacvid shots --json`` file."""
    if spec == "auto":
        return detected
    if spec == "single":
        return [Shot(0, n_frames)]
    path = Path(spec)
    try:
        data = json.loads(path.read_text())
        shots = [Shot(int(s["start"]), int(s["stop"])) for s in data["shots"]]
    except FileNotFoundError as exc:
        raise InputError(f"shots file {path} does not exist; pass --shots auto, single or a file written by "
                         "lacvid shots --json") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"shots file {path} is not a lacvid shots --json file ({exc}); write one with "
                         "lacvid shots IN --json > shots.json") from exc
    expected = 0
    for shot in shots:
        if shot.start != expected or shot.stop <= shot.start:
            raise InputError(f"shots in {path} must cover frames 0 to {n_frames - 1} in order without gaps; "
                             f"shot {shot.start}-{shot.stop} does not follow frame {expected}")
        expected = shot.stop
    if expected != n_frames:
        raise InputError(f"shots in {path} end at frame {expected} but the input has {n_frames} frames; "
                         "write the file again with lacvid shots")
    return shots


def check_keys_cover_shots(keys: list[KeyFrame], shots: list[Shot], n_frames: int, info: MediaInfo) -> None:
    """Every shot needs a key, and every key must name a frame of the input."""
    for key in keys:
        if key.index >= n_frames:
            raise KeyFrameError(f"key {key.path} names frame {key.index} but {info.path} has {n_frames} frames; "
                                "rename or remove it")
    indices = [k.index for k in keys]
    for number, shot in enumerate(shots, start=1):
        if not any(shot.start <= i < shot.stop for i in indices):
            fps = float(info.fps) if info.fps else None
            when = f" ({shot.start / fps:.2f}s to {shot.stop / fps:.2f}s)" if fps else ""
            raise KeyFrameError(
                f"shot {number} (frames {shot.start} to {shot.stop - 1}{when}) of {info.path} has no painted key; "
                f"paint at least one of its frames into the key folder (lacvid keys suggests which)")


# ----------------------------------------------------------------------------- pass 2: networks


def nearest_keys(index: int, key_indices: list[int], k: int) -> list[int]:
    """The ``k`` keys closest in time to ``index``, in time order (ties: the earlier key)."""
    chosen = sorted(key_indices, key=lambda i: (abs(i - index), i))[:k]
    return sorted(chosen)


class _ShotRunner:
    """Runs both networks over one shot, reading and writing the cache."""

    def __init__(self, backend: NetworkBackend, options: ColorizeOptions) -> None:
        self.backend = backend
        self.device = backend.device
        self.options = options

    @torch.inference_mode()
    def colour(self, shot: Shot, keys: dict[int, np.ndarray], prep: PrepEntry, out) -> None:
        """Colour network on every non-key frame of ``shot`` -> ``out`` (uint8, working size)."""
        key_indices = sorted(keys)
        encoded_refs, encoded = None, None  # the nearest keys only change forward along a shot
        for t in range(shot.start, shot.stop):
            if t in keys or out.is_done(t):
                continue
            refs = tuple(nearest_keys(t, key_indices, self.options.max_refs))
            if refs != encoded_refs:  # each reference set is encoded once per shot
                ref_lines = _to_tensor([prep.frames.get("lines", i) for i in refs], self.device)[None]   # (1, K, 1, h, w)
                ref_dists = torch.from_numpy(np.stack([prep.frames.get("dist", i).astype(np.float32) for i in refs]))
                ref_dists = ref_dists[None, :, None].to(self.device)                                      # (1, K, 1, h, w)
                ref_colors = _to_tensor([keys[i] for i in refs], self.device)[None]                      # (1, K, 3, h, w)
                encoded_refs, encoded = refs, self.backend.encode_references(ref_lines, ref_colors, ref_dists)
            lines = _to_tensor([prep.frames.get("lines", t)], self.device)                              # (1, 1, h, w)
            dist = torch.from_numpy(prep.frames.get("dist", t).astype(np.float32))[None, None].to(self.device)
            y = self.backend.colour(lines, dist, encoded)                                               # (1, 3, h, w)
            out.put(t, rgb=_to_uint8(y[0]))

    @torch.inference_mode()
    def refine(self, shot: Shot, keys: dict[int, np.ndarray], prep: PrepEntry, colour, out) -> None:
        """Temporal network over sliding windows (t-1, t, t+1), edges repeated, keys as painted."""
        def rgb(i: int) -> np.ndarray:
            i = min(max(i, shot.start), shot.stop - 1)
            return keys[i] if i in keys else colour.get("rgb", i)

        for t in range(shot.start, shot.stop):
            if t in keys or out.is_done(t):
                continue
            if not self.backend.has_temporal or not self.options.temporal:
                out.put(t, rgb=rgb(t))
                continue
            window = [min(max(i, shot.start), shot.stop - 1) for i in (t - 1, t, t + 1)]
            colours = _to_tensor([rgb(i) for i in window], self.device)                      # (3, 3, h, w)
            lines = _to_tensor([prep.frames.get("lines", i) for i in window], self.device)    # (3, 1, h, w)
            frames = torch.cat([colours, lines], dim=1)[None]                               # (1, 3, 4, h, w)
            y = self.backend.temporal(frames)                                               # (1, 3, h, w)
            out.put(t, rgb=_to_uint8(y[0]))


# ----------------------------------------------------------------------------- pass 3: compose


class _Composer:
    """Composes finished frames at full resolution and writes them in order, on its own thread."""

    def __init__(self, writer, on_written: Callable[[], None]) -> None:
        self.writer = writer
        self.on_written = on_written
        self.queue: queue.Queue = queue.Queue(maxsize=16)
        self.error: BaseException | None = None
        self.seconds = 0.0
        self.thread = threading.Thread(target=self._run, name="lacvid-compose", daemon=True)
        self.thread.start()

    def submit(self, make_frame: Callable[[], np.ndarray], name: str) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put((make_frame, name))

    def _run(self) -> None:
        while True:
            job = self.queue.get()
            if job is None:
                return
            if self.error is not None:
                continue
            make_frame, name = job
            try:
                start = time.perf_counter()
                self.writer.write(make_frame(), name=name)
                self.seconds += time.perf_counter() - start
                self.on_written()
            except BaseException as exc:
                self.error = exc

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


# ----------------------------------------------------------------------------- the whole run


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
    ckpt, model_digest = load_model(options.model, device)
    torch.manual_seed(0)

    full = (info.height, info.width)
    work = working_size(info.height, info.width, options.size)
    cache = ColorizeCache(options.cache_dir or default_cache_dir(), input_fingerprint(input_path, info.names))
    prep_id = fingerprint("prep", 1, options.line_mode, work, full)
    prep = cache.prep(prep_id, full, work)
    stages: dict[str, float] = {}

    t0 = time.perf_counter()
    n_frames, names, detected = scan(info, prep, options, work, progress)
    stages["scan"] = time.perf_counter() - t0
    shots = resolve_shots(options.shots, detected, n_frames)
    check_keys_cover_shots(keys, shots, n_frames, info)

    model_path = default_model_path() if str(options.model) == DEFAULT_MODEL else Path(options.model)
    backend = make_backend(ckpt, model_path, device, options.backend, options.cache_dir or default_cache_dir(),
                           work_size=work, max_refs=options.max_refs, model_digest=model_digest, progress=progress)
    # The backend's name, not the option: "auto" resolves per machine, and the backends' outputs
    # differ in the last bits, so a cached frame must come from the backend this run uses.
    # What the networks saw: every key's pixels and the shot boundaries (references never cross a cut),
    # so repainted keys or other shots never meet frames cached from the old ones.
    keys_id = fingerprint([(k.index, file_digest(k.path)) for k in keys], [(s.start, s.stop) for s in shots])
    run_id = fingerprint("run", 1, prep_id, model_digest, options.max_refs, options.temporal, device.type,
                         backend.name, keys_id)
    colour_out = cache.run_stage(run_id, "colour", work)
    refined_out = cache.run_stage(run_id, "refined", work)
    runner = _ShotRunner(backend, options)
    key_by_index = {k.index: k for k in keys}

    flat_shots = 0
    task = progress.task("colorizing", total=n_frames)
    stages.update(colour=0.0, temporal=0.0)
    with open_writer(output, like=info, overwrite=options.overwrite, crf=options.crf, preset=options.preset,
                     codec=options.codec, progress=progress) as writer:
        composer = _Composer(writer, task.advance)
        try:
            for shot in shots:
                shot_keys_full = {i: key_by_index[i].load(full) for i in range(shot.start, shot.stop)
                                  if i in key_by_index}
                shot_keys = {i: _resize(img, work) for i, img in shot_keys_full.items()}
                t0 = time.perf_counter()
                runner.colour(shot, shot_keys, prep, colour_out)
                stages["colour"] += time.perf_counter() - t0
                t0 = time.perf_counter()
                runner.refine(shot, shot_keys, prep, colour_out, refined_out)
                stages["temporal"] += time.perf_counter() - t0
                palette = flat_palette(shot_keys_full, prep, options.flat)
                flat_shots += palette is not None
                key_lines = {i: prep.frames.get("lines", i) for i in shot_keys}
                for t in range(shot.start, shot.stop):
                    job = _frame_job(t, shot_keys_full, shot_keys, key_lines, prep, refined_out, palette, options)
                    composer.submit(job, names[t])
        finally:
            composer.close()
    stages["compose+encode"] = composer.seconds
    task.close()
    return ColorizeResult(output=output, frames=n_frames, shots=shots, keys=[k.index for k in keys],
                          seconds=time.perf_counter() - started, stage_seconds=stages, flat_shots=flat_shots)


FLAT_COVERAGE = 0.95  # synthetic cel keys measure 1.0, real anime keys 0.6-0.8 (benchmarks/quality.py)


def flat_palette(keys_full: dict[int, np.ndarray], prep: PrepEntry, flat: bool | None) -> np.ndarray | None:
    """The shot's palette when its frames are to be flat-filled, else None (see ``ColorizeOptions.flat``)."""
    if flat is False:
        return None
    keys = list(keys_full.values())
    lines = [prep.frames.get("lines_full", i) for i in keys_full]
    palette = palette_from_keys(keys, lines)
    if flat is None and palette_coverage(keys, lines, palette) < FLAT_COVERAGE:
        return None
    return palette


def _frame_job(t: int, keys_full: dict[int, np.ndarray], keys_small: dict[int, np.ndarray],
               key_lines: dict[int, np.ndarray], prep: PrepEntry, refined_out, palette: np.ndarray | None,
               options: ColorizeOptions) -> Callable[[], np.ndarray]:
    """A closure the composer thread runs: the key as painted, or the finished frame."""
    if t in keys_full:
        key = keys_full[t]
        return lambda: key

    def job() -> np.ndarray:
        network = refined_out.get("rgb", t)                                   # (h, w, 3) uint8
        lines_full = prep.frames.get("lines_full", t)                         # (H, W) uint8
        warped = []
        if options.warp:
            near = nearest_keys(t, sorted(keys_small), options.max_refs)
            warped = warped_key_candidates(prep.frames.get("lines", t), {k: keys_small[k] for k in near},
                                           {k: key_lines[k] for k in near}, t)
        if palette is not None:
            return fuse_regions(lines_full, network, warped, palette)
        return composite_full_resolution(fuse_pixels(network, warped), lines_full)

    return job
