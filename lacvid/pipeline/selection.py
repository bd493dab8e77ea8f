"""``--frames A-B`` and ``--shot N``: which frames a run colours.

After repainting one key an animator recolours only its shot; everything else of the run is
already in the cache (``pipeline.cache``: every shot is keyed by its own keys only, so the
other shots' finished frames stay valid). A frame-folder output then gets only the selected
frames; a video is written whole, the frames outside the selection read from the cache.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lacvid.errors import InputError
from lacvid.shots.detect import Shot

_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


@dataclass(frozen=True)
class FrameSelection:
    """Frames ``start <= t < stop`` (0-based input frame indices); ``None`` selects everything."""

    start: int
    stop: int

    def __contains__(self, index: object) -> bool:
        return isinstance(index, int) and self.start <= index < self.stop

    def shots(self, shots: list[Shot]) -> list[Shot]:
        """The shots that hold at least one selected frame."""
        return [s for s in shots if s.start < self.stop and self.start < s.stop]


def parse_frames(spec: str) -> tuple[int, int]:
    """``"A-B"`` (inclusive, 0-based, as ``lacvid shots`` prints them) or ``"A"`` -> (A, B + 1)."""
    match = _RANGE.match(spec)
    if not match:
        raise InputError(f"--frames {spec!r} is not a frame range; write A-B with 0-based frame numbers, e.g. "
                         "--frames 48-95")
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) is not None else first
    if last < first:
        raise InputError(f"--frames {spec!r} ends before it starts; write A-B with A <= B")
    return first, last + 1


def select(frames: str | None, shot: int | None, shots: list[Shot], n_frames: int) -> FrameSelection | None:
    """The selection ``--frames`` and ``--shot`` ask for (both: the frames in both), checked against the input."""
    if frames is None and shot is None:
        return None
    start, stop = 0, n_frames
    if shot is not None:
        if not 1 <= shot <= len(shots):
            raise InputError(f"--shot {shot} does not exist: the input has {len(shots)} shot(s), numbered from 1 "
                             "as lacvid shots lists them")
        start, stop = shots[shot - 1].start, shots[shot - 1].stop
    if frames is not None:
        first, end = parse_frames(frames)
        if first >= n_frames:
            raise InputError(f"--frames {frames} starts after the last frame: the input has frames 0 to "
                             f"{n_frames - 1}")
        start, stop = max(start, first), min(stop, end)
        if start >= stop:
            raise InputError(f"--frames {frames} holds no frame of shot {shot}; choose frames inside it")
    return FrameSelection(start, stop)


def frames_of(shot: Shot, selection: FrameSelection | None) -> range:
    """The frames of ``shot`` a run colours: all of them, or those ``selection`` holds."""
    if selection is None:
        return range(shot.start, shot.stop)
    return range(max(shot.start, selection.start), min(shot.stop, selection.stop))
