"""How much a drawing held on twos saves: the same action drawn on ones and on twos, coloured whole.

    python benchmarks/held_speed.py [--frames 24] [--height 1080] [--repeat 2]

Both clips are two ``lacvid.synth`` shots of ``--frames`` frames in all, drawn at the output size and
written as PNG frame folders (a lossless export, as artists hand line art over; a lossy video's noise
flips a few anti-aliased stroke pixels of a held drawing by more than ``compose.held.SAME_INK``, so there
each frame counts as a new drawing). "Ones": a new drawing every frame; "twos": half as many drawings,
each held two frames (``PrepEntry.repeats`` finds them; ``ShotComposer.painted`` paints each once, the
propagation estimates no flow within it). Keys: each shot's first and last frame's synth colour truth.
Each clip is coloured ``--repeat`` times, alternating, each time from a fresh cache after a 4-frame warm-up
into it (Numba's kernels and the ONNX export are not counted). Printed: the seconds of each run, the
frames held, and the twos clip's time as a share of the ones clip's.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from speed import render_clip  # noqa: E402


def write_folder(root: Path, name: str, frames: int, height: int, width: int,
                 hold: int) -> tuple[tuple[Path, Path], int]:
    """(``root/name`` (PNG line art), ``root/name-keys`` (each shot's first and last frame, painted)), and how
    many of its frames show the frame before's drawing again."""
    lines, colors, starts = render_clip(frames, height, width, hold=hold)
    held = sum(np.array_equal(lines[t], lines[t - 1]) for t in range(1, len(lines)) if t not in starts)
    folder, keys = root / name, root / f"{name}-keys"
    folder.mkdir()
    keys.mkdir()
    for t, ink in enumerate(lines):
        cv2.imwrite(str(folder / f"{t:06d}.png"), ink)
    for a, b in zip(starts, [*starts[1:], len(lines)]):
        for k in (a, b - 1):
            cv2.imwrite(str(keys / f"{k:06d}.png"), cv2.cvtColor(colors[k], cv2.COLOR_RGB2BGR))
    return (folder, keys), int(held)


def timed_run(clip: tuple[Path, Path], warmup: tuple[Path, Path], root: Path) -> float:
    """Seconds of one ``colorize`` of ``clip`` into a fresh cache (warmed up with ``warmup`` first)."""
    from lacvid.pipeline.run import colorize

    cache = root / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    colorize(*warmup, root / "warm-out", cache=cache, overwrite=True, progress=lambda event: None)
    start = time.perf_counter()
    colorize(*clip, root / "out.mp4", cache=cache, overwrite=True, progress=lambda event: None)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    width = round(args.height * 16 / 9 / 2) * 2
    with tempfile.TemporaryDirectory(prefix="lacvid-held-") as tmp:
        root = Path(tmp)
        made = {"ones": write_folder(root, "ones", args.frames, args.height, width, 1),
                "twos": write_folder(root, "twos", args.frames, args.height, width, 2)}
        clips = {name: clip for name, (clip, _) in made.items()}
        warmup = write_folder(root, "warm", 4, args.height, width, 1)[0]
        seconds: dict[str, list[float]] = {name: [] for name in clips}
        for _ in range(args.repeat):
            for name, clip in clips.items():
                seconds[name].append(timed_run(clip, warmup, root))
        print(f"\nlacvid colorize of {args.frames} frames {width}x{args.height} as PNG folders (2 synth shots, keys "
              "first and last), fresh cache each run:")
        for name, runs in seconds.items():
            print(f"  on {name}: " + ", ".join(f"{s:.2f}" for s in runs) + f" s  (mean {sum(runs) / len(runs):.2f} s, "
                  f"{args.frames * len(runs) / sum(runs):.2f} frames/s)")
        ratio = (sum(seconds["twos"]) / len(seconds["twos"])) / (sum(seconds["ones"]) / len(seconds["ones"]))
        print(f"frames showing the frame before's drawing: on ones {made['ones'][1]}, on twos {made['twos'][1]} of "
              f"{args.frames}; time on twos / on ones: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
