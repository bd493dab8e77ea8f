"""Paint by palette: which palette entry each paint pixel is, and a frame recomposed with new colours.

Studios paint with palette styles, so a palette edit (a night palette) recolours every frame
without repainting. A flat shot's paint is nearly all exact palette colours: the **index
layer** names, per pixel, the entry the finished paint *is* (0 = bare paper, 255 = not a
palette colour: an anti-aliased key edge, a colour the network chose where no key reached),
and nothing is snapped: where the index says 255 the paint layer is authoritative. So

    recompose(index, colors, paint, ink) == Layers(paint, ink).flatten()   bit for bit,

and with some ``colors`` replaced, exactly the pixels painted with them change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import cv2
import numpy as np

from lacvid.compose.layers import IndexLayer, Layers
from lacvid.errors import InputError
from lacvid.preprocess.distance import nearest_values
from lacvid.util.arrays import rgb_cells
from lacvid.util.checks import check_array

if TYPE_CHECKING:
    from lacvid.compose.flat import KeyColorLookup

PAPER = 0          # index of bare paper (white, transparent in the paint layer)
OFF_PALETTE = 255  # index of a pixel whose paint is no palette colour: the paint layer holds it
MAX_ENTRIES = 255  # entries 0..254; a shot with more colours indexes the most used ones
WHITE = (255, 255, 255)


@dataclass(frozen=True)
class ShotPalette:
    """One shot's indexed palette: entry 0 paper, then its paint colours (most used first).

    ``key_pixels``: per key frame, how many of its pixels are each entry exactly (what a
    ``palette.json`` lists so an artist can find where a style is used)."""

    colors: np.ndarray                     # uint8 (P, 3), colors[0] = white paper
    key_pixels: dict[int, tuple[int, ...]]  # key frame -> pixels per entry (P,)

    @classmethod
    def of(cls, palettes: Sequence[np.ndarray], keys: Mapping[int, np.ndarray],
           key_colors: KeyColorLookup | None = None) -> ShotPalette:
        """The entries of ``palettes`` (uint8 (P, 3) each, in order, repeats and white dropped) after paper.
        ``key_colors``: each key's distinct colours and pixels' indices among them (``compose.flat.key_color_ids``)
        where the caller has them: each distinct colour is then looked up once instead of every pixel."""
        colors = [WHITE]
        for palette in palettes:
            for c in np.asarray(palette, np.uint8).reshape(-1, 3).tolist():
                if tuple(c) not in colors and len(colors) < MAX_ENTRIES:
                    colors.append(tuple(c))
        table = np.array(colors, np.uint8)  # (P, 3)

        def entries(t: int, key: np.ndarray) -> np.ndarray:  # each pixel's entry, (H * W,) uint8
            if key_colors is None:
                return index_of(key, table).ravel()
            each, ids = key_colors[t]
            return index_of(each[None], table)[0][ids]

        counts = {t: tuple(np.bincount(entries(t, key), minlength=256)[:len(table)].tolist())
                  for t, key in sorted(keys.items())}
        return cls(table, counts)

    def to_attrs(self) -> dict:
        """A JSON-able form (cache attributes)."""
        return {"colors": [hex_color(c) for c in self.colors],
                "key_pixels": {str(t): list(n) for t, n in self.key_pixels.items()}}

    @classmethod
    def from_attrs(cls, attrs: Mapping) -> ShotPalette:
        return cls(np.array([parse_color(c) for c in attrs["colors"]], np.uint8).reshape(-1, 3),
                   {int(t): tuple(n) for t, n in attrs["key_pixels"].items()})


def with_index(layers: Layers, colors: np.ndarray) -> Layers:
    """``layers`` with their index layer into ``colors`` (a shot's ``ShotPalette.colors``)."""
    return replace(layers, index=IndexLayer(index_layer(layers.paint, colors), colors))


def hex_color(rgb: Sequence[int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(v) for v in rgb))


_HEX = re.compile(r"#?([0-9a-fA-F]{6})")


def parse_color(text: str) -> tuple[int, int, int]:
    """``"#ffd0b0"`` (or ``"ffd0b0"``) -> (255, 208, 176); anything else is an InputError."""
    m = _HEX.fullmatch(str(text).strip())
    if not m:
        raise InputError(f"{text!r} is not a colour; write colours as #rrggbb, e.g. #8090c0")
    v = int(m.group(1), 16)
    return v >> 16, (v >> 8) & 255, v & 255


def index_of(rgb: np.ndarray, colors: np.ndarray) -> np.ndarray:
    """uint8 (H, W): the entry of ``colors`` (uint8 (P, 3), distinct) each pixel of ``rgb`` (H, W, 3) is
    exactly, ``OFF_PALETTE`` where it is none."""
    code = rgb_cells(rgb, 8)                                   # (H, W) int32 packed 0xRRGGBB
    packed = rgb_cells(colors, 8)                              # (P,)
    order = np.argsort(packed)
    pos = np.searchsorted(packed[order], code).clip(0, len(packed) - 1)  # (H, W)
    hit = packed[order][pos] == code
    return np.where(hit, order[pos], OFF_PALETTE).astype(np.uint8)


def index_layer(paint: np.ndarray, colors: np.ndarray) -> np.ndarray:
    """uint8 (H, W): each pixel of an RGBA paint layer as an entry of ``colors`` (``PAPER`` for white,
    opaque or not, since both flatten to paper), or ``OFF_PALETTE`` where its paint is no entry
    (half-transparent paint included: it mixes with the paper)."""
    check_array(paint, "paint", np.uint8, ("H", "W", 4))
    rgba = np.empty((len(colors) + 1, 4), np.uint8)                    # (P + 1, 4): every entry opaque,
    rgba[:-1, :3], rgba[:-1, 3] = colors, 255                          # then transparent paper
    rgba[-1] = (255, 255, 255, 0)
    words = rgba.view(np.uint32)[:, 0]                                 # (P + 1,) one word a pixel value
    order = np.argsort(words)
    pixels = np.ascontiguousarray(paint).view(np.uint32)[..., 0]       # (H, W) the same words
    pos = np.searchsorted(words[order], pixels).clip(0, len(words) - 1)  # (H, W)
    entry = order[pos]
    entry[entry == len(colors)] = PAPER
    return np.where(words[order][pos] == pixels, entry, OFF_PALETTE).astype(np.uint8)


def recolored_paint(index: np.ndarray, colors: np.ndarray, paint: np.ndarray | None) -> np.ndarray:
    """uint8 (H, W, 4): the paint layer with every indexed pixel painted ``colors[index]`` (paper
    transparent while ``colors[PAPER]`` stays white); ``OFF_PALETTE`` pixels keep ``paint`` (which
    may be None when the index has none: the index alone is then the paint)."""
    check_array(index, "index", np.uint8, ("H", "W"))
    lut = np.zeros((256, 4), np.uint8)                       # (256, 4) RGBA per index
    lut[:len(colors), :3] = colors[:MAX_ENTRIES]
    lut[:len(colors), 3] = 255
    if tuple(colors[PAPER].tolist()) == WHITE:
        lut[PAPER, 3] = 0
    out = lut.view(np.uint32)[:, 0][index].view(np.uint8).reshape(*index.shape, 4)  # (H, W, 4), a word a pixel
    off = cv2.compare(index, OFF_PALETTE, cv2.CMP_EQ)         # (H, W) 255 where the paint decides
    if paint is None:
        if cv2.countNonZero(off):
            raise ValueError("the index layer holds off-palette pixels (255): their paint layer is needed")
        return out
    check_array(paint, "paint", np.uint8, (*index.shape, 4))
    cv2.copyTo(paint, off, out)
    return out


def follow_nearest_entry(index: np.ndarray, paint: np.ndarray, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """The paint layer (uint8 (H, W, 4)) with each off-palette pixel moved as its nearest palette
    pixel's colour moves (``before`` -> ``after``, both (P, 3)), clipped; the other pixels as they are.

    Off-palette paint is mostly a blend at an edge (a key's anti-aliased fill beside its line, pasted
    where the drawing holds still): left as it was, a night palette would show day-coloured specks
    along the outlines. A pixel whose nearest entry keeps its colour keeps its paint bit for bit.
    """
    off = index == OFF_PALETTE                                                  # (H, W)
    indexed = ~off & (index < len(before))
    if not off.any() or not indexed.any():
        return paint
    shift = after.astype(np.int16) - before.astype(np.int16)                    # (P, 3)
    if not shift.any():
        return paint
    nearest = nearest_values(np.where(indexed, index, 0).astype(np.int32), indexed)  # (H, W) entry
    moved = paint.copy()
    rgb = paint[..., :3].astype(np.int16) + shift[nearest]                      # (H, W, 3)
    moved[..., :3][off] = np.clip(rgb[off], 0, 255).astype(np.uint8)
    return moved


def recompose(index: np.ndarray, colors: np.ndarray, paint: np.ndarray | None, ink: np.ndarray,
              trace_painted: bool = False, original: np.ndarray | None = None) -> np.ndarray:
    """uint8 (H, W, 3): the finished frame from its index layer (with ``colors``), paint and ink
    (``trace_painted``: a run with ``--trace-lines paint``, see ``Layers``). ``original``: the colours
    the run was painted with, when ``colors`` replaces some: off-palette paint then follows its
    nearest entry's change (``follow_nearest_entry``)."""
    if paint is not None and original is not None:
        paint = follow_nearest_entry(index, paint, original, colors)
    return Layers(recolored_paint(index, colors, paint), ink, trace_painted=trace_painted).flatten()


def remap(colors: np.ndarray, mapping: Mapping[tuple[int, int, int], tuple[int, int, int]]) -> np.ndarray:
    """``colors`` (P, 3) with each entry found in ``mapping`` (old RGB -> new RGB) replaced."""
    out = colors.copy()
    for i, c in enumerate(colors.tolist()):
        new = mapping.get(tuple(c))
        if new is not None:
            out[i] = new
    return out


def mapped_palettes(palettes: Sequence[np.ndarray | None], mapping: Mapping[str, str],
                    where: str = "the run") -> list[np.ndarray | None]:
    """Each shot's colours (uint8 (P, 3), None: no palette) with ``mapping`` applied: ``"#rrggbb"`` keys
    name a colour in any shot, ``"N"`` entry N of every shot (which must be one colour in all of them).

    A key naming no colour of ``where`` is an InputError listing the palette."""
    used = [p for p in palettes if p is not None]
    listed = list(dict.fromkeys(hex_color(c) for p in used for c in p))
    by_color: dict[tuple[int, int, int], tuple[int, int, int]] = {}
    for key, value in mapping.items():
        new = parse_color(value)
        key = str(key).strip()
        if key.isdigit():
            n = int(key)
            named = {hex_color(p[n]) for p in used if n < len(p)}
            if not named:
                raise InputError(f"index {n} is not in the palette of {where}, which has entries 0 to "
                                 f"{max(len(p) for p in used) - 1}: {', '.join(listed)}")
            if len(named) > 1:
                raise InputError(f"index {n} names different colours in different shots of {where} "
                                 f"({', '.join(sorted(named))}); name the colour instead")
            old = parse_color(named.pop())
        else:
            old = parse_color(key)
            if hex_color(old) not in listed:
                raise InputError(f"colour {hex_color(old)} is not in the palette of {where}, which is "
                                 f"{', '.join(listed)}; map one of those (or an index, 0 = paper)")
        by_color[old] = new
    return [None if p is None else remap(p, by_color) for p in palettes]
