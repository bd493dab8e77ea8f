"""The one preprocessing every consumer shares: inference, training, the CLI and the benchmarks.

A frame becomes (1) line art at full resolution, kept as drawn for the output; (2) that line
art area-resized to the working size the networks see; (3) its normalised distance field at
that size. Training caches exactly what colorize computes, so a model never meets inputs at
inference that differ from those it learned on.

Whether a clip is line art or painted footage is decided once per clip (``ClipLineMode``):
a per-frame guess could flip mid-shot and change the drawing under the networks. Drawings are
read through one ``lacvid.preprocess.ink.InkModel`` per clip (paper and stroke levels from the first
frame), so faint pencil and coloured lines are ink, and contrast never flickers frame to frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lacvid.preprocess.distance import normalized_distance
from lacvid.preprocess.ink import InkModel, as_rgb
from lacvid.preprocess.lines import LINE_MODES, detect_kind, extract_lines

DEFAULT_WORK_SIZE = 256  # short side the networks see when a checkpoint does not say


def working_size(height: int, width: int, size: int) -> tuple[int, int]:
    """(h, w) with the short side ``size`` (never upscaled), both multiples of 4 (the networks
    downsample twice by 2)."""
    scale = min(1.0, size / min(height, width))
    h = max(4, int(round(height * scale / 4)) * 4)
    w = max(4, int(round(width * scale / 4)) * 4)
    return h, w


def resize_to(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-resize uint8 ``(H, W[, C])`` to ``size`` = (h, w); the image itself when it fits."""
    h, w = size
    if image.shape[:2] == (h, w):
        return image
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)


@dataclass(frozen=True)
class LineReader:
    """How one clip's frames become line art: extracted from color footage (``color``), or read
    from the artist's drawing through the clip's ``InkModel`` (``lines``)."""

    kind: str                      # "color" | "lines"
    ink: InkModel | None = None    # for "lines": fitted once per clip

    def line_art(self, image: np.ndarray) -> np.ndarray:
        """uint8 (H, W) line art, 255 paper: what the matching and the networks see."""
        if self.kind == "lines":
            return (self.ink or InkModel.fit([image])).line_art(image)
        return extract_lines(image, mode="color")


class ClipLineMode:
    """``auto`` | ``color`` | ``lines`` resolved once per clip, from its first frame, into the
    clip's ``LineReader`` (for drawings: the ink model fitted on that frame).

    Call it with each frame in order; ``detected`` says whether the first call had to guess.
    """

    def __init__(self, mode: str = "auto") -> None:
        if mode not in LINE_MODES:
            raise ValueError(f"line mode must be one of {', '.join(LINE_MODES)}, got {mode!r}")
        self.mode = None if mode == "auto" else mode
        self.detected = False
        self.reader: LineReader | None = None

    def __call__(self, image: np.ndarray) -> LineReader:
        if self.reader is None:
            if self.mode is None:
                self.mode = detect_kind(image)
                self.detected = True
            ink = InkModel.fit([image]) if self.mode == "lines" else None
            self.reader = LineReader(self.mode, ink)
        return self.reader


@dataclass(frozen=True)
class PreparedFrame:
    """One frame as the pipeline stores it."""

    lines_full: np.ndarray  # uint8 (H, W): 255 paper, 0 ink, at the input's resolution
    lines: np.ndarray       # uint8 (h, w): the working-size line art the networks see
    dist: np.ndarray        # float16 (h, w) in [0, 1]: its normalised distance field
    drawn: np.ndarray | None = None  # uint8 (H, W, 3): a drawing as given, to put its ink back as drawn


def prepare_frame(image: np.ndarray, reader: LineReader | str, work_size: tuple[int, int]) -> PreparedFrame:
    """Line art of ``image`` (RGB or grey uint8) by ``reader`` (or a kind, ``color`` or ``lines``,
    read on its own), at full and working size, and the working-size distance field."""
    if isinstance(reader, str):
        reader = LineReader(reader)
    lines_full = reader.line_art(image)                            # (H, W) uint8, 255 = paper
    lines = resize_to(lines_full, work_size)                            # (h, w) uint8
    dist = normalized_distance(lines).astype(np.float16)           # (h, w) in [0, 1]
    drawn = as_rgb(image) if reader.kind == "lines" else None
    return PreparedFrame(lines_full, lines, dist, drawn)
