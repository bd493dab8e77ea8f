"""Streaming frames out of a video file or a frame folder, one at a time, in order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av.error

from lacvid.errors import MediaError
from lacvid.media.images import read_image
from lacvid.media.probe import Frame, MediaInfo, open_video, probe, reason


def read_frames(path: Path | str, *, start: int = 0, stop: int | None = None) -> Iterator[Frame]:
    """Yield frames ``start <= index < stop`` of a video file or a frame directory, in order.

    Streams one frame at a time. Frames before ``start`` are decoded and dropped (not seeked):
    exact frame indices matter more here than skipping speed.
    """
    path = Path(path)
    if start < 0 or (stop is not None and stop < start):
        raise ValueError(f"bad frame range start={start} stop={stop}")
    info = probe(path)
    if info.kind == "frames":
        yield from _read_frame_dir(info, start, stop)
    else:
        yield from _read_video(path, start, stop)


def _read_frame_dir(info: MediaInfo, start: int, stop: int | None) -> Iterator[Frame]:
    assert info.names is not None
    for index, name in enumerate(info.names[start:stop], start=start):
        image = read_image(info.path / name)
        if image.shape[:2] != (info.height, info.width):
            raise MediaError(f"frame {info.path / name} is {image.shape[1]}x{image.shape[0]} but "
                             f"{info.names[0]} is {info.width}x{info.height}; every frame in a folder "
                             "must have the same size, so resize or remove it")
        yield Frame(index=index, time=None, image=image, name=name)


def _read_video(path: Path, start: int, stop: int | None) -> Iterator[Frame]:
    with open_video(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame + slice threads: several times faster on long clips
        index = 0
        try:
            for vframe in container.decode(stream):
                if stop is not None and index >= stop:
                    return
                if index >= start:
                    yield Frame(index=index, time=vframe.time, image=vframe.to_ndarray(format="rgb24"),
                                name=f"{index:06d}.png")
                index += 1
        except av.error.FFmpegError as exc:
            raise MediaError(f"video {path} fails to decode after frame {index} ({reason(exc)}); it is truncated "
                             "or corrupt, so re-export or re-mux it") from exc
    if index == 0:
        raise MediaError(f"video {path} holds no decodable frames; it is truncated or corrupt, so re-export it")
