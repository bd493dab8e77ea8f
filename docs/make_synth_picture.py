"""Draw docs/images/synth-styles.png: generated shots in both styles (lacvid synth --style).

Each row is one shot: its first and last frame as line art handed to lacvid, then the colour
truth. Top rows clean, bottom rows pencil (grey strokes with pressure and gaps, coloured
shadow-boundary lines). Run from a checkout: ``python docs/make_synth_picture.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lacvid.media import write_image  # noqa: E402
from lacvid.synth import render_shot  # noqa: E402


def row(index: int, style: str) -> np.ndarray:
    frames = list(render_shot(0, index, 12, 160, 224, style=style))
    tiles = []
    for t in (0, 11):
        truth, lines = frames[t]
        tiles += [lines if lines.ndim == 3 else cv2.cvtColor(lines, cv2.COLOR_GRAY2RGB), truth]
    return np.concatenate([np.pad(x, ((2, 2), (2, 2), (0, 0)), constant_values=255) for x in tiles], 1)


def main() -> None:
    sheet = np.concatenate([row(i, "clean") for i in (0, 1)] + [row(i, "pencil") for i in (1, 3, 4)], 0)
    out = REPO / "docs" / "images" / "synth-styles.png"
    write_image(out, sheet)
    print(out)


if __name__ == "__main__":
    main()
