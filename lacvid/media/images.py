"""Still images: read any PNG/JPEG/WebP/TIFF as uint8 RGB, write RGB, RGBA or grey, list frame folders.

OpenCV's BGR is converted at this boundary; 16-bit and float images are scaled to 8 bits,
grey expanded, and alpha composited on white paper (transparent paper is paper, not black).
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import cv2
import numpy as np

from lacvid.errors import MediaError, disk_full, is_disk_full

cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # lacvid says what was wrong itself

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff"})


def natural_key(name: str) -> tuple:
    """Sort key that orders ``2.png`` before ``10.png`` (digit runs compare as numbers)."""
    parts = re.split(r"(\d+)", name)
    # Even positions are text, odd positions digit runs, so equal positions always hold equal types.
    key = tuple(int(p) if i % 2 else p.casefold() for i, p in enumerate(parts))
    return key + (name,)  # "01.png" vs "1.png": still a total, stable order

def _to_rgba8(img: np.ndarray, path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """OpenCV's decoded array (gray/BGR/BGRA, 8/16-bit or float) -> uint8 RGB and alpha (None if opaque)."""
    if img.dtype == np.uint16:
        img = ((img.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif img.dtype in (np.float32, np.float64):
        img = (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    elif img.dtype != np.uint8:
        raise MediaError(f"image {path} has unsupported sample type {img.dtype}; convert it to 8- or 16-bit")
    if img.ndim == 2:
        return np.ascontiguousarray(np.repeat(img[:, :, None], 3, axis=2)), None
    channels = img.shape[2]
    if channels == 1:
        return np.ascontiguousarray(np.repeat(img, 3, axis=2)), None
    if channels == 2:  # gray + alpha
        img = np.concatenate([np.repeat(img[:, :, :1], 3, axis=2), img[:, :, 1:]], axis=2)
        channels = 4
    alpha = None
    if channels == 4:
        alpha = np.ascontiguousarray(img[:, :, 3])
        if alpha.min() == 255:
            alpha = None
        img = img[:, :, :3]
    elif channels != 3:
        raise MediaError(f"image {path} has {channels} channels; save it as RGB, RGBA or grayscale")
    return np.ascontiguousarray(img[:, :, ::-1]), alpha


def over(rgb: np.ndarray, alpha: np.ndarray | None, backdrop: np.ndarray | int = 255) -> np.ndarray:
    """``rgb`` with opacity ``alpha`` composited over ``backdrop`` (RGB, gray or a gray level), uint8."""
    if alpha is None:
        return rgb
    back = np.asarray(backdrop, dtype=np.uint16)
    if back.ndim == 2:
        back = back[:, :, None]
    a = alpha[:, :, None].astype(np.uint16)
    return ((rgb.astype(np.uint16) * a + back * (255 - a) + 127) // 255).astype(np.uint8)


def _decode(path: Path) -> np.ndarray:
    try:
        data = np.fromfile(path, dtype=np.uint8)  # imdecode, not imread: errors we can tell apart
    except FileNotFoundError as exc:
        raise MediaError(f"image {path} does not exist; check the path") from exc
    except OSError as exc:
        raise MediaError(f"cannot read image {path} ({exc.strerror or exc}); check it is a readable file") from exc
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise MediaError(f"cannot decode image {path}; it is empty, corrupt or not an image, so replace or remove it")
    return img


def read_image_alpha(path: Path | str) -> tuple[np.ndarray, np.ndarray | None]:
    """Read any still image as uint8 RGB ``(H, W, 3)`` and its alpha ``(H, W)`` (None when opaque)."""
    path = Path(path)
    return _to_rgba8(_decode(path), path)


def read_rgba(path: Path | str) -> np.ndarray:
    """uint8 RGBA ``(H, W, 4)`` as stored, never composited (an opaque image gets alpha 255): a layer."""
    path = Path(path)
    img = _decode(path)
    if img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 4:  # what write_image wrote: one conversion
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
    rgb, alpha = _to_rgba8(img, path)
    return np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8) if alpha is None else alpha])


def read_image(path: Path | str) -> np.ndarray:
    """Read any still image as uint8 RGB ``(H, W, 3)``: gray expanded, alpha on white, 16-bit scaled."""
    rgb, alpha = read_image_alpha(path)
    return over(rgb, alpha)  # transparent areas are paper, not black


def write_image(path: Path | str, image: np.ndarray, *, frames_left: int = 1) -> int:
    """Write uint8 RGB ``(H, W, 3)``, RGBA ``(H, W, 4)`` or gray ``(H, W)``; the suffix picks the format.

    Returns the bytes written. It writes exactly where told: a caller producing a final output
    wraps it in ``atomic_output``. ``frames_left`` (this one included) sizes the "no space left"
    message of a full disk.
    """
    path = Path(path)
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ValueError(f"write_image wants uint8 (H, W), (H, W, 3) or (H, W, 4); got {image.dtype} {image.shape}")
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR if image.shape[2] == 3 else cv2.COLOR_RGBA2BGRA)
    suffix = path.suffix.lower() or ".png"
    try:
        ok, buf = cv2.imencode(suffix, image)
    except cv2.error as exc:
        raise MediaError(f"cannot encode {path} as {suffix}; use .png, .jpg, .webp or .tif") from exc
    if not ok:
        raise MediaError(f"cannot encode {path} as {suffix}; use .png, .jpg, .webp or .tif")
    try:
        _tofile(buf, path)
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full(path.parent, buf.size * max(1, frames_left), "write the output to another disk") \
                from exc
        raise MediaError(f"cannot write {path} ({exc.strerror or exc}); check the folder exists and is "
                         "writable") from exc
    return int(buf.size)


def _tofile(buf: np.ndarray, path: Path) -> None:
    buf.tofile(path)


def special_kind(path: Path) -> str | None:
    """What ``path`` is when it is neither a regular file nor a folder ("a pipe (FIFO)", "a socket",
    "a device"), else None. lacvid reads its inputs more than once (probe, scan, keys), so a stream
    cannot stand in for a file: opening a FIFO would wait for a writer with no word."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return None


def list_images(path: Path) -> list[str]:
    names = [p.name for p in path.iterdir()
             if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()]
    return sorted(names, key=natural_key)
