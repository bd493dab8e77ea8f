"""How fast ``lacvid repalette`` recolours a run, against a plain decode + encode of the same frames.

    python benchmarks/repalette_speed.py [--frames 12] [--height 1080] [--keep DIR]

The clip: two ``lacvid.synth`` shots drawn at the output size (``benchmarks/speed.py``'s), coloured
once by ``colorize()`` with ``--layers`` (not timed; a random CPU-width model: repalette never runs
a network). Then, each on the same frames, timed in ms a frame:

- ``repalette`` to a video (libx264 crf 18 medium, as colorize writes) and to a frame folder, with
  two palette colours replaced;
- the reference: decoding colorize's video and encoding its frames again, nothing in between;
- reading the layer PNGs alone (paint, ink, index), which is what repalette adds to an encode.

The goal (issue 24): repalette runs at encode speed, i.e. within a small factor of the reference.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed import render_clip, resolve_model, write_clip  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--keep", type=Path, help="keep the clip, layers and outputs here")
    args = parser.parse_args()

    from lacvid import ColorizeOptions, colorize
    from lacvid.media import VideoWriter, read_frames
    from lacvid.media.images import read_rgba
    from lacvid.media.indexed_png import read_indexed_png
    from lacvid.pipeline.repalette import repalette

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        width = args.height * 16 // 9 // 2 * 2
        lines, colors, starts = render_clip(args.frames, args.height, width)
        video, keys = write_clip(folder, "clip", lines, colors, starts)
        model, _ = resolve_model("random", folder)
        layers = folder / "layers"
        t = timed(lambda: colorize(video, keys, folder / "day.mp4", ColorizeOptions(
            model=model, layers=layers, cache_dir=folder / "cache", backend="torch")))
        print(f"colorize (not part of the comparison): {t:.1f} s for {args.frames} frames of {width}x{args.height}",
              file=sys.stderr)
        manifest = json.loads((layers / "palette.json").read_text())
        entries = [e["rgb"] for s in manifest["shots"] if s["palette"] for e in s["palette"][1:3]]
        mapping = {c: "#203050" for c in entries}
        n = args.frames
        rows = {}
        rows["repalette -> video"] = timed(lambda: repalette(layers, mapping, folder / "night.mp4", overwrite=True))
        rows["repalette -> frame folder"] = timed(lambda: repalette(layers, mapping, folder / "night",
                                                                    overwrite=True))

        def reencode() -> None:
            with VideoWriter(folder / "again.mp4", fps=Fraction(24), width=width, height=args.height,
                             overwrite=True) as writer:
                for frame in read_frames(folder / "day.mp4"):
                    writer.write(frame.image)

        rows["reference: decode + encode"] = timed(reencode)

        def read_layers() -> None:
            for p in sorted((layers / "paint").iterdir()):
                read_rgba(p), read_rgba(layers / "ink" / p.name), read_indexed_png(layers / "index" / p.name)

        rows["reading the layer PNGs alone"] = timed(read_layers)
        ref = rows["reference: decode + encode"]
        print(f"{n} frames of {width}x{args.height}, {len(mapping)} palette colours replaced")
        print(f"{'':32s} {'ms/frame':>9s} {'x reference':>12s}")
        for name, seconds in rows.items():
            print(f"{name:32s} {1000 * seconds / n:9.1f} {seconds / ref:12.2f}")


if __name__ == "__main__":
    main()
