"""Small looping animations (the review page's flip-books), encoded in memory.

Animated WebP through OpenCV where its build can write it (``cv2.imencodeanimation``, OpenCV 4.12
and later with libwebp); otherwise an animated GIF from the small encoder below (LZW, a global
palette), so a flip-book never needs Pillow or another library.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import cv2
import numpy as np

FORMATS = ("auto", "webp", "gif")


def encode_animation(frames: Sequence[np.ndarray], duration_ms: int, fmt: str = "auto") -> tuple[bytes, str]:
    """``frames`` (RGB uint8, one size) as a looping animation, each shown ``duration_ms``; returns
    the bytes and their suffix (``.webp`` or ``.gif``). ``auto``: WebP where OpenCV can write it."""
    if fmt not in FORMATS:
        raise ValueError(f"animation format {fmt!r} is not one of {FORMATS}")
    if not frames:
        raise ValueError("an animation needs at least one frame")
    if fmt in ("auto", "webp"):
        data = _opencv_webp(frames, duration_ms)
        if data is not None:
            return data, ".webp"
        if fmt == "webp":
            raise ValueError("this OpenCV build cannot write animated WebP")
    return encode_gif(frames, duration_ms), ".gif"


def _opencv_webp(frames: Sequence[np.ndarray], duration_ms: int) -> bytes | None:
    """Animated WebP bytes from OpenCV, or None where this build has no animation encoder for WebP."""
    if not hasattr(cv2, "imencodeanimation"):
        return None
    animation = cv2.Animation()
    animation.frames = [np.ascontiguousarray(f[:, :, ::-1]) for f in frames]
    animation.durations = [int(duration_ms)] * len(frames)
    animation.loop_count = 0                      # forever
    try:
        ok, buf = cv2.imencodeanimation(".webp", animation, [cv2.IMWRITE_WEBP_QUALITY, 90])
    except cv2.error:
        return None
    return bytes(buf) if ok else None


def encode_gif(frames: Sequence[np.ndarray], duration_ms: int) -> bytes:
    """An animated GIF89a looping forever: one global palette of at most 256 colours (exact when the
    frames hold no more, as flat cel paint mostly does; else the most used colours), LZW-coded."""
    h, w = frames[0].shape[:2]
    if any(f.shape != (h, w, 3) or f.dtype != np.uint8 for f in frames):
        raise ValueError("every GIF frame must be RGB uint8 of one size")
    palette, indexed = _quantize(np.stack(frames))
    table = np.zeros((256, 3), np.uint8)
    table[:len(palette)] = palette
    delay = max(2, round(duration_ms / 10))       # centiseconds; browsers slow anything below 2
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", w, h, 0xF7, 0, 0) + table.tobytes())
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"      # loop forever
    for index in indexed:
        out += b"\x21\xf9\x04\x04" + struct.pack("<H", delay) + b"\x00\x00"   # delay, drawn over
        out += b"\x2c" + struct.pack("<HHHHB", 0, 0, w, h, 0)
        out += b"\x08" + _sub_blocks(lzw_encode(index.tobytes(), 8))
    return bytes(out + b"\x3b")


def _quantize(stack: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(palette (N<=256, 3), indices (F, H, W) uint8) of a stack of RGB frames."""
    packed = (stack[..., 0].astype(np.uint32) << 16) | (stack[..., 1].astype(np.uint32) << 8) | stack[..., 2]
    colors, inverse, counts = np.unique(packed.ravel(), return_inverse=True, return_counts=True)
    if len(colors) > 256:
        keep = colors[np.argsort(-counts, kind="stable")[:256]]
        rgb = lambda c: np.stack([(c >> 16) & 255, (c >> 8) & 255, c & 255], 1).astype(np.int32)  # noqa: E731
        have, want = rgb(colors), rgb(keep)
        nearest = np.empty(len(colors), np.int64)
        for i in range(0, len(colors), 4096):      # every colour to its nearest kept one, in slices
            d = ((have[i:i + 4096, None, :] - want[None]) ** 2).sum(2)
            nearest[i:i + 4096] = d.argmin(1)
        colors, inverse = keep, nearest[inverse]
    palette = np.stack([(colors >> 16) & 255, (colors >> 8) & 255, colors & 255], 1).astype(np.uint8)
    return palette, inverse.reshape(stack.shape[:3]).astype(np.uint8)


def lzw_encode(data: bytes, min_size: int) -> bytes:
    """GIF's variable-length LZW (codes least significant bit first, a clear code first and whenever
    the 4096-entry table is full, end-of-information last)."""
    clear, end = 1 << min_size, (1 << min_size) + 1
    out, acc, nbits = bytearray(), 0, 0
    size, next_code, table = min_size + 1, end + 1, {}

    def emit(code: int) -> None:
        nonlocal acc, nbits
        acc |= code << nbits
        nbits += size
        while nbits >= 8:
            out.append(acc & 255)
            acc >>= 8
            nbits -= 8

    emit(clear)
    if not data:
        emit(end)
        return bytes(out + (bytes([acc]) if nbits else b""))
    prefix = data[0]
    for byte in data[1:]:
        key = (prefix << 8) | byte
        code = table.get(key)
        if code is not None:
            prefix = code
            continue
        emit(prefix)
        table[key] = next_code
        next_code += 1
        if next_code > (1 << size) and size < 12:   # the decoder widens one code later than we add
            size += 1
        if next_code == 4096:
            emit(clear)
            size, next_code, table = min_size + 1, end + 1, {}
        prefix = byte
    emit(prefix)
    emit(end)
    if nbits:
        out.append(acc & 255)
    return bytes(out)


def _sub_blocks(data: bytes) -> bytes:
    """GIF data sub-blocks: length-prefixed chunks of at most 255 bytes, then a zero-length block."""
    return b"".join(bytes([len(data[i:i + 255])]) + data[i:i + 255] for i in range(0, len(data), 255)) + b"\x00"
