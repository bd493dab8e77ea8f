"""Reading and writing frames: video files (through PyAV/FFmpeg) and directories of images.

Everything streams: a clip of any length is read and written one frame at a time, so memory
stays constant. Colour frames are uint8 RGB ``(H, W, 3)`` everywhere (OpenCV's BGR is
converted at this boundary). Every writer writes under ``lacvid.outputs.atomic_output``, so
an output appears complete or not at all. User-caused failures raise ``MediaError`` with one
sentence naming the path and what to do; FFmpeg exceptions never escape.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import av
import av.error
import cv2
import numpy as np

from lacvid.errors import MediaError
from lacvid.outputs import atomic_output
from lacvid.progress import NULL_PROGRESS, Progress

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff"})
DEFAULT_FPS = Fraction(24)

__all__ = [
    "DEFAULT_FPS", "IMAGE_SUFFIXES", "Frame", "FrameDirWriter", "FrameWriter", "MediaInfo", "VideoWriter",
    "encode_video", "extract_frames", "natural_key", "open_writer", "parse_fps", "probe", "read_frames",
    "read_image", "write_image",
]


# --------------------------------------------------------------------------- data types


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


# --------------------------------------------------------------------------- helpers


def natural_key(name: str) -> tuple:
    """Sort key that orders ``2.png`` before ``10.png`` (digit runs compare as numbers)."""
    parts = re.split(r"(\d+)", name)
    # Even positions are text, odd positions digit runs, so equal positions always hold equal types.
    key = tuple(int(p) if i % 2 else p.casefold() for i, p in enumerate(parts))
    return key + (name,)  # "01.png" vs "1.png": still a total, stable order


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


def _to_rgb8(img: np.ndarray, path: Path) -> np.ndarray:
    """OpenCV's decoded array (gray/BGR/BGRA, 8/16-bit or float) -> uint8 RGB."""
    if img.dtype == np.uint16:
        img = ((img.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif img.dtype in (np.float32, np.float64):
        img = (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    elif img.dtype != np.uint8:
        raise MediaError(f"image {path} has unsupported sample type {img.dtype}; convert it to 8- or 16-bit")
    if img.ndim == 2:
        return np.ascontiguousarray(np.repeat(img[:, :, None], 3, axis=2))
    channels = img.shape[2]
    if channels == 1:
        return np.ascontiguousarray(np.repeat(img, 3, axis=2))
    if channels == 2:  # gray + alpha
        img = np.concatenate([np.repeat(img[:, :, :1], 3, axis=2), img[:, :, 1:]], axis=2)
        channels = 4
    if channels == 4:  # composite on white paper: transparent areas are paper, not black
        alpha = img[:, :, 3:4].astype(np.uint16)
        bgr = (img[:, :, :3].astype(np.uint16) * alpha + 255 * (255 - alpha) + 127) // 255
        img = bgr.astype(np.uint8)
    elif channels != 3:
        raise MediaError(f"image {path} has {channels} channels; save it as RGB, RGBA or grayscale")
    return np.ascontiguousarray(img[:, :, ::-1])


def read_image(path: Path | str) -> np.ndarray:
    """Read any still image as uint8 RGB ``(H, W, 3)``: gray expanded, alpha on white, 16-bit scaled."""
    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)  # imdecode, not imread: errors we can tell apart
    except FileNotFoundError as exc:
        raise MediaError(f"image {path} does not exist; check the path") from exc
    except OSError as exc:
        raise MediaError(f"cannot read image {path} ({exc.strerror or exc}); check it is a readable file") from exc
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise MediaError(f"cannot decode image {path}; it is empty, corrupt or not an image, so replace or remove it")
    return _to_rgb8(img, path)


def write_image(path: Path | str, image: np.ndarray) -> None:
    """Write uint8 RGB ``(H, W, 3)``, RGBA ``(H, W, 4)`` or gray ``(H, W)``; the suffix picks the format.

    It writes exactly where told: a caller producing a final output wraps it in ``atomic_output``.
    """
    path = Path(path)
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ValueError(f"write_image wants uint8 (H, W), (H, W, 3) or (H, W, 4); got {image.dtype} {image.shape}")
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR if image.shape[2] == 3 else cv2.COLOR_RGBA2BGRA)
    suffix = path.suffix.lower() or ".png"
    try:
        ok, buf = cv2.imencode(suffix, image)
    except cv2.error as exc:
        raise MediaError(f"cannot encode {path} as {suffix}; use .png, .jpg, .webp or .tif") from exc
    if not ok:
        raise MediaError(f"cannot encode {path} as {suffix}; use .png, .jpg, .webp or .tif")
    try:
        buf.tofile(path)
    except OSError as exc:
        raise MediaError(f"cannot write {path} ({exc.strerror or exc}); check the folder exists and is "
                         "writable") from exc


def _list_images(path: Path) -> list[str]:
    names = [p.name for p in path.iterdir()
             if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()]
    return sorted(names, key=natural_key)


def _open_video(path: Path) -> Any:
    try:
        return av.open(str(path), mode="r")
    except av.error.FFmpegError as exc:
        raise MediaError(f"cannot read {path} as a video ({_reason(exc)}); check it is a complete video file "
                         "FFmpeg can decode") from exc


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return " ".join(str(text).split())[:200]


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise MediaError(f"input {path} does not exist; check the path")


# --------------------------------------------------------------------------- reading


def probe(path: Path | str) -> MediaInfo:
    """Size, frame rate, frame count (when the container says), time base and audio of a clip.

    Reads the container header (or, for a frame directory, the listing and the first image);
    it never decodes the whole clip.
    """
    path = Path(path)
    _check_exists(path)
    if path.is_dir():
        names = _list_images(path)
        if not names:
            raise MediaError(f"frame folder {path} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); "
                             "point at a folder of frames or a video file")
        first = read_image(path / names[0])
        return MediaInfo(path=path, kind="frames", width=first.shape[1], height=first.shape[0], fps=None,
                         frame_count=len(names), time_base=None, audio_streams=0, names=names)
    with _open_video(path) as container:
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
    with _open_video(path) as container:
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
            raise MediaError(f"video {path} fails to decode after frame {index} ({_reason(exc)}); it is truncated "
                             "or corrupt, so re-export or re-mux it") from exc
    if index == 0:
        raise MediaError(f"video {path} holds no decodable frames; it is truncated or corrupt, so re-export it")


# --------------------------------------------------------------------------- writing


class FrameWriter(Protocol):
    """What ``open_writer`` returns: ``write`` frames in order, then ``close`` (or use ``with``)."""

    path: Path

    def write(self, image: np.ndarray, name: str | None = None) -> None: ...

    def close(self) -> Path: ...

    def abort(self) -> None: ...


class _AtomicWriter:
    """Holds ``atomic_output`` open across many ``write`` calls; publishes on ``close``."""

    def __init__(self, path: Path | str, *, overwrite: bool, directory: bool) -> None:
        self.path = Path(path)
        self._atomic = atomic_output(self.path, overwrite=overwrite, directory=directory)
        self._tmp: Path = self._atomic.__enter__()
        self._done = False
        self.frames_written = 0

    def _finish(self) -> None:  # subclasses flush their data here
        pass

    def _discard(self) -> None:  # subclasses release their handles here
        pass

    def close(self) -> Path:
        """Finish the output and rename it to its final name; returns that path."""
        if self._done:
            return self.path
        try:
            self._finish()
        except BaseException as exc:
            self._done = True
            self._discard()
            self._atomic.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self._done = True
        self._atomic.__exit__(None, None, None)
        return self.path

    def abort(self) -> None:
        """Drop everything written so far; nothing appears under the final name."""
        if self._done:
            return
        self._done = True
        self._discard()
        err = MediaError(f"writing {self.path} was abandoned")
        with contextlib.suppress(MediaError):
            self._atomic.__exit__(MediaError, err, None)

    def __enter__(self) -> _AtomicWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class FrameDirWriter(_AtomicWriter):
    """A directory of PNG frames, named as given or ``000000.png``, ``000001.png``, ..."""

    def __init__(self, path: Path | str, *, overwrite: bool = False) -> None:
        super().__init__(path, overwrite=overwrite, directory=True)

    def write(self, image: np.ndarray, name: str | None = None) -> None:
        """Write one frame (RGB or gray uint8) as PNG; ``name`` keeps the source's file name."""
        if name is None:
            name = f"{self.frames_written:06d}.png"
        if Path(name).name != name or name.startswith("."):
            raise ValueError(f"frame name {name!r} must be a plain file name")
        write_image(self._tmp / name, image)
        self.frames_written += 1


def _codec_name(codec: str) -> str:
    try:
        return av.Codec(codec, "w").name
    except (av.error.FFmpegError, ValueError) as exc:
        raise MediaError(f"FFmpeg here has no encoder {codec!r}; pick another --codec such as libx264") from exc


class _AudioCopy:
    """Copies the audio streams of ``source`` into ``output``, interleaved with the video.

    Packets are remuxed untouched when the output container accepts the codec; otherwise
    that stream is decoded and re-encoded to AAC (and the caller is warned).
    """

    def __init__(self, source: Path, output: Any, progress: Progress) -> None:
        _check_exists(source)
        self.source = source
        self.input = _open_video(source)
        streams = list(self.input.streams.audio)
        if not streams:
            self.input.close()
            raise MediaError(f"{source} has no audio stream; drop --audio-from or give a file with sound")
        self.map: dict[int, Any] = {}  # input stream index -> output stream
        self.reencode: set[int] = set()
        for stream in streams:
            if self._remux_ok(stream, output.format.name):
                self.map[stream.index] = output.add_stream_from_template(stream)
            else:
                codec = stream.codec_context.name
                progress.log(f"warning: {output.format.name} cannot hold {codec} audio from {source}; "
                             "re-encoding it to AAC (use .mkv or .mov to keep it untouched)")
                rate = stream.codec_context.sample_rate or 48000
                out = output.add_stream("aac", rate=rate)
                out.layout = "stereo" if stream.codec_context.channels >= 2 else "mono"
                self.map[stream.index] = out
                self.reencode.add(stream.index)
        self._packets = self.input.demux(streams)
        self._pending: Any = None
        self.output = output

    def _remux_ok(self, stream: Any, fmt: str) -> bool:
        """Mux a few packets into an in-memory container of the same format: some refusals
        (e.g. MP4 and unlabelled PCM channel layouts) only surface when the file is finished."""
        buf = io.BytesIO()
        try:
            with av.open(str(self.source)) as probe_in:
                trial = av.open(buf, mode="w", format=fmt)
                try:
                    out = trial.add_stream_from_template(probe_in.streams[stream.index])
                    n = 0
                    for packet in probe_in.demux(probe_in.streams[stream.index]):
                        if packet.dts is None:
                            continue
                        packet.stream = out
                        trial.mux(packet)
                        n += 1
                        if n >= 4:
                            break
                finally:
                    trial.close()
            return True
        except (av.error.FFmpegError, ValueError, TypeError):
            return False

    def _mux(self, packet: Any) -> None:
        out = self.map[packet.stream.index]
        if packet.stream.index in self.reencode:
            for frame in packet.decode():
                frame.pts = None  # the encoder's resampler restamps in its own time base
                for p in out.encode(frame):
                    self.output.mux(p)
        else:
            packet.stream = out
            self.output.mux(packet)

    def pump(self, until: float | None) -> None:
        """Mux source audio up to ``until`` seconds (all of it when None)."""
        try:
            while True:
                packet = self._pending if self._pending is not None else next(self._packets, None)
                self._pending = None
                if packet is None:
                    break
                if packet.dts is None and packet.pts is None:
                    if packet.stream.index in self.reencode:
                        self._mux(packet)  # a flush packet drains the decoder
                    continue
                ts = packet.pts if packet.pts is not None else packet.dts
                if until is not None and float(ts * packet.time_base) > until:
                    self._pending = packet
                    break
                self._mux(packet)
            if until is None:
                for index in self.reencode:
                    for p in self.map[index].encode(None):
                        self.output.mux(p)
        except av.error.FFmpegError as exc:
            raise MediaError(f"cannot copy the audio of {self.source} ({_reason(exc)}); it is corrupt, "
                             "so drop --audio-from or re-export it") from exc

    def close(self) -> None:
        self.input.close()


class VideoWriter(_AtomicWriter):
    """Encode RGB frames to a video file at an exact frame rate, optionally with copied audio.

    Odd sizes: 4:2:0 video (``yuv420p``) cannot have an odd width or height. Rather than pad
    the picture (which would change the frame size and break frame-exact round trips and key
    frame matching), an odd-sized clip is encoded as 4:4:4 (``yuv444p``) at its exact size when
    the codec supports it, with a warning that some players (browsers, QuickTime) cannot play
    4:4:4. Codecs without 4:4:4 (e.g. ``mpeg4``) get the last row/column repeated instead.
    """

    def __init__(self, path: Path | str, *, fps: Fraction, width: int, height: int, codec: str = "libx264",
                 crf: int = 18, preset: str = "medium", pix_fmt: str = "yuv420p", audio_from: Path | None = None,
                 time_base: Fraction | None = None, overwrite: bool = False,
                 progress: Progress = NULL_PROGRESS) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"bad frame size {width}x{height}")
        fps = Fraction(fps)
        codec = _codec_name(codec)
        pix_fmt, self._pad = self._fit_pix_fmt(codec, pix_fmt, width, height, Path(path), progress)
        super().__init__(path, overwrite=overwrite, directory=False)
        self.fps, self.width, self.height = fps, width, height
        self._container: Any = None
        self._audio: _AudioCopy | None = None
        try:
            self._container = av.open(str(self._tmp), mode="w")
            stream = self._container.add_stream(codec, rate=fps)
            stream.width, stream.height = width + self._pad[1], height + self._pad[0]
            stream.pix_fmt = pix_fmt
            stream.codec_context.time_base = 1 / fps  # one tick per frame: exact for 24000/1001
            if time_base is not None:
                stream.time_base = time_base  # a hint: the muxer may pick its own (MP4 uses 1/timescale)
            stream.thread_type = "AUTO"
            options = {}
            if codec in ("libx264", "libx265"):
                options = {"crf": str(crf), "preset": preset}
            elif codec in ("libvpx-vp9", "libvpx", "libaom-av1"):
                options = {"crf": str(crf), "b": "0"}
            stream.options = options
            self._stream = stream
            if audio_from is not None:
                self._audio = _AudioCopy(Path(audio_from), self._container, progress)
            self._container.start_encoding()
        except (av.error.FFmpegError, ValueError) as exc:
            self.abort()
            raise MediaError(f"cannot write video {self.path} with {codec} {pix_fmt} ({_reason(exc)}); pick another "
                             "--codec or an output suffix such as .mp4, .mkv or .mov") from exc
        except BaseException:  # MediaError from the audio source, Ctrl-C: leave no temporary file
            self.abort()
            raise

    @staticmethod
    def _fit_pix_fmt(codec: str, pix_fmt: str, width: int, height: int, path: Path,
                     progress: Progress) -> tuple[str, tuple[int, int]]:
        fmt = av.VideoFormat(pix_fmt)
        # chroma_width(3) == 3 means no horizontal chroma subsampling, so any width fits.
        if (width % 2 == 0 or fmt.chroma_width(3) == 3) and (height % 2 == 0 or fmt.chroma_height(3) == 3):
            return pix_fmt, (0, 0)
        supported = {f.name for f in (av.Codec(codec, "w").video_formats or [])}
        if "yuv444p" in supported:
            progress.log(f"warning: {path} is {width}x{height} (odd), so it is encoded as yuv444p at its exact "
                         "size; some players cannot play 4:4:4, crop to even sizes for delivery")
            return "yuv444p", (0, 0)
        progress.log(f"warning: {path} is {width}x{height} (odd) and {codec} needs even sizes; "
                     "the last row/column is repeated")
        return pix_fmt, (height % 2, width % 2)

    def write(self, image: np.ndarray, name: str | None = None) -> None:
        """Encode one uint8 RGB (or gray) frame; ``name`` is ignored (videos have no file names)."""
        image = np.asarray(image)
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)
        if image.dtype != np.uint8 or image.shape != (self.height, self.width, 3):
            raise ValueError(f"frame must be uint8 ({self.height}, {self.width}, 3); got {image.dtype} {image.shape}")
        if any(self._pad):
            image = np.pad(image, ((0, self._pad[0]), (0, self._pad[1]), (0, 0)), mode="edge")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        frame.pts = self.frames_written
        frame.time_base = 1 / self.fps
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
            self.frames_written += 1
            if self._audio is not None:
                self._audio.pump(float(self.frames_written / self.fps))
        except av.error.FFmpegError as exc:
            raise MediaError(f"cannot encode frame {self.frames_written} into {self.path} ({_reason(exc)}); "
                             "check free disk space or pick another --codec") from exc

    def _finish(self) -> None:
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            if self._audio is not None:
                self._audio.pump(None)
                self._audio.close()
            self._container.close()
        except av.error.FFmpegError as exc:
            raise MediaError(f"cannot finish video {self.path} ({_reason(exc)}); check free disk space, or "
                             "write .mkv, which holds any codec") from exc

    def _discard(self) -> None:
        for closer in (getattr(self._audio, "close", None), getattr(self._container, "close", None)):
            if closer is not None:
                with contextlib.suppress(Exception):
                    closer()


def _is_video_path(path: Path) -> bool:
    return bool(path.suffix) and not path.is_dir()


def open_writer(output: Path | str, like: MediaInfo, *, fps: Fraction | None = None, overwrite: bool = False,
                copy_audio: bool = True, audio_from: Path | None = None, codec: str = "libx264", crf: int = 18,
                preset: str = "medium", progress: Progress = NULL_PROGRESS) -> VideoWriter | FrameDirWriter:
    """A writer for frames shaped like ``like``: a video when ``output`` has a suffix, else a frame folder.

    For video: the frame rate is ``fps``, else ``like``'s, else 24; the audio of ``like`` is copied
    when it is a video with sound and ``copy_audio`` (``audio_from`` names another source).
    """
    output = Path(output)
    if not _is_video_path(output):
        return FrameDirWriter(output, overwrite=overwrite)
    rate = Fraction(fps) if fps is not None else (like.fps or DEFAULT_FPS)
    source = audio_from
    if source is None and copy_audio and like.kind == "video" and like.audio_streams:
        source = like.path
    time_base = like.time_base if fps is None else None
    return VideoWriter(output, fps=rate, width=like.width, height=like.height, codec=codec, crf=crf, preset=preset,
                       audio_from=source, time_base=time_base, overwrite=overwrite, progress=progress)


# --------------------------------------------------------------------------- whole-clip helpers


def _copy(frames: Iterable[Frame], writer: VideoWriter | FrameDirWriter, progress: Progress, total: int | None,
          description: str, keep_names: bool) -> int:
    task = progress.task(description, total=total, unit="frames")
    n = 0
    try:
        with writer:
            for frame in frames:
                writer.write(frame.image, frame.name if keep_names else None)
                n += 1
                task.advance()
    finally:
        task.close()
    return n


def extract_frames(source: Path | str, output: Path | str, *, overwrite: bool = False,
                   progress: Progress = NULL_PROGRESS) -> Path:
    """Write every frame of ``source`` as ``output/000000.png``, ``000001.png``, ... (by frame index)."""
    info = probe(source)
    writer = FrameDirWriter(output, overwrite=overwrite)
    _copy(read_frames(source), writer, progress, info.frame_count, "frames", keep_names=False)
    return writer.path


def encode_video(source: Path | str, output: Path | str, *, fps: Fraction | None = None,
                 audio_from: Path | None = None, codec: str = "libx264", crf: int = 18, preset: str = "medium",
                 overwrite: bool = False, progress: Progress = NULL_PROGRESS) -> Path:
    """Encode a frame folder (or re-encode a video) to ``output``; frame folders default to 24 fps."""
    output = Path(output)
    if not output.suffix:
        raise MediaError(f"output {output} has no suffix; name the video e.g. {output}.mp4")
    info = probe(source)
    if audio_from is not None:
        _check_exists(Path(audio_from))
    writer = open_writer(output, info, fps=fps, overwrite=overwrite, copy_audio=audio_from is None,
                         audio_from=audio_from, codec=codec, crf=crf, preset=preset, progress=progress)
    _copy(read_frames(source), writer, progress, info.frame_count, "encode", keep_names=False)
    return writer.path
