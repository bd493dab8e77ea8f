"""Draw docs/images/example.png: the bundled example's first shot as line art, lacvid's output, truth.

    python docs/make_readme_picture.py [--model default|PATH]

It runs the real ``lacvid.colorize`` on ``examples/clip`` (a fresh cache in a temporary folder).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np

from lacvid import ColorizeOptions, colorize
from lacvid.media import read_frames

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "examples" / "clip"
PICK = (0, 8, 16, 24, 32, 39)  # shot 1 runs from frame 0 to 39; 0 and 39 are painted keys


def frames_of(path: Path, pick: tuple[int, ...]) -> list[np.ndarray]:
    return [f.image for f in read_frames(path) if f.index in pick]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="default")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "example.png")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        colorize(CLIP / "lines.mp4", CLIP / "keys", out, ColorizeOptions(model=args.model, cache_dir=Path(tmp) / "c"))
        painted = [cv2.cvtColor(cv2.imread(str(out / f"{i:06d}.png")), cv2.COLOR_BGR2RGB) for i in PICK]
    rows = [frames_of(CLIP / "lines.mp4", PICK), painted, frames_of(CLIP / "truth.mp4", PICK)]
    pad = lambda img: np.pad(img, ((3, 3), (3, 3), (0, 0)), constant_values=255)  # noqa: E731
    grid = np.concatenate([np.concatenate([pad(f) for f in row], 1) for row in rows], 0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    print(args.out)


if __name__ == "__main__":
    main()
