"""Flip-book animations: lacvid's own GIF encoder decodes bit for bit (LZW table resets included),
and ``auto`` writes WebP where OpenCV can."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lacvid.media.animation import encode_animation, encode_gif, lzw_encode
from lacvid.media.review_html import Picture, ShotSection, render_page

decodes = pytest.mark.skipif(not hasattr(cv2, "imdecodeanimation"), reason="this OpenCV cannot decode animations")


def _decode(data: bytes) -> tuple[list[np.ndarray], list[int], int]:
    ok, animation = cv2.imdecodeanimation(np.frombuffer(data, np.uint8))
    assert ok
    return [f[:, :, 2::-1] for f in animation.frames], list(animation.durations), animation.loop_count


@decodes
@pytest.mark.parametrize("colors, size", [(200, (97, 131)), (2, (1, 1)), (6, (160, 213))])
def test_gif_decodes_to_the_frames_exactly(colors, size) -> None:
    """200 random colours of noise fill LZW's 4096-entry table many times over (each fill a clear
    code and narrower codes again); one pixel is the smallest GIF."""
    rng = np.random.default_rng(colors)
    table = rng.integers(0, 256, (colors, 3), dtype=np.uint8)
    frames = [table[rng.integers(0, colors, size)] for _ in range(3)]
    got, durations, loop = _decode(encode_gif(frames, 250))
    assert [np.array_equal(g, f) for g, f in zip(got, frames, strict=True)] == [True] * 3
    assert durations == [250] * 3 and loop == 0


@decodes
def test_gif_of_many_colours_keeps_the_most_used_ones() -> None:
    frame = np.full((40, 40, 3), (200, 120, 40), np.uint8)
    frame[:20] = np.random.default_rng(0).integers(0, 256, (20, 40, 3), dtype=np.uint8)  # 800 colours
    got, _, _ = _decode(encode_gif([frame], 100))
    assert np.array_equal(got[0][20:], frame[20:])                       # the flat paint is exact
    assert np.abs(got[0][:20].astype(int) - frame[:20]).max() < 256


def test_lzw_of_nothing_is_clear_then_end() -> None:
    assert lzw_encode(b"", 8) == bytes([0x00, 0x03, 0x02])   # 9-bit codes 256, 257, LSB first


def test_auto_is_webp_where_opencv_writes_it_else_gif() -> None:
    frames = [np.full((8, 8, 3), c, np.uint8) for c in (0, 255)]
    data, suffix = encode_animation(frames, 200)
    assert (suffix, data[:4], data[8:12]) == (".webp", b"RIFF", b"WEBP") or (suffix, data[:6]) == (".gif", b"GIF89a")
    data, suffix = encode_animation(frames, 200, "gif")
    assert suffix == ".gif" and data[:6] == b"GIF89a"


def test_review_html_escapes_text_and_loads_every_picture_lazily_at_its_size() -> None:
    pic = Picture('img/a"b.png', 40, 30, caption="<key> 0")
    page = render_page("ep <1>", "note & more", [ShotSection("shot-1", "Shot 1", [("keys", "0 & 5")],
                                                            [("keys", [pic])], pic)])
    assert "<key>" not in page and "&lt;key&gt; 0" in page and "0 &amp; 5" in page and "ep &lt;1&gt;" in page
    assert page.count('loading="lazy"') == 2 and page.count('width="40" height="30"') == 2
    assert 'src="img/a&quot;b.png"' in page and 'href="#shot-1"' in page
