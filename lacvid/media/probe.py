"""What a clip is before it is decoded: size, frame rate, frame count, audio (``probe``).

A clip is a video file (any container FFmpeg reads, through PyAV) or a folder of frames in
natural order. User-caused failures raise ``MediaError`` with one sentence naming the path
and what to do; FFmpeg exceptions never escape.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np

from lacvid.errors import MediaError
from lacvid.media.images import IMAGE_SUFFIXES, list_images, read_image, special_kind

DEFAULT_FPS = Fraction(24)


@dataclass(frozen=True)
class Frame:
    """One decoded frame: its position in the clip, its time, its pixels and a file name."""

    index: int
    time: float | None  # seconds from the start of the stream; None for frame directories
    image: np.ndarray  # uint8 RGB (H, W, 3)
    name: str  # the source file name for frame directories, f"{index:06d}.png" for videos


@dataclass
class MediaInfo:
    """What ``probe`` learns about a clip without decoding all of it."""

    path: Path
    kind: str  # "video" or "frames"
    width: int
    height: int
    fps: Fraction | None  # None: unknown (frame directories carry no rate)
    frame_count: int | None  # None: the container does not say (e.g. Matroska/WebM)
    time_base: Fraction | None
    audio_streams: int
    names: list[str] | None = None  # frame-directory file names in natural order


def parse_fps(text: str | float | Fraction) -> Fraction:
    """``24``, ``23.976`` or ``24000/1001`` -> an exact Fraction (NTSC decimals snap to N*1000/1001)."""
    try:
        if isinstance(text, Fraction):
            fps = text
        elif isinstance(text, str) and "/" in text:
            num, den = text.split("/", 1)
            fps = Fraction(int(num), int(den))
        else:
            value = float(text)
            fps = Fraction(str(value)) if isinstance(text, str) else Fraction(value).limit_denominator(1001)
            ntsc = Fraction(round(value * 1.001 / 1000 * 1000) * 1000, 1001)  # e.g. 23.976 -> 24000/1001
            if fps.denominator != 1 and ntsc and abs(float(ntsc) - value) < 0.0006:
                fps = ntsc
    except (ValueError, ZeroDivisionError) as exc:
        raise ValueError(f"frame rate {text!r} is not a number; give e.g. 24, 23.976 or 24000/1001") from exc
    if fps <= 0 or fps > 1000:
        raise ValueError(f"frame rate {text!r} is out of range; give e.g. 24, 23.976 or 24000/1001")
    return fps

def open_video(path: Path) -> Any:
    try:
        return av.open(str(path), mode="r")
    except av.error.FFmpegError as exc:
        raise MediaError(f"cannot read {path} as a video ({reason(exc)}); check it is a complete video file "
                         "FFmpeg can decode") from exc


def reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return " ".join(str(text).split())[:200]


def check_exists(path: Path) -> None:
    """The input exists and is a file or a folder (a FIFO would block the first read, silently)."""
    if not path.exists():
        raise MediaError(f"input {path} does not exist; check the path")
    kind = special_kind(path)
    if kind is not None:
        raise MediaError(f"input {path} is {kind}, not a video file or frame folder; lacvid reads its input "
                         "more than once, so save the stream to a file first (e.g. ffmpeg -i - -c copy clip.mkv)")


def probe(path: Path | str) -> MediaInfo:
    """Size, frame rate, frame count (when the container says), time base and audio of a clip.

    Reads the container header (or, for a frame directory, the listing and the first image);
    it never decodes the whole clip.
    """
    path = Path(path)
    check_exists(path)
    if path.is_dir():
        names = list_images(path)
        if not names:
            raise MediaError(f"frame folder {path} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); "
                             "point at a folder of frames or a video file")
        first = read_image(path / names[0])
        return MediaInfo(path=path, kind="frames", width=first.shape[1], height=first.shape[0], fps=None,
                         frame_count=len(names), time_base=None, audio_streams=0, names=names)
    with open_video(path) as container:
        if not container.streams.video:
            raise MediaError(f"{path} has no video stream; give a video file or a folder of frames")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        if not ctx.width or not ctx.height:
            raise MediaError(f"cannot find the frame size of {path}; the file is corrupt or truncated, "
                             "so re-export or re-mux it")
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        return MediaInfo(
            path=path, kind="video", width=ctx.width, height=ctx.height,
            fps=Fraction(rate) if rate else None,
            frame_count=int(stream.frames) if stream.frames else None,
            time_base=Fraction(stream.time_base) if stream.time_base else None,
            audio_streams=len(container.streams.audio),
        )
