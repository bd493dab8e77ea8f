"""Peak memory of ``lacvid colorize`` on one long shot against one short shot: it should not grow with length.

    python benchmarks/memory.py [--short 30] [--long 300] [--height 360] [--size 128]

One generated cel shot (``lacvid.synth``, drawn at ``--height``, 16:9) of ``--short`` and of ``--long``
frames, keys its first and last frame, each coloured by ``colorize()`` (default options, ``--shots
single``, a fresh cache) in a child process of its own; the figure is the child's peak RSS
(``ru_maxrss``). Each child first colours a 4-frame clip into the same cache, so the ONNX export
and Numba's cached kernels are loaded in both. The goal (the Speed issue): the long shot's peak at
most 1.10x the short one's. The propagation carries colours along a whole shot from both ends and
used to hold every frame's regions until the shot was done (about 6 MB a frame at 576 px).

Two pairs of shots. With the keys as painted (flat cel paint) the networks run only for the frames
whose regions no key decides: a short shot often asks them for none and a long one for a few, so
the long one's peak holds the networks' fixed cost (their sessions and ONNX Runtime's arena, ~75 MB
at size 128) where the short one's does not. With the keys shaded (darkened left to right: no flat
paint), the networks run on every frame of both: the same work per frame at both lengths, so the
ratio is growth with length alone.
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
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

GOAL_RATIO = 1.10


def write_shot(folder: Path, frames: int, height: int, width: int, shaded: bool = False) -> tuple[Path, Path]:
    """``folder/lines`` (the shot's line art as PNGs) and ``folder/keys`` (its first and last frame painted;
    ``shaded``: darkened left to right, so they are no flat paint and the networks colour every frame)."""
    from lacvid.synth import render_shot

    lines, keys = folder / "lines", folder / "keys"
    lines.mkdir(parents=True)
    keys.mkdir()
    ramp = np.linspace(0.6, 1.0, width, dtype=np.float32)[None, :, None]                  # (1, W, 1)
    for i, (color, ink) in enumerate(render_shot(0, 0, frames, height, width)):
        assert cv2.imwrite(str(lines / f"{i:04d}.png"), ink)
        if i in (0, frames - 1):
            paint = (color * ramp).astype(np.uint8) if shaded else color                   # (H, W, 3)
            assert cv2.imwrite(str(keys / f"{i:04d}.png"), cv2.cvtColor(paint, cv2.COLOR_RGB2BGR))
    return lines, keys


def child(size: int, paths: dict[str, str]) -> None:
    """Warm up, colour the shot, print JSON with this process's peak RSS."""
    from lacvid import ColorizeOptions, colorize

    options = ColorizeOptions(size=size, shots="single", cache_dir=Path(paths["cache"]))
    colorize(Path(paths["warmup"]), Path(paths["warmup_keys"]), Path(paths["out"] + "-warmup"), options)
    start = time.perf_counter()
    result = colorize(Path(paths["input"]), Path(paths["keys"]), Path(paths["out"]), options)
    print(json.dumps({"frames": result.frames, "seconds": time.perf_counter() - start,
                      "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "networks": bool(result.stage_seconds.get("colour"))}))


def run(folder: Path, frames: int, warmup: tuple[Path, Path], args: argparse.Namespace, shaded: bool) -> dict:
    """One shot of ``frames`` frames coloured in a fresh child process."""
    width = int(round(args.height * 16 / 9 / 2)) * 2
    name = f"{'shaded' if shaded else 'flat'}{frames}"
    lines, keys = write_shot(folder / name, frames, args.height, width, shaded)
    paths = {"cache": folder / f"cache-{name}", "input": lines, "keys": keys, "out": folder / f"out-{name}",
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
        pairs = {shaded: (run(folder, args.short, warmup, args, shaded), run(folder, args.long, warmup, args, shaded))
                 for shaded in (False, True)}
    print(f"\nlacvid colorize peak memory: one generated shot at {width}x{args.height}, keys first and last, "
          f"working size {args.size}")
    print("| keys | frames | networks asked | peak RSS MB | seconds |")
    print("|---|---|---|---|---|")
    for shaded, pair in pairs.items():
        for r in pair:
            print(f"| {'shaded' if shaded else 'flat'} | {r['frames']} | {'yes' if r['networks'] else 'no'} | "
                  f"{r['maxrss_mb']:.0f} | {r['seconds']:.0f} |")
    for shaded, (short, long) in pairs.items():
        ratio = long["maxrss_mb"] / short["maxrss_mb"]
        verdict = "yes" if ratio <= GOAL_RATIO else "NO"
        why = ""
        if long["networks"] and not short["networks"]:
            why = " (only the long shot asked the networks: their fixed cost, not length)"
        print(f"ratio {args.long} / {args.short} frames, {'shaded' if shaded else 'flat'} keys: {ratio:.2f} "
              f"(goal <= {GOAL_RATIO:.2f}) -> {verdict}{why}")


if __name__ == "__main__":
    main()
