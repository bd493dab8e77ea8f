"""Streaming frames out of a video file or a frame folder, one at a time, in order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av.error

from lacvid.errors import MediaError
from lacvid.media.images import read_image
from lacvid.media.probe import Frame, MediaInfo, open_video, probe, reason
from lacvid.progress import NULL_PROGRESS, Progress, warn
from lacvid.util.cpus import thread_limit


def read_frames(path: Path | str, *, start: int = 0, stop: int | None = None,
                progress: Progress = NULL_PROGRESS) -> Iterator[Frame]:
    """Yield frames ``start <= index < stop`` of a video file or a frame directory, in order.

    Streams one frame at a time. Frames before ``start`` are decoded and dropped (not seeked):
    exact frame indices matter more here than skipping speed. A video read to its end is
    checked against its container (``check_complete``): one cut short is a warning on
    ``progress``, one missing frames in the middle a ``MediaError``.
    """
    path = Path(path)
    if start < 0 or (stop is not None and stop < start):
        raise ValueError(f"bad frame range start={start} stop={stop}")
    info = probe(path)
    if info.kind == "frames":
        yield from _read_frame_dir(info, start, stop)
    else:
        yield from _read_video(path, start, stop, progress)


def _read_frame_dir(info: MediaInfo, start: int, stop: int | None) -> Iterator[Frame]:
    assert info.names is not None
    for index, name in enumerate(info.names[start:stop], start=start):
        image = read_image(info.path / name)
        if image.shape[:2] != (info.height, info.width):
            raise MediaError(f"frame {info.path / name} is {image.shape[1]}x{image.shape[0]} but "
                             f"{info.names[0]} is {info.width}x{info.height}; every frame in a folder "
                             "must have the same size, so resize or remove it")
        yield Frame(index=index, time=None, image=image, name=name)


def _read_video(path: Path, start: int, stop: int | None, progress: Progress) -> Iterator[Frame]:
    with open_video(path) as container:
        stream = container.streams.video[0]
        # Frame + slice threads: several times faster on long clips. Frame threading ends a
        # truncated stream quietly (slice threading raises), hence check_complete below.
        stream.thread_type = "AUTO"
        # FFmpeg's own count for decoders (CPUs + 1), on the CPUs lacvid may use (--threads) rather
        # than every core; at least 3, as with 1 or 2 a truncated H.264 stream raises instead of ending
        # quietly (measured), so it ends the same way whatever --threads is.
        stream.thread_count = max(3, thread_limit() + 1)
        index = 0
        times: list[float] = []
        try:
            for vframe in container.decode(stream):
                if stop is not None and index >= stop:
                    return
                if vframe.time is not None:
                    times.append(float(vframe.time))
                if index >= start:
                    yield Frame(index=index, time=vframe.time, image=vframe.to_ndarray(format="rgb24"),
                                name=f"{index:06d}.png")
                index += 1
        except av.error.FFmpegError as exc:
            raise MediaError(f"video {path} fails to decode after frame {index} ({reason(exc)}); it is truncated "
                             "or corrupt, so re-export or re-mux it") from exc
        if index == 0:
            raise MediaError(f"video {path} holds no decodable frames; it is truncated or corrupt, so re-export it")
        check_complete(path, index, times, _container_count(container, stream), progress)


def _container_count(container: object, stream: object) -> tuple[int | None, float | None, float | None]:
    """(frames the container lists, frames its duration holds, seconds per frame), each None when unknown."""
    listed = int(stream.frames) if stream.frames else None  # type: ignore[attr-defined]
    rate = stream.average_rate or stream.guessed_rate  # type: ignore[attr-defined]
    seconds = None
    if stream.duration and stream.time_base:  # type: ignore[attr-defined]
        seconds = float(stream.duration * stream.time_base)  # type: ignore[attr-defined]
    elif container.duration:  # type: ignore[attr-defined]
        seconds = container.duration / 1_000_000  # type: ignore[attr-defined]
    by_time = round(seconds * float(rate)) if seconds and rate else None
    return listed, by_time, (1 / float(rate) if rate else None)


def check_complete(path: Path, decoded: int, times: list[float],
                   container: tuple[int | None, float | None, float | None], progress: Progress) -> None:
    """Compare the frames decoded with what the container promises.

    Short at the end (a file cut short, whose index still lists every frame): a warning naming
    both counts, as the frames read are right. Short because frames are missing in the middle
    (gaps in the timestamps, or the last frame reaching the end of the stream): a MediaError,
    as every later frame would be off by the gap.
    """
    listed, by_time, step = container
    expected = listed if listed is not None else by_time
    if expected is None or decoded >= expected or (listed is None and decoded >= expected - 1):
        return
    gaps = [(i, b - a) for i, (a, b) in enumerate(zip(times, times[1:])) if step and b - a > 1.5 * step]
    reaches_end = bool(step and times and by_time and times[-1] - times[0] >= (by_time - 1.5) * step)
    if gaps or reaches_end:
        where = f" (a gap after frame {gaps[0][0]})" if gaps else ""
        raise MediaError(f"video {path} is missing frames in the middle: {decoded} decoded but its container "
                         f"says {expected}{where}; every later frame would be misplaced, so re-export or re-mux it")
    warn(progress, f"video {path} ends after {decoded} frames but its container says {expected}; it is "
                   f"probably cut short, so only the first {decoded} frames are used (re-export it for all)")
