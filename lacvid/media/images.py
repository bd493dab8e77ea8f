"""Still images: read any PNG/JPEG/WebP/TIFF as uint8 RGB, write RGB, RGBA or grey, list frame folders.

OpenCV's BGR is converted at this boundary; 16-bit and float images are scaled to 8 bits,
grey expanded, and alpha composited on white paper (transparent paper is paper, not black).
"""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from lacvid.errors import MediaError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff"})


def natural_key(name: str) -> tuple:
    """Sort key that orders ``2.png`` before ``10.png`` (digit runs compare as numbers)."""
    parts = re.split(r"(\d+)", name)
    # Even positions are text, odd positions digit runs, so equal positions always hold equal types.
    key = tuple(int(p) if i % 2 else p.casefold() for i, p in enumerate(parts))
    return key + (name,)  # "01.png" vs "1.png": still a total, stable order

def _to_rgb8(img: np.ndarray, path: Path) -> np.ndarray:
    """OpenCV's decoded array (gray/BGR/BGRA, 8/16-bit or float) -> uint8 RGB."""
    if img.dtype == np.uint16:
        img = ((img.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif img.dtype in (np.float32, np.float64):
        img = (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    elif img.dtype != np.uint8:
        raise MediaError(f"image {path} has unsupported sample type {img.dtype}; convert it to 8- or 16-bit")
    if img.ndim == 2:
        return np.ascontiguousarray(np.repeat(img[:, :, None], 3, axis=2))
    channels = img.shape[2]
    if channels == 1:
        return np.ascontiguousarray(np.repeat(img, 3, axis=2))
    if channels == 2:  # gray + alpha
        img = np.concatenate([np.repeat(img[:, :, :1], 3, axis=2), img[:, :, 1:]], axis=2)
        channels = 4
    if channels == 4:  # composite on white paper: transparent areas are paper, not black
        alpha = img[:, :, 3:4].astype(np.uint16)
        bgr = (img[:, :, :3].astype(np.uint16) * alpha + 255 * (255 - alpha) + 127) // 255
        img = bgr.astype(np.uint8)
    elif channels != 3:
        raise MediaError(f"image {path} has {channels} channels; save it as RGB, RGBA or grayscale")
    return np.ascontiguousarray(img[:, :, ::-1])


def read_image(path: Path | str) -> np.ndarray:
    """Read any still image as uint8 RGB ``(H, W, 3)``: gray expanded, alpha on white, 16-bit scaled."""
    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)  # imdecode, not imread: errors we can tell apart
    except FileNotFoundError as exc:
        raise MediaError(f"image {path} does not exist; check the path") from exc
    except OSError as exc:
        raise MediaError(f"cannot read image {path} ({exc.strerror or exc}); check it is a readable file") from exc
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise MediaError(f"cannot decode image {path}; it is empty, corrupt or not an image, so replace or remove it")
    return _to_rgb8(img, path)


def write_image(path: Path | str, image: np.ndarray) -> None:
    """Write uint8 RGB ``(H, W, 3)``, RGBA ``(H, W, 4)`` or gray ``(H, W)``; the suffix picks the format.

    It writes exactly where told: a caller producing a final output wraps it in ``atomic_output``.
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
        buf.tofile(path)
    except OSError as exc:
        raise MediaError(f"cannot write {path} ({exc.strerror or exc}); check the folder exists and is "
                         "writable") from exc


def list_images(path: Path) -> list[str]:
    names = [p.name for p in path.iterdir()
             if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()]
    return sorted(names, key=natural_key)
