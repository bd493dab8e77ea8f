"""The index layer's PNG: 8-bit paletted, written and read without Pillow, readable by OpenCV, and
every PNG row filter read back (a paint program may save the file again with any of them)."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest

from lacvid.errors import InputError
from lacvid.media.indexed_png import decode_indexed_png, encode_indexed_png, read_indexed_png, write_indexed_png


def _sample() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    palette = rng.integers(0, 256, (7, 3), dtype=np.uint8)
    index = rng.integers(0, 7, (13, 21), dtype=np.uint8)
    index[4:9, 3:15] = 2   # a flat run, as paint is
    return index, palette


def test_written_and_read_back_exactly_and_opencv_sees_the_palette_colours(tmp_path) -> None:
    index, palette = _sample()
    write_indexed_png(tmp_path / "i.png", index, palette)
    got, got_palette = read_indexed_png(tmp_path / "i.png")
    np.testing.assert_array_equal(got, index)
    np.testing.assert_array_equal(got_palette, palette)
    rgb = cv2.cvtColor(cv2.imread(str(tmp_path / "i.png")), cv2.COLOR_BGR2RGB)   # any viewer's picture
    np.testing.assert_array_equal(rgb, palette[index])


def _filtered(index: np.ndarray, kind: int) -> bytes:
    """``index``'s rows filtered with PNG filter ``kind`` (the encoder's side, written out plainly)."""
    out, prev = bytearray(), [0] * index.shape[1]
    for row in index.tolist():
        out.append(kind)
        for x, v in enumerate(row):
            a, b, c = (row[x - 1] if x else 0), prev[x], (prev[x - 1] if x else 0)
            if kind == 0:
                pred = 0
            elif kind == 1:
                pred = a
            elif kind == 2:
                pred = b
            elif kind == 3:
                pred = (a + b) // 2
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            out.append((v - pred) & 255)
        prev = row
    return bytes(out)


@pytest.mark.parametrize("kind", [0, 1, 2, 3, 4])
def test_every_row_filter_is_read(kind) -> None:
    index, palette = _sample()
    png = encode_indexed_png(index, palette)
    start = png.index(b"IDAT") - 4
    length = struct.unpack(">I", png[start:start + 4])[0]
    data = zlib.compress(_filtered(index, kind))
    idat = struct.pack(">I", len(data)) + b"IDAT" + data + struct.pack(">I", zlib.crc32(b"IDAT" + data))
    got, _ = decode_indexed_png(png[:start] + idat + png[start + 12 + length:])
    np.testing.assert_array_equal(got, index)


def test_an_rgb_png_is_one_clear_error(tmp_path) -> None:
    assert cv2.imwrite(str(tmp_path / "rgb.png"), np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(InputError, match="rgb.png is not an index layer.*bit depth 8, colour type 2"):
        read_indexed_png(tmp_path / "rgb.png")
