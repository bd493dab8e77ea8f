"""The artist's ink, measured once per clip: what is ink, what is a coloured line, how to keep it.

Artists export thin, faint, anti-aliased pencil (ink as light as grey 220 on white), lines in
blue or red that bound shadow and highlight areas, scans with tinted paper, inverted drawings.
An ``InkModel`` is fitted once per clip (never per frame: per-frame thresholds flicker where a
frame holds little ink) and turns each drawn frame into

- ``strength``: darkness relative to the clip's paper in the strongest channel (so blue or red
  pencil is ink too), 0 on paper;
- ``mask``: ink for matching and regions, by hysteresis: a faint stroke is ink when it touches a
  confident one, isolated paper grain is not;
- ``colored``: the coloured-line class (cel convention: shadow and highlight boundaries), told
  by the chroma of the *strong* pixels and spread to the anti-aliased fringe;
- what ``lacvid.compose.layers`` needs to put the ink back exactly as drawn over the paint.

The matching sees ``line_art``: the mask with every stroke at full contrast (faint lines no
longer vanish at a threshold of 128); the output keeps the ink as the artist drew it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

import cv2
import numpy as np

from lacvid.preprocess.distance import nearest_values
from lacvid.util.kernels import ink_alpha, ink_classes, ink_hysteresis, line_art_levels, local_darkness, paper_levels

__all__ = ["INK_LEVEL", "InkSettings", "InkModel", "InkFrame", "as_rgb", "halved_chroma", "mask_of"]

INK_LEVEL = 120  # the lightest ink in normalised line art: below the contract's ink threshold (128)
PAPER_FLOOR = 0.8  # uneven light: paper may fall to this share of the clip's paper level


@dataclass(frozen=True)
class InkSettings:
    low: float = 0.10       # darkness (share of paper) that is ink when it touches strong ink: grey ~230 ...
    low_rel: float = 0.5    # ... or half the clip's stroke darkness when that is lower (an all-pencil clip)
    high_rel: float = 0.45  # strong ink: darkness >= high_rel x the clip's typical stroke darkness
    min_chroma: float = 10.0  # strong ink whose darkening (share of the paper) differs across channels by this
    min_spread: float = 0.15  # many 255ths, and by this share of the largest, is a coloured line (ink_classes)
    speck_area: int = 3       # faint isolated specks smaller than this (px) are paper grain
    grain_reach: int = 2      # px: darkness fainter than ink and farther than this from it is paper grain


@dataclass(frozen=True)
class InkFrame:
    """One frame's ink (all (H, W))."""

    strength: np.ndarray  # float32 in [0, 1]: darkness / paper, 0 = paper (and paper grain away from the ink)
    mask: np.ndarray      # bool: ink for matching and regions
    colored: np.ndarray   # bool: ink of a coloured line
    ink_rgb: np.ndarray   # uint8 (H, W, 3): the unmixed ink colour (nearest strong ink pixel); read only where
    #                       ``colored`` (black everywhere in a frame with no coloured line)
    alpha: np.ndarray     # float32 in [0, 1]: coverage of ``ink_rgb`` over the paint, read only where ``colored``


def as_rgb(frame: np.ndarray) -> np.ndarray:
    """Line art as given (grey ``(H, W)`` or RGB ``(H, W, 3)`` uint8) -> RGB uint8."""
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
    if frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8:
        return frame
    raise ValueError(f"line art must be uint8 (H, W) or (H, W, 3), got {frame.dtype} {frame.shape}")


def mask_of(line_art: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """bool (H, W): the ink mask ``InkModel.line_art`` drew ``line_art`` from. It maps every mask pixel to
    0..``INK_LEVEL`` and every other pixel to 255, so the mask is exactly where it is below 255."""
    if line_art.shape != tuple(shape[:2]) or line_art.dtype != np.uint8:
        raise ValueError(f"line art must be uint8 {tuple(shape[:2])} (this frame's InkModel.line_art), "
                         f"got {line_art.dtype} {line_art.shape}")
    return line_art < 255


@dataclass(frozen=True)
class InkModel:
    """One clip's paper and stroke levels (``fit``), applied to each of its frames (``frame``)."""

    paper: tuple[float, float, float]  # the paper's colour (after inversion, when inverted)
    stroke: float                      # a typical stroke's darkness, in [0, 1]
    inverted: bool = False             # light lines on dark paper
    settings: InkSettings = InkSettings()
    halved_chroma: bool = False        # its colour was kept at half resolution (4:2:0 video): ``halved_chroma``

    @classmethod
    def fit(cls, frames: Sequence[np.ndarray], settings: InkSettings = InkSettings()) -> InkModel:
        """Fit on a sample of the clip's drawn frames (a dozen is plenty)."""
        if not frames:
            raise ValueError("fitting the ink needs at least one frame")
        rgb = [as_rgb(f) for f in frames]
        sample = np.concatenate([f[::3, ::3].reshape(-1, 3) for f in rgb]).astype(np.float32)  # (N, 3)
        inverted = float(np.median(sample)) < 128  # paper is most of a drawing
        if inverted:
            sample = 255.0 - sample
        paper = np.maximum(np.percentile(sample, 90, axis=0), 1.0)  # (3,)
        dark = np.clip(((paper - sample) / paper).max(axis=1), 0.0, 1.0)  # (N,)
        inked = dark[dark > settings.low]
        stroke = float(np.percentile(inked, 90)) if inked.size else 1.0
        return cls(tuple(float(p) for p in paper), max(stroke, settings.low), inverted, settings,
                   halved_chroma(rgb[0]))

    def to_dict(self) -> dict:
        """JSON-able, for the cache: a resumed run uses the very model the first run fitted."""
        return {"paper": list(self.paper), "stroke": self.stroke, "inverted": self.inverted,
                "settings": asdict(self.settings), "halved_chroma": self.halved_chroma}

    @classmethod
    def from_dict(cls, data: dict) -> InkModel:
        known = {f.name for f in fields(InkSettings)}  # a setting an older lacvid wrote and this one dropped
        return cls(tuple(data["paper"]), float(data["stroke"]), bool(data["inverted"]),
                   InkSettings(**{k: v for k, v in data["settings"].items() if k in known}),
                   bool(data.get("halved_chroma", False)))

    @property
    def strong_level(self) -> float:
        """Darkness of confident ink: a share of the clip's own stroke, so an all-pencil clip has strong ink too."""
        return max(self.weak_level, self.settings.high_rel * self.stroke)

    @property
    def weak_level(self) -> float:
        """Darkness that is ink when it touches confident ink: lower for a clip drawn in faint pencil."""
        return min(self.settings.low, self.settings.low_rel * self.stroke)

    def _upright(self, frame: np.ndarray) -> np.ndarray:
        rgb = as_rgb(frame)
        return 255 - rgb if self.inverted else rgb

    def paper_at(self, rgb: np.ndarray) -> np.ndarray:
        """The paper's colour under every pixel, float32 (H, W, 3): the clip's paper, lowered where a
        scan's light falls off (a max filter over a window much wider than any stroke, blurred), but
        never below ``PAPER_FLOOR`` of it, so a large inked fill stays ink."""
        return self._paper(self._local_light(rgb))

    def _paper(self, local: np.ndarray) -> np.ndarray:
        """float32 (H, W, 3): ``paper_at`` from its ``_local_light``, clipped to [floor, paper]."""
        return paper_levels(local, *self._paper_bounds())

    def _paper_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """float32 (3,) each: the lowest and the highest paper level (``paper_at``'s clip)."""
        paper = np.asarray(self.paper, np.float32)
        return PAPER_FLOOR * paper, paper

    @staticmethod
    def _local_light(rgb: np.ndarray) -> np.ndarray:
        """uint8 (H, W, 3): the light under every pixel before ``paper_at`` clips it."""
        h, w = rgb.shape[:2]
        small = cv2.resize(rgb, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA)
        win = max(3, (min(h, w) // 48) | 1)  # ~ 1/6 of the short side at full size
        local = cv2.blur(cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_RECT, (win, win))), (win, win))
        return np.ascontiguousarray(cv2.resize(local, (w, h), interpolation=cv2.INTER_LINEAR))  # (H, W, 3)

    def _darkness(self, rgb: np.ndarray, local: np.ndarray) -> np.ndarray:
        """float32 (H, W): (paper - rgb) / paper in the darkest channel, the paper ``paper_at``'s (from its
        ``_local_light``), without making it: only a coloured line's alpha reads it."""
        return local_darkness(np.ascontiguousarray(rgb), local, *self._paper_bounds())

    def _mask(self, dark: np.ndarray) -> np.ndarray:
        """bool (H, W): the ink, by hysteresis: darkness at ``weak_level`` that touches ``strong_level``, or a long
        faint stroke on its own (12 px or ``speck_area``)."""
        return ink_hysteresis(np.ascontiguousarray(dark, np.float32), self.weak_level, self.strong_level,
                              max(self.settings.speck_area, 12))

    def _measure(self, frame: np.ndarray, line_art: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(upright RGB, light under each pixel (``_local_light``), darkness, ink mask) of one drawn frame; the
        mask read from ``line_art`` when given (``mask_of``)."""
        rgb = self._upright(frame)
        local = self._local_light(rgb)                                  # (H, W, 3) uint8
        dark = self._darkness(rgb, local)                               # (H, W)
        return rgb, local, dark, self._mask(dark) if line_art is None else mask_of(line_art, dark.shape)

    def line_art(self, frame: np.ndarray) -> np.ndarray:
        """What the matching sees: uint8 (H, W), 255 paper, every pixel of the mask ink.

        Mask pixels map to 0..INK_LEVEL by their darkness relative to the clip's stroke, so the
        faintest stroke is still ink for every consumer of the contract's threshold (128) and the
        anti-aliasing stays in the ramp.
        """
        _, _, dark, mask = self._measure(frame)
        return line_art_levels(dark, np.ascontiguousarray(mask), self.stroke, INK_LEVEL)  # (H, W) uint8

    def frame(self, frame: np.ndarray, line_art: np.ndarray | None = None) -> InkFrame:
        """The ink of one drawn frame, for compositing it over paint as drawn.

        ``line_art``: this model's ``line_art`` of this very frame, when the caller has it (colorize
        cached it in its scan): its ink mask is then read from it instead of measured again (the
        hysteresis, ~11 ms of the ~40 a 1080p frame takes; the same mask, bit for bit)."""
        rgb, local, dark, mask = self._measure(frame, line_art)
        self._clear_grain(dark, mask)
        strong = dark >= self.strong_level
        ink_rgb, colored = self._ink_colors(rgb, strong, mask)
        if colored.any():  # (H, W): projection on paper -> ink, read where a line is coloured
            paper = self._paper(local)                                     # (H, W, 3) float32, as paper_at
            alpha = ink_alpha(np.ascontiguousarray(rgb), paper, ink_rgb, dark, 0.02)
        else:
            alpha = np.zeros(mask.shape, np.float32)
        return InkFrame(dark.astype(np.float32, copy=False), mask, colored, ink_rgb, alpha)  # float32 already: no copy

    def _clear_grain(self, dark: np.ndarray, mask: np.ndarray) -> None:
        """Zero ``dark`` (float32 (H, W), in place) where it is fainter than ink (``weak_level``) and farther
        than ``grain_reach`` px from the ink ``mask``.

        A scan's paper grain is faint darkness no stroke touches: the mask's hysteresis already leaves it
        out, but as the ink layer's alpha it would still darken the paint under it in a speckle that differs
        from frame to frame (a flicker in every flat fill). The anti-aliased fringe of a stroke lies next to
        the mask and keeps its darkness; so does a small mark as dark as ink (a freckle, a dot of a pupil)
        that the mask leaves out for being small. A clean digital export has no faint darkness away from
        its strokes, so nothing changes there."""
        reach = self.settings.grain_reach
        if reach <= 0:
            return
        window = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * reach + 1, 2 * reach + 1))
        keep = cv2.dilate(np.ascontiguousarray(mask).view(np.uint8), window)   # (H, W) 1 within reach of ink
        keep |= (dark >= self.weak_level).view(np.uint8)
        np.multiply(dark, keep, out=dark)

    def _ink_colors(self, rgb: np.ndarray, strong: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each pixel's unmixed ink colour and coloured-line class, from its nearest strong pixel
        (anti-aliased fringes are too diluted to classify on their own)."""
        if not strong.any():
            return np.zeros_like(rgb), np.zeros(mask.shape, bool)
        s = self.settings
        # Colour and class (strong ink of a coloured line: its darkening unbalanced across channels) packed
        # in one int32 per pixel, so the nearest strong pixel's are one gather.
        classes, coloured_pixels = ink_classes(np.ascontiguousarray(rgb), np.ascontiguousarray(strong),
                                               np.asarray(self.paper, np.float32), s.min_chroma, s.min_spread,
                                               self.halved_chroma)
        if not coloured_pixels:
            # No strong pixel is of a coloured line (black or grey ink only): no pixel's nearest strong pixel
            # is one, so ``colored`` is empty and the ink colours are never read; the nearest-pixel search
            # (a labelled distance transform of the whole frame, ~75 ms at 1080p) would change nothing.
            return np.zeros_like(rgb), np.zeros(mask.shape, bool)
        packed = classes.view(np.int32)                                 # (H, W, 1)
        near = nearest_values(packed[..., 0], strong).view(np.uint8).reshape(rgb.shape[:2] + (4,))  # (H, W, 4)
        return np.ascontiguousarray(near[..., :3]), near[..., 3].astype(bool) & mask


HALVED_RATIO = 0.6    # chroma steps within 2x2 blocks below this share of those across blocks: 4:2:0 (measured 0.2-0.4
#                       on H.264 exports of drawings with coloured lines, 0.96-1.0 on the same drawings as PNG)
MIN_CHROMA_STEP = 0.05  # mean chroma step (levels) across blocks below which a drawing has too little colour to tell


def halved_chroma(rgb: np.ndarray) -> bool:
    """Whether a drawing's colour was kept at half resolution, as a 4:2:0 video keeps it (x264's default): its
    chroma changes little between the two pixels of an aligned 2x2 block, and as much as luma does only
    between blocks. Then a thin coloured line has lost most of its colour to the paper beside it, and its
    class is read over the neighbourhood that took it (``util.kernels.ink_classes``). A drawing with little
    colour anywhere (black or grey ink only) says nothing, and counts as full resolution."""
    f = as_rgb(rgb).astype(np.float32)                                                   # (H, W, 3)
    luma = 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]
    h, w = luma.shape
    h, w = h - h % 2 - 2, w - w % 2 - 2
    if h < 2 or w < 2:
        return False
    within = across = 0.0
    for chroma in (f[..., 2] - luma, f[..., 0] - luma):                                  # (H, W) each
        within += float(np.abs(chroma[0:h:2, :w] - chroma[1:h:2, :w]).sum()
                        + np.abs(chroma[:h, 0:w:2] - chroma[:h, 1:w:2]).sum())
        across += float(np.abs(chroma[1:h:2, :w] - chroma[2:h + 1:2, :w]).sum()
                        + np.abs(chroma[:h, 1:w:2] - chroma[:h, 2:w + 1:2]).sum())
    if across < MIN_CHROMA_STEP * 2 * h * w:
        return False
    return within < HALVED_RATIO * across
