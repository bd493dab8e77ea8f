"""Peak memory of ``lacvid colorize`` on one long shot against one short shot: it should not grow with length.

    python benchmarks/memory.py [--short 30] [--long 300] [--height 360] [--size 128]

One generated cel shot (``lacvid.synth``, drawn at ``--height``, 16:9) of ``--short`` and of ``--long``
frames, keys its first and last frame, each coloured by ``colorize()`` (default options, ``--shots
single``, a fresh cache) in a child process of its own; the figure is the child's peak RSS
(``ru_maxrss``). Each child first colours a 4-frame clip into the same cache, so the ONNX export
and Numba's cached kernels are loaded in both. The goal (the Speed issue): the long shot's peak at
most 1.10x the short one's. The propagation carries colours along a whole shot from both ends and
used to hold every frame's regions until the shot was done (about 6 MB a frame at 576 px).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

GOAL_RATIO = 1.10


def write_shot(folder: Path, frames: int, height: int, width: int) -> tuple[Path, Path]:
    """``folder/lines`` (the shot's line art as PNGs) and ``folder/keys`` (its first and last frame painted)."""
    from lacvid.synth import render_shot

    lines, keys = folder / "lines", folder / "keys"
    lines.mkdir(parents=True)
    keys.mkdir()
    for i, (color, ink) in enumerate(render_shot(0, 0, frames, height, width)):
        assert cv2.imwrite(str(lines / f"{i:04d}.png"), ink)
        if i in (0, frames - 1):
            assert cv2.imwrite(str(keys / f"{i:04d}.png"), cv2.cvtColor(color, cv2.COLOR_RGB2BGR))
    return lines, keys


def child(size: int, paths: dict[str, str]) -> None:
    """Warm up, colour the shot, print JSON with this process's peak RSS."""
    from lacvid import ColorizeOptions, colorize

    options = ColorizeOptions(size=size, shots="single", cache_dir=Path(paths["cache"]))
    colorize(Path(paths["warmup"]), Path(paths["warmup_keys"]), Path(paths["out"] + "-warmup"), options)
    start = time.perf_counter()
    result = colorize(Path(paths["input"]), Path(paths["keys"]), Path(paths["out"]), options)
    print(json.dumps({"frames": result.frames, "seconds": time.perf_counter() - start,
                      "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def run(folder: Path, frames: int, warmup: tuple[Path, Path], args: argparse.Namespace) -> dict:
    """One shot of ``frames`` frames coloured in a fresh child process."""
    width = int(round(args.height * 16 / 9 / 2)) * 2
    lines, keys = write_shot(folder / f"shot{frames}", frames, args.height, width)
    paths = {"cache": folder / f"cache{frames}", "input": lines, "keys": keys, "out": folder / f"out{frames}",
             "warmup": warmup[0], "warmup_keys": warmup[1]}
    cmd = [sys.executable, __file__, "--size", str(args.size), "--child",
           json.dumps({k: str(v) for k, v in paths.items()})]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"colorize on the {frames}-frame shot failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=int, default=30, help="frames of the short shot")
    parser.add_argument("--long", type=int, default=300, help="frames of the long shot")
    parser.add_argument("--height", type=int, default=360, help="frame height; width is 16:9")
    parser.add_argument("--size", type=int, default=128, help="working size (colorize --size)")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # a child's paths, as JSON
    args = parser.parse_args()
    if args.child:
        child(args.size, json.loads(args.child))
        return
    with tempfile.TemporaryDirectory(prefix="lacvid-memory-") as tmp:
        folder = Path(tmp)
        width = int(round(args.height * 16 / 9 / 2)) * 2
        warmup = write_shot(folder / "warmup", 4, args.height, width)
        short = run(folder, args.short, warmup, args)
        long = run(folder, args.long, warmup, args)
    ratio = long["maxrss_mb"] / short["maxrss_mb"]
    print(f"\nlacvid colorize peak memory: one generated shot at {width}x{args.height}, keys first and last, "
          f"working size {args.size}")
    print("| frames | peak RSS MB | seconds |")
    print("|---|---|---|")
    for r in (short, long):
        print(f"| {r['frames']} | {r['maxrss_mb']:.0f} | {r['seconds']:.0f} |")
    verdict = "yes" if ratio <= GOAL_RATIO else "NO"
    print(f"ratio {args.long} / {args.short} frames: {ratio:.2f} (goal <= {GOAL_RATIO:.2f}) -> {verdict}")


if __name__ == "__main__":
    main()
