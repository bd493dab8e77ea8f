"""8-bit indexed (paletted) PNG in and out: the ``--layers`` index layer.

OpenCV reads a paletted PNG as RGB and cannot write one, and Pillow is not a dependency, so
the few chunks an indexed PNG needs (IHDR, PLTE, IDAT, IEND) are written and read here with
zlib and struct. Any 8-bit paletted PNG can be read back (all five row filters), so an index
layer a paint program saved again still works.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from lacvid.errors import InputError

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_indexed_png(index: np.ndarray, palette: np.ndarray, level: int = 6) -> bytes:
    """The PNG bytes of uint8 (H, W) ``index`` with ``palette`` uint8 (P, 3), P <= 256, as its PLTE.

    Rows are stored unfiltered: the flat runs of an index layer deflate well as they are."""
    if index.dtype != np.uint8 or index.ndim != 2 or 0 in index.shape:
        raise ValueError(f"index must be uint8 (H, W), got {index.dtype} {index.shape}")
    if palette.dtype != np.uint8 or palette.ndim != 2 or palette.shape[1] != 3 or not 1 <= len(palette) <= 256:
        raise ValueError(f"palette must be uint8 (P, 3) with 1 <= P <= 256, got {palette.dtype} {palette.shape}")
    h, w = index.shape
    rows = np.empty((h, w + 1), np.uint8)  # (H, 1 + W): filter byte 0 (None), then the row
    rows[:, 0] = 0
    rows[:, 1:] = index
    header = struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0)  # 8-bit, colour type 3 (indexed)
    return b"".join((_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"PLTE", np.ascontiguousarray(palette).tobytes()),
                     _chunk(b"IDAT", zlib.compress(rows.tobytes(), level)), _chunk(b"IEND", b"")))


def write_indexed_png(path: Path | str, index: np.ndarray, palette: np.ndarray) -> None:
    """Write ``index`` (uint8 (H, W)) with ``palette`` (uint8 (P, 3)) as an 8-bit indexed PNG."""
    Path(path).write_bytes(encode_indexed_png(index, palette))


def read_indexed_png(path: Path | str) -> tuple[np.ndarray, np.ndarray]:
    """(index uint8 (H, W), palette uint8 (P, 3)) of an 8-bit indexed PNG; anything else is an InputError."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the index layer {path} ({exc.strerror or exc}); check the path") from exc
    try:
        return decode_indexed_png(data)
    except ValueError as exc:
        raise InputError(f"{path} is not an index layer lacvid can read ({exc}); write the layers again with "
                         "lacvid colorize --layers") from exc


def decode_indexed_png(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(index, palette) from PNG bytes; ValueError naming what is wrong."""
    if not data.startswith(_SIGNATURE):
        raise ValueError("not a PNG file")
    pos, header, palette, idat = len(_SIGNATURE), None, None, []
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            raise ValueError("the file is cut short")
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = np.frombuffer(body, np.uint8).reshape(-1, 3).copy()
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("no IHDR chunk")
    w, h, depth, color_type, _, _, interlace = header
    if (depth, color_type, interlace) != (8, 3, 0) or palette is None:
        raise ValueError(f"not an 8-bit paletted PNG (bit depth {depth}, colour type {color_type}, "
                         f"interlace {interlace})")
    try:
        raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8)
    except zlib.error as exc:
        raise ValueError(f"damaged image data: {exc}") from exc
    if raw.size != h * (w + 1):
        raise ValueError(f"image data holds {raw.size} bytes, {h * (w + 1)} expected for {w}x{h}")
    return _unfilter(raw.reshape(h, w + 1)), palette


def _unfilter(rows: np.ndarray) -> np.ndarray:
    """uint8 (H, W) from (H, 1 + W) filtered rows, one byte a pixel (PNG filters 0-4)."""
    h, w = rows.shape[0], rows.shape[1] - 1
    out = np.empty((h, w), np.uint8)
    prev = np.zeros(w, np.uint8)
    for y in range(h):
        kind, line = int(rows[y, 0]), rows[y, 1:]
        if kind == 0:
            cur = line.copy()
        elif kind == 1:  # Sub: a running sum modulo 256
            cur = np.cumsum(line, dtype=np.uint64).astype(np.uint8)
        elif kind == 2:  # Up
            cur = line + prev
        elif kind in (3, 4):  # Average, Paeth: each byte needs the one before it
            cur = _unfilter_sequential(kind, line, prev)
        else:
            raise ValueError(f"unknown row filter {kind} in row {y}")
        out[y] = cur
        prev = cur
    return out


def _unfilter_sequential(kind: int, line: np.ndarray, prev: np.ndarray) -> np.ndarray:
    cur = bytearray(len(line))
    up = prev.tolist()
    left = upleft = 0
    for x, v in enumerate(line.tolist()):
        b = up[x]
        if kind == 3:
            value = (v + ((left + b) >> 1)) & 255
        else:
            p = left + b - upleft
            pa, pb, pc = abs(p - left), abs(p - b), abs(p - upleft)
            pred = left if pa <= pb and pa <= pc else (b if pb <= pc else upleft)
            value = (v + pred) & 255
        cur[x] = value
        left, upleft = value, b
    return np.frombuffer(bytes(cur), np.uint8)
