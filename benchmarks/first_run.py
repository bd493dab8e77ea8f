"""How long a new user's first ``lacvid colorize`` takes: a 4-frame clip, every cache empty.

    python benchmarks/first_run.py [--checkout DIR] [--repeat 3] [--height 180] [--frames 4] [--keep DIR]

The clip: one ``lacvid.synth`` shot of ``--frames`` frames (320x180 by default), its line art
encoded to H.264 as the input, the synth colour truth of its first and last frame as the painted
keys (named by frame index). Each run is ``python -m lacvid colorize clip.mp4 --keys keys -o
out.mp4 -q`` in a fresh process, with the default model and backend, as a user types it; only the
environment points the caches into the benchmark's folder:

- **first run**: ``LACVID_CACHE`` (colorize's frame cache and any ONNX export),
  ``NUMBA_CACHE_DIR`` (compiled kernels) and ``XDG_CACHE_HOME`` all new, empty folders, so
  nothing a previous run left is reused (Numba looks in ``NUMBA_CACHE_DIR`` first; Python's own
  ``.pyc`` files stay, as ``pip install`` writes them);
- **warm run**: a second clip (another synth scene) with the caches the first run filled: what
  every later run of a new clip costs;
- **resumed run**: the first clip again, same caches: colorize finds every frame cached;
- **import**: ``python -c "import lacvid"``.

The lacvid that runs is a copy of ``--checkout``'s package in the benchmark's folder, byte-compiled
first as ``pip install`` does (``compileall``), so a run never compiles lacvid's own modules from
source (a checkout run with ``PYTHONDONTWRITEBYTECODE`` would: about 0.3 s a run here).

Each is run ``--repeat`` times (the first run with new folders every time); the median is shown,
with the spread. ``--checkout`` runs another checkout's lacvid (copied as above), e.g. ``main``, to
measure before and after on the same clip. The output's frames are decoded and hashed, so two
checkouts can be compared bit for bit. Goal (issue 25): the first run <= 5 s.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

GOAL_S = 5.0
FPS = 24


def write_clip(folder: Path, name: str, seed: int, frames: int, height: int) -> tuple[Path, Path]:
    """``folder/name.mp4`` (line art of one synth shot) and ``folder/name-keys/`` (its first and last frame)."""
    from lacvid.media import VideoWriter
    from lacvid.synth import render_shot

    width = int(round(height * 16 / 9 / 2)) * 2
    video, keys = folder / f"{name}.mp4", folder / f"{name}-keys"
    keys.mkdir()
    with VideoWriter(video, fps=Fraction(FPS), width=width, height=height, crf=18, preset="veryfast") as writer:
        for i, (color, ink) in enumerate(render_shot(seed, 0, frames, height, width)):
            writer.write(ink)
            if i in (0, frames - 1):
                assert cv2.imwrite(str(keys / f"{i:06d}.png"), cv2.cvtColor(color, cv2.COLOR_RGB2BGR))
    return video, keys


def frames_digest(video: Path) -> str:
    """SHA-256 of the decoded frames, so outputs compare bit for bit across checkouts."""
    from lacvid.media import read_frames

    h = hashlib.sha256()
    for frame in read_frames(video):
        h.update(np.ascontiguousarray(frame.image).tobytes())
    return h.hexdigest()[:16]


def install(checkout: Path, folder: Path) -> Path:
    """``checkout``'s lacvid package copied into ``folder/site`` and byte-compiled, as an install has it."""
    site = folder / "site"
    shutil.copytree(checkout / "lacvid", site / "lacvid", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(site / "lacvid")], check=True,
                   env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"})
    where = subprocess.run([sys.executable, "-c", "import lacvid; print(lacvid.__file__)"], cwd=folder, text=True,
                           env=environment(site, folder / "probe"), capture_output=True, check=True).stdout.strip()
    if not where.startswith(str(site)):
        raise SystemExit(f"the runs would import lacvid from {where}, not the copy in {site}")
    return site


def environment(site: Path, caches: Path) -> dict[str, str]:
    """This environment with lacvid from ``site`` and every cache a run may fill inside ``caches``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), *filter(None, [env.get("PYTHONPATH")])])
    env.update(LACVID_CACHE=str(caches / "lacvid"), NUMBA_CACHE_DIR=str(caches / "numba"),
               XDG_CACHE_HOME=str(caches / "xdg"))
    return env


def timed_run(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, all its threads) of ``cmd`` in a fresh process; exits
    with its stderr when it fails. On a shared machine the CPU figure moves less with the load. ``cwd``:
    not a checkout (``python -m``/``-c`` import from the current folder first)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=cwd)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def colorize_cmd(video: Path, keys: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "lacvid", "colorize", str(video), "--keys", str(keys), "-o", str(out), "-q",
            "--overwrite"]


def summary(name: str, runs: list[tuple[float, float]]) -> str:
    wall = [w for w, _ in runs]
    med = statistics.median(wall)
    cpu = statistics.median(c for _, c in runs)
    return f"| {name} | {med:.2f} | {min(wall):.2f}-{max(wall):.2f} | {cpu:.2f} | {med / GOAL_S:.2f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", type=Path, default=REPO, help="the lacvid checkout to run (default: this one)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind; the median is shown")
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--height", type=int, default=180, help="frame height; width is 16:9")
    parser.add_argument("--keep", type=Path, help="work in this new folder and keep it (default: a temp folder)")
    args = parser.parse_args()
    load = os.getloadavg()  # other work on the machine: the wall figures move with it, the CPU ones less
    if args.keep:
        args.keep.mkdir(parents=True)
        folder = args.keep
    else:
        tmp = tempfile.TemporaryDirectory(prefix="lacvid-first-run-")
        folder = Path(tmp.name)

    video, keys = write_clip(folder, "clip", 3, args.frames, args.height)
    other, other_keys = write_clip(folder, "other", 5, args.frames, args.height)
    checkout = args.checkout.resolve()
    site = install(checkout, folder)
    names = ["first run (empty caches)", "warm run (another clip, caches filled)",
             "resumed run (same clip, frames cached)", 'python -c "import lacvid"']
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    digests = set()
    for r in range(args.repeat):
        caches = folder / f"caches-{r}"
        env = environment(site, caches)
        out = folder / f"out-{r}.mp4"
        times["first run (empty caches)"].append(timed_run(colorize_cmd(video, keys, out), env, folder))
        digests.add(frames_digest(out))
        times["warm run (another clip, caches filled)"].append(
            timed_run(colorize_cmd(other, other_keys, folder / f"other-{r}.mp4"), env, folder))
        times["resumed run (same clip, frames cached)"].append(timed_run(colorize_cmd(video, keys, out), env, folder))
        digests.add(frames_digest(out))
        times['python -c "import lacvid"'].append(timed_run([sys.executable, "-c", "import lacvid"], env, folder))
        if not args.keep:
            shutil.rmtree(caches)

    print(f"lacvid from {checkout}; {args.frames} frames of {video.name} "
          f"({int(round(args.height * 16 / 9 / 2)) * 2}x{args.height}), {args.repeat} runs each, "
          f"{os.cpu_count()} CPUs")
    print(f"load average at start: {' '.join(f'{v:.1f}' for v in load)}, at the end: "
          f"{' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print("| run | median wall s | range s | median CPU s | wall / goal 5 s |")
    print("|---|---|---|---|---|")
    for name, runs in times.items():
        print(summary(name, runs))
    first = statistics.median(w for w, _ in times["first run (empty caches)"])
    print(f"first run {first:.2f} s = {first / GOAL_S:.2f}x the goal ({'met' if first <= GOAL_S else 'NOT met'})")
    print(f"output frames sha256: {', '.join(sorted(digests))}"
          + ("" if len(digests) == 1 else "  (DIFFER between runs)"))


if __name__ == "__main__":
    main()
