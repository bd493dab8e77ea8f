"""How fast ``lacvid colorize`` runs on a 1080p line-art clip, stage by stage, and how much memory it holds.

    python benchmarks/speed.py [--frames 48] [--height 1080] [--size 256] [--model default|random|paper|PATH]
                               [--device cpu|cuda] [--backend auto|torch|onnx] [--long 10] [--no-memory] [--keep DIR]
                               [--hold 1] [--repeat 3]

The clip: two ``lacvid.synth`` shots drawn directly at the output size (1920x1080 by default,
16:9 at ``--height``), exact line art encoded to H.264 as the input, and the synth colour truth
of the first and last frame of each shot as the painted keys (named by frame index). ``--hold 2``
draws the same action on twos (each drawing held two frames, as animation is mostly drawn): a held
drawing is matched and painted once (``pipeline.compose.ShotComposer.painted``).

Measured, all on the same data:

- the **whole run**: ``colorize()`` (default options) from a fresh per-input cache, in a
  subprocess that first colours a 4-frame warm-up clip into the same cache folder, so one-time
  costs (the per-checkpoint ONNX export, Numba's cached kernels) are not counted per frame;
- **each stage alone**, as the pipeline runs it: decode (``read_frames`` on the video);
  preprocessing (line art + working-size line art + distance field, on 2 threads as the scan
  does); the propagation of the keys' region colours (with the shot's palette check); networks
  (colour + temporal at the working size, through the backend ``colorize`` picks, references encoded
  once per shot, after one untimed pass over the first shot that pays the backend's one-time costs) as a
  run runs them: on a drawing with flat keys, only for the frames composing asks
  for (``pipeline.networks.NetworksOnDemand``; timed apart from the compositing they run inside), and
  for comparison on every frame, as a shot worker runs them where the keys are not flat (beside the
  propagation); compositing at full resolution (fills, the ink layer and the finished-frame cache
  write); flatten (ink over paint over paper); encode (libx264 crf
  18, preset medium, as ``colorize`` writes); and the reference: decoding and re-encoding the
  input with nothing in between, timed before, between and after the ``--repeat`` whole runs (each
  figure the best of its tries: this machine's speed drifts by tens of per cent within minutes);
- **peak memory** (the child's ``ru_maxrss``, whole process; on CUDA also the GPU's peak allocation)
  of the whole run on the clip and on a ``--long`` times longer one (the same shots cycled, keys at
  each copy's first and last frames).

``--model random`` is a random-initialised CPU-width model, ``paper`` one of the paper's widths
(``ModelConfig.paper``): speed does not depend on the weights. ``benchmarks/gpu_check.sh`` runs
this on a GPU.

Goals (the Speed issue): >= 4 frames/s whole run at working size 256 on this 2-core CPU with the
default model; the whole run within 8x the plain transcode (issue 25); the whole run >= 80% of its slowest
stage; memory flat with length.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

FPS = 24
GOAL_FPS = 4.0
GOAL_SHARE = 0.80
GOAL_TRANSCODE_RATIO = 8.0  # issue 25: the whole 1080p run within 8x a plain decode + re-encode of the same video
GOAL_MEMORY_RATIO = 1.10   # "flat": the 10x longer clip may hold at most 10% more


# ----------------------------------------------------------------------------- the clip


def render_clip(frames: int, height: int, width: int, seed: int = 0,
                hold: int = 1) -> tuple[list[np.ndarray], list[np.ndarray], list[int]]:
    """Line art, colour truth and shot starts of two synth shots (frames // 2 and the rest); ``hold``: each
    drawing shown that many frames in a row (2: animation on twos)."""
    from lacvid.synth import render_shot

    lengths = [frames // 2, frames - frames // 2]
    lines, colors, starts = [], [], []
    for index, length in enumerate(lengths):
        starts.append(len(lines))
        drawn = list(render_shot(seed, index, -(-length // hold), height, width))
        for t in range(length):
            color, ink = drawn[t // hold]
            lines.append(ink)
            colors.append(color)
    return lines, colors, starts


def write_clip(folder: Path, name: str, lines: list[np.ndarray], colors: list[np.ndarray], starts: list[int],
               repeat: int = 1) -> tuple[Path, Path]:
    """``folder/name.mp4`` (the line art cycled ``repeat`` times) and ``folder/name-keys/`` (first and
    last frame of every shot of every copy, named by frame index)."""
    from lacvid.media import VideoWriter

    n = len(lines)
    bounds = [(a, b) for a, b in zip(starts, [*starts[1:], n])]
    video, keys = folder / f"{name}.mp4", folder / f"{name}-keys"
    keys.mkdir()
    height, width = lines[0].shape
    with VideoWriter(video, fps=Fraction(FPS), width=width, height=height, crf=18, preset="veryfast") as writer:
        for _ in range(repeat):
            for ink in lines:
                writer.write(ink)
    for copy in range(repeat):
        for a, b in bounds:
            for i in (a, b - 1):
                bgr = cv2.cvtColor(colors[i], cv2.COLOR_RGB2BGR)
                assert cv2.imwrite(str(keys / f"{copy * n + i:06d}.png"), bgr, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    return video, keys


def resolve_model(spec: str, folder: Path) -> tuple[Path, str]:
    """The checkpoint to run and how to describe it; a random ``ModelConfig.cpu()`` one if asked
    for, or while the bundled default is not in this checkout (speed does not depend on weights)."""
    import torch

    from lacvid.models.checkpoint import build_net, save_checkpoint
    from lacvid.models.config import ModelConfig
    from lacvid.models.runtime import default_model_path

    if spec == "default" and default_model_path().is_file():
        return default_model_path(), f"bundled default ({default_model_path()})"
    if spec not in ("default", "random", "paper"):
        return Path(spec), str(spec)
    torch.manual_seed(0)
    config = ModelConfig.paper() if spec == "paper" else ModelConfig.cpu()
    path = save_checkpoint(folder / f"random-{spec}.pt", config=config,
                           nets={"color": build_net("color", config), "temporal": build_net("temporal", config)})
    if spec == "paper":
        return path, "random-initialised ModelConfig.paper() (the paper's widths)"
    why = "asked for" if spec == "random" else f"the bundled default {default_model_path()} is missing"
    return path, f"random-initialised ModelConfig.cpu() ({why})"


# ----------------------------------------------------------------------------- the whole run, in a child


def child(args: argparse.Namespace) -> None:
    """Warm up on a tiny clip, then one timed ``colorize()``; print JSON with this process's peak RSS."""
    from lacvid import ColorizeOptions, colorize

    def options(**kw) -> ColorizeOptions:
        return ColorizeOptions(model=args.model, size=args.size, device=args.device, cache_dir=Path(args.cache), **kw,
                               **({"backend": args.backend} if args.backend != "auto" else {}))

    warmup_out = Path(args.out).with_name(Path(args.warmup).name.replace(".mp4", "-painted.mp4"))
    import torch

    colorize(args.warmup, args.warmup_keys, warmup_out, options(shots="single"))
    cuda = torch.cuda.is_available() and args.device.startswith("cuda")
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    result = colorize(args.input, args.keys, args.out, options())
    print(json.dumps({"frames": result.frames, "seconds": result.seconds, "shots": len(result.shots),
                      "stages": result.stage_seconds,
                      "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "gpu_peak_mb": torch.cuda.max_memory_allocated() / 2**20 if cuda else None}))


def whole_run(video: Path, keys: Path, warmup: tuple[list, list], model: Path, args: argparse.Namespace,
              folder: Path, name: str) -> dict:
    """One whole run in a fresh process; its own warm-up clip, so it warms up from a cold cache entry."""
    warmup = write_clip(folder, f"{name}-warmup", *warmup, [0])
    cmd = [sys.executable, __file__, "--child", "--model", str(model), "--size", str(args.size),
           "--device", args.device, "--backend", args.backend, "--cache", str(folder / f"cache-{name}"),
           "--input", str(video), "--keys", str(keys),
           "--out", str(folder / f"{name}-painted.mp4"), "--warmup", str(warmup[0]), "--warmup-keys", str(warmup[1])]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the colorize run on {video} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- the stages alone


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def stages_alone(video: Path, keys_dir: Path, model: Path, args: argparse.Namespace, folder: Path) -> dict:
    """Each stage of colorize on its own, through the library's own pass functions, timed apart."""

    from dataclasses import replace

    from lacvid.media import open_writer, probe, read_frames
    from lacvid.models.runtime import load_model, make_backend
    from lacvid.pipeline.cache import ColorizeCache
    from lacvid.pipeline.keys import find_keys
    from lacvid.pipeline.options import ColorizeOptions
    from lacvid.pipeline.scan import resolve_shots
    from lacvid.pipeline.shot_work import RunPlan, ShotArrays, ShotWorker
    from lacvid.preprocess.frame import ClipLineMode, prepare_frame, working_size
    from lacvid.shots.detect import detect_shots
    from lacvid.util.devices import resolve_device
    from lacvid.util.hashing import file_digest

    seconds: dict[str, float] = {}
    info = probe(video)
    full = (info.height, info.width)
    work = working_size(info.height, info.width, args.size)
    images, seconds["decode"] = timed(lambda: [f.image for f in read_frames(video)])
    n = len(images)
    mode = ClipLineMode("auto")(images[0])

    def prep_all():
        with ThreadPoolExecutor(max_workers=2) as pool:   # as colorize's scan
            return list(pool.map(lambda image: prepare_frame(image, mode, work), images))

    prepped, seconds["preprocessing"] = timed(prep_all)
    shots = resolve_shots("auto", detect_shots(images), n)
    loaded = load_model(model)
    device = str(resolve_device(args.device))
    backend = make_backend(loaded, device, args.backend, folder / "cache", work_size=work, max_refs=3)
    keys = find_keys(keys_dir, info)
    plan = RunPlan(video, folder / "stage-cache", "bench", "bench", full, work, ColorizeOptions(backend=args.backend),
                   loaded.path, loaded.digest, device, backend.name,
                   tuple((k.index, str(k.path), file_digest(k.path)) for k in keys))
    with ColorizeCache(folder / "stage-cache", "bench") as cache:
        prep = cache.prep("bench", full, work)
        for i, frame in enumerate(prepped):
            prep.put(i, frame)
        # The backend's one-time costs first, untimed, as the whole run's warm-up clip pays them (on CUDA the
        # context, cuDNN's kernel choice and torch's lazy registrations took ~4 s, most of a 20-frame stage).
        ShotWorker(replace(plan, model_digest=f"{loaded.digest}-warmup"), cache, backend).run_networks(shots[0])
        # On every frame, under a plan of its own (another model digest: its own cache entries).
        everywhere = ShotWorker(replace(plan, model_digest=f"{loaded.digest}-everywhere"), cache, backend)
        _, seconds["networks everywhere"] = timed(lambda: [everywhere.run_networks(shot) for shot in shots])
        worker = ShotWorker(plan, cache, backend)
        sources, seconds["propagation"] = timed(lambda: [worker.prepare(shot) for shot in shots])
        frames = [(src, t) for src, shot in zip(sources, shots) for t in range(shot.start, shot.stop)]
        layers, composing = timed(lambda: [src.layers(t) for src, t in frames])
        seconds["networks"] = worker.stages["colour"] + worker.stages["temporal"]  # run on demand while composing
        seconds["compositing"] = composing - seconds["networks"]
        composed, seconds["flatten"] = timed(lambda: [lay.flatten() for lay in layers])
        refined = [ShotArrays.open(cache, plan, shot).refined for shot in shots]
        ran = sum(a.is_done(t) for a, shot in zip(refined, shots) for t in range(shot.start, shot.stop))

    def encode() -> None:
        with open_writer(folder / "encoded.mp4", like=info, crf=18, preset="medium", codec="libx264") as writer:
            for i, image in enumerate(composed):
                writer.write(image, name=f"{i:06d}.png")

    _, seconds["encode"] = timed(encode)
    return {"frames": n, "seconds": seconds, "work": work, "shots": len(shots), "backend": backend.name,
            "device": device, "network_frames": ran, "inner_frames": n - len(keys)}


def plain_transcode(video: Path, folder: Path) -> float:
    """Seconds to decode ``video`` and re-encode it as ``colorize`` writes (libx264 crf 18 medium), nothing between:
    the reference the whole run is measured against."""
    from lacvid.media import open_writer, probe, read_frames

    def transcode() -> None:
        with open_writer(folder / "transcoded.mp4", like=probe(video), crf=18, preset="medium", codec="libx264",
                         overwrite=True) as writer:
            for frame in read_frames(video):
                writer.write(frame.image)

    return timed(transcode)[1]


# ----------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=48, help="frames of the clip (two shots)")
    parser.add_argument("--height", type=int, default=1080, help="frame height; width is 16:9")
    parser.add_argument("--size", type=int, default=256, help="working size (colorize --size)")
    parser.add_argument("--hold", type=int, default=1,
                        help="each drawing held this many frames (2: animation on twos; 1: a new drawing every frame)")
    parser.add_argument("--model", default="default",
                        help="default, random (a random ModelConfig.cpu()), paper (random, the paper's widths) "
                             "or a path")
    parser.add_argument("--device", default="cpu", help="colorize --device: cpu, cuda or cuda:N")
    parser.add_argument("--backend", default="auto", help="colorize --backend (auto picks as colorize does)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="whole runs (each in a fresh process and cache), the reference between them; "
                             "each figure the best of its tries")
    parser.add_argument("--long", type=int, default=10, help="the memory check's longer clip is this many times longer")
    parser.add_argument("--no-memory", action="store_true", help="skip the longer clip (the whole run still runs)")
    parser.add_argument("--keep", type=Path, help="work in this new folder and keep it (default: a temp folder)")
    # the child process of one whole run
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for name in ("--cache", "--input", "--keys", "--out", "--warmup", "--warmup-keys"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    height = args.height
    width = int(round(height * 16 / 9 / 2)) * 2
    if args.keep:
        args.keep.mkdir(parents=True)
        folder = args.keep
    else:
        tmp = tempfile.TemporaryDirectory(prefix="lacvid-speed-")
        folder = Path(tmp.name)

    t0 = time.perf_counter()
    lines, colors, starts = render_clip(args.frames, height, width, hold=args.hold)
    video, keys = write_clip(folder, "clip", lines, colors, starts)
    warmup = (lines[:4], colors[:4])
    long_clip = None if args.no_memory else write_clip(folder, "long", lines, colors, starts, repeat=args.long)
    model, model_text = resolve_model(args.model, folder)
    made = time.perf_counter() - t0

    # The whole run ``--repeat`` times, each in a fresh process and cache, with the reference before, between and
    # after them; each the best of its tries. This machine's speed drifts by tens of per cent within minutes (one
    # reference read 26-65 ms a frame beside the same whole run), so one try of each compares two moments, not
    # two programs: the best of several is each one's speed when the machine lets it run.
    references = [plain_transcode(video, folder)]
    runs = []
    for i in range(args.repeat):
        runs.append(whole_run(video, keys, warmup, model, args, folder, f"clip{i}"))
        references.append(plain_transcode(video, folder))
    short = min(runs, key=lambda run: run["seconds"])
    stages = stages_alone(video, keys, model, args, folder)
    long_run = None if long_clip is None else whole_run(*long_clip, warmup, model, args, folder, "long")

    n = stages["frames"]
    rates = {name: n / s if s > 0 else float("inf") for name, s in stages["seconds"].items()}
    whole_fps = short["frames"] / short["seconds"]
    pipeline_stages = {name: rate for name, rate in rates.items() if name != "networks everywhere"}
    slowest = min(pipeline_stages, key=pipeline_stages.get)
    share = whole_fps / pipeline_stages[slowest]
    h, w = stages["work"]

    def ok(good: bool) -> str:
        return "yes" if good else "NO"

    print(f"\nlacvid colorize speed: {n} frames {width}x{height} (line art, H.264), {short['shots']} shots, "
          f"working size {args.size} ({w}x{h}), 2 keys per shot")
    held = "" if args.hold == 1 else f", each drawing held {args.hold} frames"
    print(f"clip: 2 synth shots drawn at {width}x{height} (not upscaled){held}, made in {made:.0f}s; keys: the synth "
          "colour truth of each shot's first and last frame")
    print(f"model: {model_text}; networks run by: {stages['backend']} on {stages['device']}; "
          "CPU threads: as colorize sets them\n")
    print(f"| {'stage (each alone, same data)':<52} | {'frames/s':>8} | {'ms/frame':>8} |")
    print(f"|{'-' * 54}|{'-' * 10}|{'-' * 10}|")
    labels = {
        "decode": "decode (H.264 -> RGB)",
        "preprocessing": "preprocessing (lines, working-size lines, distance)",
        "networks everywhere": f"networks, every frame (colour+temporal at {w}x{h})",
        "networks": f"networks as run: {stages['network_frames']} of {stages['inner_frames']} frames",
        "propagation": "propagation (region colours from the keys)",
        "compositing": "compositing (fills, ink layer, finished-frame cache)",
        "flatten": "flatten (ink over paint over paper)",
        "encode": "encode (libx264 crf 18 medium)",
    }
    for name, rate in rates.items():
        mark = "  <- slowest" if name == slowest else ""
        print(f"| {labels[name]:<52} | {rate:8.2f} | {1000 / rate:8.0f} |{mark}")  # inf, 0 ms: nothing to run
    print(f"| {'whole colorize() run (best of ' + str(len(runs)) + ')':<52} | {whole_fps:8.2f} | "
          f"{1000 / whole_fps:8.0f} |")
    transcode_fps = n / min(references)
    print(f"| {'reference: decode + re-encode (best of ' + str(len(references)) + ')':<52} | {transcode_fps:8.2f} | "
          f"{1000 / transcode_fps:8.0f} |")
    print()
    inside = ", ".join(f"{k} {v:.1f}s" for k, v in short["stages"].items())
    print(f"whole run: {short['seconds']:.1f}s for {short['frames']} frames ({inside}); every try: "
          + ", ".join(f"{1000 * run['seconds'] / run['frames']:.0f}" for run in runs) + " ms a frame; the reference's: "
          + ", ".join(f"{1000 * r / n:.0f}" for r in references) + " ms a frame")
    print(f"whole run >= {GOAL_FPS:g} frames/s at working size {args.size}: {whole_fps:.2f} "
          f"-> {ok(whole_fps >= GOAL_FPS)}")
    ratio_to_transcode = transcode_fps / whole_fps
    print(f"whole run against the plain transcode (each the best of its tries): {ratio_to_transcode:.1f}x its time "
          f"(goal <= {GOAL_TRANSCODE_RATIO:g}x, issue 25) -> {ok(ratio_to_transcode <= GOAL_TRANSCODE_RATIO)}")
    print(f"whole run as a share of its slowest stage ({slowest}): {share:.0%} (goal >= {GOAL_SHARE:.0%}) "
          f"-> {ok(share >= GOAL_SHARE)}")
    if long_run is not None:
        ratio = long_run["maxrss_mb"] / short["maxrss_mb"]
        print(f"peak memory (RSS): {short['maxrss_mb']:.0f} MB for {short['frames']} frames, "
              f"{long_run['maxrss_mb']:.0f} MB for {long_run['frames']} frames ({long_run['shots']} shots, "
              f"{long_run['frames'] / long_run['seconds']:.2f} frames/s); ratio {ratio:.2f} "
              f"(goal flat, <= {GOAL_MEMORY_RATIO:.2f}) -> {ok(ratio <= GOAL_MEMORY_RATIO)}")
    else:
        print(f"peak memory (RSS): {short['maxrss_mb']:.0f} MB for {short['frames']} frames (longer clip skipped)")
    if short.get("gpu_peak_mb") is not None:
        print(f"GPU memory, peak allocated by the whole run: {short['gpu_peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
