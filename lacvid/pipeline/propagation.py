"""Pass 2b of colorize, per shot of a drawing: region colours propagated from the painted keys.

Runs on line-art inputs (``lacvid.propagate``): every frame's regions get one colour of the
keys' palette and a confidence, carried frame to frame from both ends of the shot. The result
is cached per frame at the matching size, as RGB plus confidence (the fourth channel), and
joins the network's color in ``compose``: where the propagation is confident its colours
decide, where no key shows a region (a character entering between keys that both lack it),
the network speaks.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from collections.abc import Collection, Sequence
from pathlib import Path

import cv2
import numpy as np

from lacvid.errors import CacheError, disk_full, is_disk_full
from lacvid.pipeline.cache import PrepEntry
from lacvid.preprocess.frame import resize_to
from lacvid.propagate import FrameColors, PropagationSettings, ShotPropagation
from lacvid.propagate.segments import Segments
from lacvid.shots.detect import Shot
from lacvid.util.store import FrameArrays

MATCH_SIZE = 576   # short side the matching works at (never upscaled): eyes and buttons survive
INK_BELOW = 245    # normalised line art below this is ink (at full size: ``ink_at_size``)
# A matching pixel is ink when full-size ink covers at least this share of what a line one full-size pixel
# wide crossing it would, or at least ``CREST_COVER`` of it where the pixel is the crest of a fainter stroke
# (``ink_at_size``).
LINE_COVER = 0.5
CREST_COVER = 0.25
SPILL_PREFIX = ".propagate-spill-"  # a shot's matching data while it propagates (removed when it is done)


def match_size(height: int, width: int, size: int = MATCH_SIZE) -> tuple[int, int]:
    """(h, w) with the short side ``size`` at most, aspect kept (no rounding: no network sees it)."""
    scale = min(1.0, size / min(height, width))
    return max(8, int(round(height * scale))), max(8, int(round(width * scale)))


def ink_at_size(lines_full: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """bool (h, w): the ink of normalised line art (uint8 (H, W), ``INK_BELOW``) at the matching size ``size``.

    Each stroke keeps its own width. Ink is decided at full size and each matching pixel reads the share of
    it that it covers: the pixel is ink when that share is at least half of what a line one full-size pixel
    wide would cover (``LINE_COVER`` x the scale), or a quarter of it (``CREST_COVER``) where the pixel is the
    stroke's crest (no neighbour on one side or the other, left-right or up-down, holds more, and one holds
    less): a faint or broken pencil stroke stays a line one pixel wide, not a gap, and fainter traces stay
    paper. Thresholding the area-resized grey at ``INK_BELOW``, as before, made every stroke about a matching
    pixel wider on each side, which filled narrow strips between strokes and ran regions together;
    thresholding the share alone broke faint pencil (a generated stress shot at 1080 px: its sky leaked into
    the globe). Frames no larger than the matching size are not resized and keep their ink as is.
    """
    ink = lines_full < INK_BELOW                                                            # (H, W) bool
    if ink.shape == tuple(size):
        return ink
    scale = min(1.0, size[0] / ink.shape[0], size[1] / ink.shape[1])
    cover = cv2.resize(ink.astype(np.float32), (size[1], size[0]), interpolation=cv2.INTER_AREA)  # (h, w) ink share
    strong = cover >= LINE_COVER * scale
    around = np.pad(cover, 1)                                                               # (h + 2, w + 2), 0 outside
    left, right = around[1:-1, :-2], around[1:-1, 2:]
    up, down = around[:-2, 1:-1], around[2:, 1:-1]
    crest_x = (cover >= left) & (cover >= right) & ((cover > left) | (cover > right))
    crest_y = (cover >= up) & (cover >= down) & ((cover > up) | (cover > down))
    return strong | ((cover >= CREST_COVER * scale) & (crest_x | crest_y))


class _Masks(Sequence):
    """A shot's ink masks at the matching size, each read from the cache when asked for (once a frame:
    ``ShotPropagation`` segments a frame once), so a long shot never holds them all."""

    def __init__(self, prep: PrepEntry, shot: Shot, size: tuple[int, int]) -> None:
        self.prep, self.shot, self.size = prep, shot, size

    def __len__(self) -> int:
        return self.shot.stop - self.shot.start

    def __getitem__(self, local: int) -> np.ndarray:  # type: ignore[override]
        if not 0 <= local < len(self):
            raise IndexError(local)
        return ink_at_size(self.prep.frames.get("lines_full", self.shot.start + local), self.size)  # (h, w)


class SpilledFrames:
    """A ``propagate.shot.FrameStore`` on disk: each frame's regions and flow field written once as
    ``.npy`` files (uncompressed: a 576 px frame in a few ms) and read back when a chain reaches it,
    so a shot's propagation holds a few frames in memory whatever its length."""

    FIELDS = ("labels", "interior", "area", "dist")

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, t: int, name: str) -> Path:
        return self.folder / f"{t}-{name}.npy"

    def get(self, t: int) -> tuple[Segments, np.ndarray] | None:
        if not self._path(t, "field").is_file():  # written last: present means complete
            return None
        labels, interior, area, dist = (np.load(self._path(t, name)) for name in self.FIELDS)
        return Segments(labels, len(area), interior, area, dist), np.load(self._path(t, "field"))

    def put(self, t: int, segments: Segments, field: np.ndarray) -> None:
        try:
            for name in self.FIELDS:
                np.save(self._path(t, name), getattr(segments, name))
            np.save(self._path(t, "field"), field)
        except OSError as exc:
            if is_disk_full(exc):  # one frame's worth is what it failed on
                needed = sum(getattr(segments, name).nbytes for name in self.FIELDS) + field.nbytes
                raise disk_full(self.folder, needed, "pass --cache DIR on another disk") from exc
            raise CacheError(f"cannot write the propagation's working files in {self.folder} "
                             f"({exc.strerror or exc}); pass --cache DIR with a writable folder") from exc


class ShotPropagator:
    """Propagates one shot at a time and writes its frames into ``out`` (RGB + confidence).

    ``spill``: a folder (the run's cache folder) to keep the frames' matching data in, in a temporary
    folder of its own, while the chains walk: memory then stays flat in the shot's length (None: in
    memory, the whole shot at once).
    """

    def __init__(self, prep: PrepEntry, out: FrameArrays, size: tuple[int, int],
                 settings: PropagationSettings = PropagationSettings(), spill: Path | None = None,
                 repeats: Collection[int] = ()) -> None:
        self.prep, self.out, self.size, self.settings, self.spill = prep, out, size, settings, spill
        self.repeats = repeats  # frames whose line art is the previous frame's (``PrepEntry.repeats``)

    def run(self, shot: Shot, keys_full: dict[int, np.ndarray], stop: threading.Event | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
        """Every frame of ``shot`` that is not a key and not yet cached; returns the shot's palette
        (uint8 (P, 3)) and which of its colours the keys paint flat (bool (P,), ``propagate.palette``).
        ``stop``: set from another thread to end the chains early (``ShotPropagation.run``): the frames
        not yet written are left undone."""
        todo = [t for t in range(shot.start, shot.stop) if t not in keys_full and not self.out.is_done(t)]
        stored = self.out.group.attrs.get(f"palette-{shot.start}")
        flat = self.out.group.attrs.get(f"flat-{shot.start}")
        if not todo and stored is not None and flat is not None:
            return np.array(stored, np.uint8).reshape(-1, 3), np.array(flat, bool)
        keys = {t - shot.start: resize_to(key, self.size) for t, key in keys_full.items()}  # (h, w, 3) each
        with contextlib.ExitStack() as stack:
            store = None
            if self.spill is not None:
                folder = stack.enter_context(tempfile.TemporaryDirectory(prefix=SPILL_PREFIX, dir=self.spill))
                store = SpilledFrames(Path(folder))
            propagation = ShotPropagation(_Masks(self.prep, shot, self.size), keys, self.settings, store,
                                          repeats={t - shot.start for t in self.repeats if t in shot})
            # The palette first: the frames' done flags below vouch for it.
            self.out.group.attrs[f"palette-{shot.start}"] = propagation.palette.tolist()
            self.out.group.attrs[f"flat-{shot.start}"] = propagation.flat.tolist()

            def put(local: int, colors: FrameColors) -> None:  # each frame as soon as its chains are done
                t = shot.start + local  # (from the chains' threads: FrameArrays takes their puts side by side)
                if t in todo:
                    self.out.put(t, rgb=colors.rgba(propagation.palette))                     # (h, w, 4)

            propagation.run(emit=put, stop=stop)
        return propagation.palette, propagation.flat
