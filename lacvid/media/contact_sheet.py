"""Contact sheets: labelled rows of frames in one picture, what an animator looks at before a render.

Used by ``lacvid preview`` (per shot: keys, drawings, lacvid's frames, the palette) and by the
quality benchmark (drawing, lacvid, truth).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from lacvid.media.images import write_image
from lacvid.util.outputs import atomic_output

LABEL_WIDTH = 150
Row = tuple[str, Sequence[np.ndarray]]


def tile(image: np.ndarray, height: int) -> np.ndarray:
    """``image`` (RGB or gray uint8) scaled to ``height`` pixels, aspect kept; RGB uint8."""
    image = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    h, w = image.shape[:2]
    return cv2.resize(image, (max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA)


def palette_strip(palette: np.ndarray, height: int, swatch: int) -> np.ndarray:
    """The colours of ``palette`` ((N, 3) uint8) as ``swatch``-pixel squares, column by column in a
    block ``height`` pixels tall; RGB uint8."""
    colors = np.asarray(palette, np.uint8).reshape(-1, 3)
    per_column = max(1, height // swatch)
    columns = max(1, -(-len(colors) // per_column))
    out = np.full((height, columns * swatch, 3), 255, np.uint8)
    for i, color in enumerate(colors):
        y, x = (i % per_column) * swatch, (i // per_column) * swatch
        out[y + 1:y + swatch - 1, x + 1:x + swatch - 1] = color  # a white gap around every swatch
    return out


def contact_sheet(rows: Sequence[Row], height: int = 160) -> np.ndarray:
    """One row per label, its frames side by side (a row of width 0 is a heading); RGB uint8."""
    built = []
    for name, frames in rows:
        tiles = [tile(f, height) for f in frames] or [np.full((height // 3, 1, 3), 255, np.uint8)]
        strip = np.concatenate([np.pad(t, ((2, 2), (2, 2), (0, 0)), constant_values=255) for t in tiles], 1)
        label = np.full((strip.shape[0], LABEL_WIDTH, 3), 255, np.uint8)
        cv2.putText(label, name, (4, min(strip.shape[0] - 4, strip.shape[0] // 2 + 5)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.45, (0, 0, 0), 1, cv2.LINE_AA)
        built.append(np.concatenate([label, strip], 1))
    width = max(b.shape[1] for b in built)
    built = [np.pad(b, ((0, 0), (0, width - b.shape[1]), (0, 0)), constant_values=255) for b in built]
    return np.concatenate(built, 0)


def write_sheet(path: Path | str, image: np.ndarray, overwrite: bool = False) -> Path:
    """Write the sheet as PNG under a temporary name, renamed when complete."""
    path = Path(path)
    with atomic_output(path, overwrite=overwrite) as tmp:
        write_image(tmp, image)
    return path
