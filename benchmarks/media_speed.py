"""How fast lacvid's media layer decodes and encodes at 1080p on this machine.

    python benchmarks/media_speed.py [--frames 96] [--size 1920x1080]

Generates a line-art-like clip (ink outlines over flat colour, moving each frame), then times
the public API: ``VideoWriter`` (libx264 yuv420p at two presets), ``read_frames`` on the video
(decode + conversion to RGB arrays), and the PNG frame folder both ways (``extract_frames`` and
``read_frames`` on the folder). Frame generation is timed separately and subtracted from the
encode figures. Prints a table of frames/s; numbers depend on how many cores are free.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from lacvid.media import VideoWriter, extract_frames, read_frames  # noqa: E402


def base_canvas(width: int, height: int) -> np.ndarray:
    """Flat colour regions with anti-aliased black outlines: what lacvid reads and writes."""
    rng = np.random.default_rng(0)
    img = np.full((height, width, 3), 255, np.uint8)
    for _ in range(60):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (int(rng.integers(20, width // 6)), int(rng.integers(20, height // 6)))
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        angle = float(rng.integers(0, 180))
        cv2.ellipse(img, centre, axes, angle, 0, 360, color, -1, cv2.LINE_AA)
        cv2.ellipse(img, centre, axes, angle, 0, 360, (0, 0, 0), 3, cv2.LINE_AA)
    return img


def frame(base: np.ndarray, i: int) -> np.ndarray:
    return np.roll(base, (i * 3, i * 5), axis=(0, 1))  # everything moves: no free P-frames


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=96)
    parser.add_argument("--size", default="1920x1080")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    n = args.frames
    base = base_canvas(width, height)

    t = time.perf_counter()
    for i in range(n):
        frame(base, i)
    gen = time.perf_counter() - t

    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for preset in ("medium", "ultrafast"):
            out = tmp / f"clip-{preset}.mp4"
            t = time.perf_counter()
            with VideoWriter(out, fps=Fraction(24000, 1001), width=width, height=height, preset=preset) as writer:
                for i in range(n):
                    writer.write(frame(base, i))
            rows.append((f"encode libx264 yuv420p crf 18 preset {preset} (VideoWriter)",
                         rate(n, time.perf_counter() - t - gen)))
        clip = tmp / "clip-medium.mp4"

        t = time.perf_counter()
        count = sum(1 for _ in read_frames(clip))
        rows.append(("decode h264 -> RGB arrays (read_frames on a video)", rate(count, time.perf_counter() - t)))
        assert count == n, (count, n)

        t = time.perf_counter()
        extract_frames(clip, tmp / "frames")
        rows.append(("decode + write PNG frames (extract_frames)", rate(n, time.perf_counter() - t)))

        t = time.perf_counter()
        count = sum(1 for _ in read_frames(tmp / "frames"))
        rows.append(("read PNG frame folder -> RGB arrays (read_frames)", rate(count, time.perf_counter() - t)))

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"lacvid media speed: {n} frames at {width}x{height}, {cpus} CPUs, load average {load:.1f}")
    name_width = max(len(name) for name, _ in rows)
    print(f"{'operation':<{name_width}}  {'frames/s':>9}")
    print(f"{'-' * name_width}  {'-' * 9}")
    for name, fps in rows:
        print(f"{name:<{name_width}}  {fps:>9.1f}")


if __name__ == "__main__":
    main()
