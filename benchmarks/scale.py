"""Scale-out: one multi-shot clip coloured in one process, then by 1, 2 (... N) local Ray workers.

    python benchmarks/scale.py [--shots 6] [--frames 16] [--height 270] [--workers 1 2] [--no-fault]

Prints per run the whole time, the scan (driver, not distributed), the shot phase and its
frames/s, and the speed-up of the shot phase against 1 worker; the per-shot overhead of Ray
(1 worker against one process on the same single core); and the fault run: 2 workers, one
SIGKILLed mid-run, its output hash against the undisturbed run. Every Ray run gets a fresh
cache, so nothing is reused between rows. One thread per worker (``--worker-cpus 1``) so that
N workers use N cores; the one-process row runs with one thread too.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lacvid import ColorizeOptions, colorize  # noqa: E402
from lacvid.pipeline.options import ColorizeResult  # noqa: E402
from lacvid.synth import render_shot  # noqa: E402
from tests.support.ray_faults import WorkerKiller  # noqa: E402


def make_clip(root: Path, shots: int, frames: int, height: int) -> tuple[Path, Path]:
    """``shots`` generated shots of ``frames`` frames at 16:9, keys at both ends of each."""
    width = round(height * 16 / 9 / 2) * 2
    lines, keys = root / "lines", root / "keys"
    lines.mkdir(parents=True)
    keys.mkdir()
    t = 0
    for s in range(shots):
        for i, (color, ink) in enumerate(render_shot(100 + s, s, frames, height, width)):
            cv2.imwrite(str(lines / f"{t:05d}.png"), ink)
            if i in (0, frames - 1):
                cv2.imwrite(str(keys / f"{t:05d}.png"), cv2.cvtColor(color, cv2.COLOR_RGB2BGR))
            t += 1
    return lines, keys


def folder_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.iterdir()):
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()[:16]


def run(lines: Path, keys: Path, out: Path, cache: Path, workers: int | None, killer: WorkerKiller | None = None
        ) -> ColorizeResult:
    """One timed colorize; with ``workers``, on the local cluster the caller started (``warm_cluster``)."""
    executor = None
    if workers:
        from lacvid.pipeline.ray_executor import RayExecutor

        executor = RayExecutor(workers=workers, worker_cpus=1, segment_frames=8)
    if killer is not None:
        killer.start()
    try:
        return colorize(lines, keys, out, ColorizeOptions(cache_dir=cache), executor=executor)
    finally:
        if killer is not None:
            killer.stop()
        if executor is not None:
            executor.close()


def warm_cluster(workers: int, root: Path, height: int) -> float:
    """Start a local cluster of ``workers`` CPUs and have every worker load lacvid and the model once
    (a tiny job of ``workers`` shots); returns the seconds that took: the start-up a run pays once."""
    import ray

    t0 = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    lines, keys = make_clip(root / f"warm-{workers}", workers, 3, height)
    run(lines, keys, root / f"warm-out-{workers}", root / f"warm-cache-{workers}", workers)
    return time.perf_counter() - t0


def _noop() -> int:
    return 0


def task_round_trip(n: int = 50) -> float:
    """Seconds for one trivial task submitted and awaited on the running cluster: Ray's own cost per task."""
    import ray

    remote = ray.remote(num_cpus=1)(_noop)
    ray.get(remote.remote())
    t0 = time.perf_counter()
    for _ in range(n):
        ray.get(remote.remote())
    return (time.perf_counter() - t0) / n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shots", type=int, default=6)
    ap.add_argument("--frames", type=int, default=16, help="frames per shot")
    ap.add_argument("--height", type=int, default=270)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--no-fault", action="store_true", help="skip the killed-worker run")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    root = Path(tempfile.mkdtemp(prefix="lacvid-scale-"))
    lines, keys = make_clip(root / "clip", args.shots, args.frames, args.height)
    n = args.shots * args.frames
    print(f"clip: {args.shots} shots x {args.frames} frames at {args.height} px high, default model, "
          f"{os.cpu_count()} cores", flush=True)
    rows: dict[str, tuple[ColorizeResult, str]] = {}
    startup: dict[int, float] = {}
    round_trip = float("nan")
    for name, workers in [("one process", None)] + [(f"{w} worker(s)", w) for w in args.workers]:
        if workers:
            startup[workers] = warm_cluster(workers, root, args.height)
            round_trip = task_round_trip()
        out = root / f"out-{workers or 0}"
        result = run(lines, keys, out, root / f"cache-{workers or 0}", workers)
        rows[name] = (result, folder_digest(out))
        if workers and not (workers == 2 and not args.no_fault):
            import ray

            ray.shutdown()
    print(f"{'run':<14}{'total s':>9}{'scan s':>8}{'shots s':>9}{'frames/s':>10}{'speed-up':>10}  output")
    base = None
    for name, (r, digest) in rows.items():
        shots_s = r.seconds - r.stage_seconds.get("scan", 0.0)
        if name.startswith("1 worker"):
            base = shots_s
        speedup = f"{base / shots_s:.2f}x" if base and "worker" in name else "-"
        print(f"{name:<14}{r.seconds:>9.1f}{r.stage_seconds.get('scan', 0.0):>8.1f}{shots_s:>9.1f}"
              f"{n / shots_s:>10.2f}{speedup:>10}  {digest}")
    one, ray1 = rows["one process"][0], rows.get("1 worker(s)", (None,))[0]
    if ray1 is not None:
        ray_busy = ray1.seconds - ray1.stage_seconds["scan"]
        overhead = (ray_busy - (one.seconds - one.stage_seconds["scan"])) / args.shots
        print(f"1 worker vs one process, per shot: {overhead:+.2f} s (one process composes on a second thread "
              f"while the next shot's networks run; a worker does both in turn on its one core)")
        print(f"Ray's own cost per task (a trivial task, submitted and awaited): {round_trip * 1e3:.1f} ms; "
              "cluster start and model load, once per run: "
              + ", ".join(f"{w} worker(s) {t:.1f} s" for w, t in startup.items()))
    if not args.no_fault and 2 in args.workers:
        killer = WorkerKiller(root / "cache-fault", after=3)
        result = run(lines, keys, root / "out-fault", root / "cache-fault", 2, killer)
        digest = folder_digest(root / "out-fault")
        same = digest == rows["2 worker(s)"][1]
        print(f"fault: 2 workers, {len(killer.killed)} killed mid-run: {result.seconds:.1f} s, output {digest} "
              f"{'== undisturbed run' if same else '!= UNDISTURBED RUN'}")
    import ray

    if ray.is_initialized():
        ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
