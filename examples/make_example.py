"""Write the bundled example clip with ``lacvid.synth``: line art with sound, painted keys, colour truth.

    python examples/make_example.py            # writes examples/clip/ (replaces it)

Output (small, so the repository stays small and ``lacvid colorize`` on a CPU is quick):
- ``clip/lines.mp4``: 3 shots, 24 fps, 320x240 line art (H.264) with a sound track (AAC tones,
  one note per shot, so audio copying is visible in the output);
- ``clip/keys/NNNNNN.png``: the painted key frames, named by their frame index in the video: the
  first and last frame of every shot;
- ``clip/truth.mp4``: the colour truth, for comparison.

Deterministic: the same seed draws the same clip (the H.264 bytes may differ between FFmpeg builds).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
from lacvid.media import VideoWriter, write_image  # noqa: E402
from lacvid.synth import render_shot  # noqa: E402

FPS = 24
WIDTH, HEIGHT = 320, 240
SHOT_FRAMES = (40, 36, 44)  # 120 frames = 5 s
SHOT_SEEDS = (2, 13, 15)  # shots of synth seed 2026 picked by eye: characters that move, turn and occlude
SEED = 2026
NOTES_HZ = (262.0, 330.0, 392.0)  # C4, E4, G4
SAMPLE_RATE = 48000


def write_tones(path: Path, durations: list[float]) -> None:
    """A mono AAC track: one soft sine note per shot, so a viewer hears where the cuts are."""
    container = av.open(str(path), mode="w")
    stream = container.add_stream("aac", rate=SAMPLE_RATE)
    stream.layout = "mono"
    pieces = []
    for dur, hz in zip(durations, NOTES_HZ):
        t = np.arange(int(round(dur * SAMPLE_RATE))) / SAMPLE_RATE
        env = np.minimum(1.0, np.minimum(t, dur - t) / 0.02)  # 20 ms fades: no clicks at the cuts
        pieces.append(0.25 * env * np.sin(2 * np.pi * hz * t))
    pcm = np.concatenate(pieces).astype(np.float32)
    chunk = 1024
    for i in range(0, pcm.size, chunk):
        frame = av.AudioFrame.from_ndarray(pcm[None, i:i + chunk].copy(), format="fltp", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = i
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    container.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", type=Path, default=Path(__file__).resolve().parent / "clip")
    args = ap.parse_args(argv)
    out: Path = args.output
    if out.exists():
        shutil.rmtree(out)
    (out / "keys").mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        sound = Path(tmp) / "tones.m4a"
        write_tones(sound, [n / FPS for n in SHOT_FRAMES])
        lines_w = VideoWriter(out / "lines.mp4", fps=Fraction(FPS), width=WIDTH, height=HEIGHT, crf=20,
                              preset="veryslow", audio_from=sound)
        truth_w = VideoWriter(out / "truth.mp4", fps=Fraction(FPS), width=WIDTH, height=HEIGHT, crf=23,
                              preset="veryslow", audio_from=sound)
        with lines_w, truth_w:
            index = 0
            for shot, n in zip(SHOT_SEEDS, SHOT_FRAMES):
                for t, (color, lines) in enumerate(render_shot(SEED, shot, n, HEIGHT, WIDTH)):
                    lines_w.write(lines)
                    truth_w.write(color)
                    if t in (0, n - 1):
                        write_image(out / "keys" / f"{index:06d}.png", color)
                    index += 1
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"{out} ({index} frames, {total / 1e6:.2f} MB)", file=sys.stderr)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
