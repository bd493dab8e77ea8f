"""Painted key frames: finding them, matching them to input frames, and checking them.

For a frame-directory input a key matches the frame with the same file name (any image
extension: ``0012.png`` matches ``0012.jpg``); for a video input, the frame whose index is
the number in the key's name (``000120.png`` -> frame 120), the names ``lacvid keys`` writes.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lacvid.errors import KeyFrameError, MediaError
from lacvid.media import IMAGE_SUFFIXES, MediaInfo
from lacvid.media.images import over, read_image_alpha, special_kind
from lacvid.shots.detect import Shot

_NUMBER = re.compile(r"(\d+)")


@dataclass(frozen=True)
class KeyFrame:
    index: int   # the input frame this key paints
    path: Path

    def load(self, size: tuple[int, int], backdrop: np.ndarray | None = None) -> np.ndarray:
        """The painted key as RGB uint8, checked to be exactly ``size`` = (H, W).

        A key with transparent paint (RGBA, e.g. paint on a layer over the line art) is
        composited over ``backdrop``, its frame's own line art (H, W), so its lines stay where
        the paint is see-through; without a backdrop, over white paper.
        """
        image, alpha = _DECODED.read(self.path)
        if image.shape[:2] != tuple(size):
            raise KeyFrameError(
                f"key {self.path} is {image.shape[1]}x{image.shape[0]} but the input frames are "
                f"{size[1]}x{size[0]}; paint keys at the input's full resolution")
        return over(image, alpha, 255 if backdrop is None else backdrop)


class _DecodedKeys:
    """The painted keys decoded last, by path and file state (size, modification time).

    A run reads each key three times: checked when found, compared with its drawing after the scan, and when
    its shot is coloured; a 1080p PNG takes ~18 ms to decode, serially before and between the pipeline's
    stages. Bounded by bytes, least recently read dropped first; a key saved again is decoded again."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._images: OrderedDict[tuple[str, int, int], tuple[np.ndarray, np.ndarray | None]] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, path: Path) -> tuple[np.ndarray, np.ndarray | None]:
        """``read_image_alpha(path)``, from memory when this file was decoded last and has not changed since; the
        caller's own copy of the colour (a copy takes ~1 ms at 1080p, a decode ~18)."""
        try:
            stat = path.stat()
        except OSError:
            return read_image_alpha(path)  # its own clear error
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if key in self._images:
                self._images.move_to_end(key)
                image, alpha = self._images[key]
                return image.copy(), None if alpha is None else alpha.copy()
        image, alpha = read_image_alpha(path)
        with self._lock:
            self._images[key] = image.copy(), None if alpha is None else alpha.copy()
            while sum(_nbytes(*pair) for pair in self._images.values()) > self.budget:
                self._images.popitem(last=False)
        return image, alpha


def _nbytes(image: np.ndarray, alpha: np.ndarray | None) -> int:
    return image.nbytes + (alpha.nbytes if alpha is not None else 0)


_DECODED = _DecodedKeys(96 << 20)  # sixteen 1080p keys, three 4K ones


def find_keys(keys_dir: Path, info: MediaInfo) -> list[KeyFrame]:
    """Match every image in ``keys_dir`` to an input frame; fail on any that matches none."""
    keys_dir = Path(keys_dir)
    if not keys_dir.is_dir():
        raise KeyFrameError(f"key folder {keys_dir} does not exist or is not a folder; pass --keys DIR with "
                            "painted key frames")
    files = sorted(p for p in keys_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
    for f in files:
        kind = special_kind(f)
        if kind is not None:
            raise KeyFrameError(f"key {f} is {kind}, not an image file; save the painted key as a file")
    if not files:
        raise KeyFrameError(f"key folder {keys_dir} holds no images (png, jpg, webp, tif); paint at least one "
                            "frame per shot (lacvid keys suggests which)")
    keys: dict[int, KeyFrame] = {}
    if info.kind == "frames":
        by_stem = {Path(n).stem: i for i, n in enumerate(info.names or [])}
        for f in files:
            if f.stem not in by_stem:
                raise KeyFrameError(f"key {f} matches no input frame (no frame named {f.stem}.*); name each key "
                                    "after the frame it paints")
            index = by_stem[f.stem]
            if index in keys:
                raise KeyFrameError(f"keys {keys[index].path} and {f} both paint frame {f.stem}; keep one")
            keys[index] = KeyFrame(index, f)
    else:
        for f in files:
            numbers = _NUMBER.findall(f.stem)
            if not numbers:
                raise KeyFrameError(f"key {f} has no frame number in its name; name keys by frame index "
                                    "(e.g. 000120.png), as lacvid keys does")
            index = int(numbers[-1])
            if info.frame_count is not None and index >= info.frame_count:
                raise KeyFrameError(f"key {f} names frame {index} but {info.path} has {info.frame_count} frames "
                                    f"(0 to {info.frame_count - 1}); rename or remove it")
            if index in keys:
                raise KeyFrameError(f"keys {keys[index].path} and {f} both paint frame {index}; keep one")
            keys[index] = KeyFrame(index, f)
    for key in keys.values():  # check every key before any work, not when its shot comes
        try:
            key.load((info.height, info.width))
        except MediaError as exc:
            raise KeyFrameError(f"key {key.path} cannot be read as an image; re-export it as PNG") from exc
    return [keys[i] for i in sorted(keys)]


def check_keys_name_frames(keys: list[KeyFrame], n_frames: int, info: MediaInfo) -> None:
    """Every key must name a frame of the input."""
    for key in keys:
        if key.index >= n_frames:
            raise KeyFrameError(f"key {key.path} names frame {key.index} but {info.path} has {n_frames} frames; "
                                "rename or remove it")


def check_keys_cover_shots(keys: list[KeyFrame], shots: list[Shot], info: MediaInfo,
                           only: list[Shot] | None = None) -> None:
    """Every shot (of ``only``, when given) needs a key: color never crosses a cut."""
    indices = [k.index for k in keys]
    for number, shot in enumerate(shots, start=1):
        if only is not None and shot not in only:
            continue
        if not any(shot.start <= i < shot.stop for i in indices):
            fps = float(info.fps) if info.fps else None
            when = f" ({shot.start / fps:.2f}s to {shot.stop / fps:.2f}s)" if fps else ""
            raise KeyFrameError(
                f"shot {number} (frames {shot.start} to {shot.stop - 1}{when}) of {info.path} has no painted key; "
                f"paint at least one of its frames into the key folder (lacvid keys suggests which)")


def painted_key_in(folder: Path) -> Path | None:
    """The first image in ``folder`` that holds colour (a painted key), or None (line art only)."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
            continue
        try:
            image, _ = read_image_alpha(path)
        except MediaError:
            continue
        chroma = image.max(axis=2).astype(np.int16) - image.min(axis=2)  # 0 on grey
        if (chroma > 24).mean() > 0.001:
            return path
    return None


def check_no_painted_keys(folder: Path) -> None:
    """Refuse to replace a key folder holding painted keys: hours of the user's work."""
    painted = painted_key_in(folder)
    if painted is not None:
        raise KeyFrameError(f"{folder} holds painted keys (e.g. {painted.name}), which lacvid keys would replace "
                            "with line art; choose another output folder, or pass --force-replace-painted to "
                            "replace them")
