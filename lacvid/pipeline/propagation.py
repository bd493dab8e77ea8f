"""Pass 2b of colorize, per shot of a drawing: region colours propagated from the painted keys.

Runs on line-art inputs (``lacvid.propagate``): every frame's regions get one colour of the
keys' palette and a confidence, carried frame to frame from both ends of the shot. The result
is cached per frame at the matching size, as RGB plus confidence (the fourth channel), and
joins the network's color in ``compose``: where the propagation is confident its colours
decide, where no key shows a region (a character entering between keys that both lack it),
the network speaks.
"""

from __future__ import annotations

import numpy as np

from lacvid.pipeline.cache import PrepEntry
from lacvid.preprocess.frame import resize_to
from lacvid.propagate import PropagationSettings, ShotPropagation
from lacvid.shots.detect import Shot
from lacvid.util.store import FrameArrays

MATCH_SIZE = 576   # short side the matching works at (never upscaled): eyes and buttons survive
INK_BELOW = 245    # normalised line art below this (after resizing to the matching size) is ink


def match_size(height: int, width: int, size: int = MATCH_SIZE) -> tuple[int, int]:
    """(h, w) with the short side ``size`` at most, aspect kept (no rounding: no network sees it)."""
    scale = min(1.0, size / min(height, width))
    return max(8, int(round(height * scale))), max(8, int(round(width * scale)))


class ShotPropagator:
    """Propagates one shot at a time and writes its frames into ``out`` (RGB + confidence)."""

    def __init__(self, prep: PrepEntry, out: FrameArrays, size: tuple[int, int],
                 settings: PropagationSettings = PropagationSettings()) -> None:
        self.prep, self.out, self.size, self.settings = prep, out, size, settings

    def run(self, shot: Shot, keys_full: dict[int, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Every frame of ``shot`` that is not a key and not yet cached; returns the shot's palette
        (uint8 (P, 3)) and which of its colours the keys paint flat (bool (P,), ``propagate.palette``)."""
        todo = [t for t in range(shot.start, shot.stop) if t not in keys_full and not self.out.is_done(t)]
        stored = self.out.group.attrs.get(f"palette-{shot.start}")
        flat = self.out.group.attrs.get(f"flat-{shot.start}")
        if not todo and stored is not None and flat is not None:
            return np.array(stored, np.uint8).reshape(-1, 3), np.array(flat, bool)
        masks = [resize_to(self.prep.frames.get("lines_full", t), self.size) < INK_BELOW
                 for t in range(shot.start, shot.stop)]                                   # (h, w) bool each
        keys = {t - shot.start: resize_to(key, self.size) for t, key in keys_full.items()}  # (h, w, 3) each
        propagation = ShotPropagation(masks, keys, self.settings)
        # The palette first: the frames' done flags below vouch for it.
        self.out.group.attrs[f"palette-{shot.start}"] = propagation.palette.tolist()
        self.out.group.attrs[f"flat-{shot.start}"] = propagation.flat.tolist()
        for local, colors in propagation.run().items():
            t = shot.start + local
            if t in todo:
                conf = np.rint(colors.confidence() * 255).astype(np.uint8)                # (h, w)
                self.out.put(t, rgb=np.dstack([colors.image(propagation.palette), conf]))  # (h, w, 4)
        return propagation.palette, propagation.flat
