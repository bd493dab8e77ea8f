"""Writing frames: a folder of PNGs or an encoded video (with the source's sound), atomically.

Every writer writes under ``lacvid.util.outputs.atomic_output``, so an output appears complete or
not at all; frames stream, so memory stays constant for any clip length.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Collection, Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import av
import av.error
import numpy as np

from lacvid.errors import MediaError, OutputExistsError, disk_full, is_disk_full
from lacvid.media.audio import AudioCopy
from lacvid.media.images import write_image
from lacvid.media.pipes import is_stdio, refuse_stdio_folder, stdout_format
from lacvid.media.probe import (
    DEFAULT_FPS,
    Frame,
    MediaInfo,
    probe,
    reason,
)
from lacvid.media.read import read_frames
from lacvid.progress import NULL_PROGRESS, Progress, warn
from lacvid.util.cpus import thread_limit
from lacvid.util.outputs import (
    atomic_output,
    check_not_an_input,
    check_output_path,
    remove_stale_in_folder,
    temporary_name,
)


class FrameWriter(Protocol):
    """What ``open_writer`` returns: ``write`` frames in order, then ``close`` (or use ``with``)."""

    path: Path

    def write(self, image: np.ndarray, name: str | None = None) -> None: ...

    def close(self) -> Path: ...

    def abort(self) -> None: ...


class _AtomicWriter:
    """Holds ``atomic_output`` open across many ``write`` calls; publishes on ``close``."""

    def __init__(self, path: Path | str, *, overwrite: bool, directory: bool,
                 frame_names: Collection[str] = ()) -> None:
        self.path = Path(path)
        self._atomic: Any = contextlib.nullcontext(self.path) if is_stdio(path) and not directory else \
            atomic_output(self.path, overwrite=overwrite, directory=directory, frames_folder=directory,
                          frame_names=frame_names)  # stdout (``-o -``) streams: there is nothing to rename
        self._tmp: Path = self._atomic.__enter__()
        self._done = False
        self.frames_written = 0
        self.total: int | None = None  # frames expected, when known: sizes a "no space left" message

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

    def __init__(self, path: Path | str, *, overwrite: bool = False, frame_names: Collection[str] = ()) -> None:
        # frame_names: the input's frame names, which a frame folder output may hold (--overwrite)
        super().__init__(path, overwrite=overwrite, directory=True, frame_names=frame_names)

    def write(self, image: np.ndarray, name: str | None = None) -> None:
        """Write one frame (RGB or gray uint8) as PNG; ``name`` keeps the source's file name."""
        if name is None:
            name = f"{self.frames_written:06d}.png"
        if Path(name).name != name or name.startswith("."):
            raise ValueError(f"frame name {name!r} must be a plain file name")
        left = (self.total - self.frames_written) if self.total else 1
        write_image(self._tmp / name, image, frames_left=left)
        self.frames_written += 1


class FrameFolderUpdate:
    """Some frames of a frame folder that may already hold the others (``colorize --frames``/``--shot``).

    Each frame is written under a temporary name and renamed over its old file, so the folder
    never holds half a frame, and the frames not written stay as they were. A folder with anything
    but frames is never written into; whether existing frames may be replaced is checked before any
    work, by ``check_frame_update``.
    """

    def __init__(self, path: Path | str, *, frame_names: Collection[str] = ()) -> None:
        self.path = Path(path)
        check_frame_update(self.path, (), True, frame_names)  # the folder itself; its frames were checked before
        try:
            self.path.mkdir(exist_ok=True)
        except OSError as exc:
            raise MediaError(f"cannot create the output folder {self.path} ({exc.strerror or exc}); choose an "
                             "output path in a writable folder") from exc
        self.frames_written = 0

    def write(self, image: np.ndarray, name: str | None = None) -> None:
        name = name or f"{self.frames_written:06d}.png"
        if Path(name).name != name or name.startswith("."):
            raise ValueError(f"frame name {name!r} must be a plain file name")
        final = self.path / name
        tmp = temporary_name(final)
        try:
            write_image(tmp, image)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        self.frames_written += 1

    def close(self) -> Path:
        return self.path

    def abort(self) -> None:
        pass  # every frame written so far is whole; the others were never touched

    def __enter__(self) -> FrameFolderUpdate:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


def check_frame_update(path: Path | str, names: Iterable[str], overwrite: bool,
                       frame_names: Collection[str] = ()) -> None:
    """Before any work: ``FrameFolderUpdate`` may write frames ``names`` into ``path`` (a folder of frames
    only, and an existing frame replaced only with ``overwrite``). Creates nothing."""
    path = Path(path)
    if path.is_dir():  # frames half-written by a run that died: never taken for the user's files
        remove_stale_in_folder(path)
    check_output_path(path, True, frames_folder=True, frame_names=frame_names)
    existing = [n for n in names if (path / n).exists()]
    if existing and not overwrite:
        raise OutputExistsError(f"output folder {path} already holds {existing[0]} (and {len(existing) - 1} "
                                "more of the frames to write); pass --overwrite to replace those frames")


def _codec_name(codec: str) -> str:
    try:
        return av.Codec(codec, "w").name
    except (av.error.FFmpegError, ValueError) as exc:
        raise MediaError(f"FFmpeg here has no encoder {codec!r}; pick another --codec such as libx264") from exc

# x264 and x265 share these; an unknown one fails deep in the encoder, which prints its own
# line to stderr before lacvid can say anything (before its log callback is set), so check first.
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
           "placebo")
_PATH_ERRNOS = {errno.ENOENT, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR,
                errno.ENAMETOOLONG}


def check_preset(codec: str, preset: str) -> None:
    """An unknown ``--preset`` is said as such (not as a codec or path problem)."""
    if codec in ("libx264", "libx265") and preset not in PRESETS:
        raise MediaError(f"--preset {preset!r} is not a preset of {codec}; use one of {', '.join(PRESETS)}")


def check_encoder(codec: str, preset: str) -> None:
    """Before any work: the ``--codec`` exists here and the ``--preset`` is one it knows."""
    check_preset(_codec_name(codec), preset)


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
                 time_base: Fraction | None = None, overwrite: bool = False, container: str | None = None,
                 progress: Progress = NULL_PROGRESS) -> None:
        """``container``: the FFmpeg muxer (``--format``), default from the suffix; ``path`` ``-``
        streams to stdout (default Matroska, see ``lacvid.media.pipes``)."""
        if width <= 0 or height <= 0:
            raise ValueError(f"bad frame size {width}x{height}")
        fps = Fraction(fps)
        codec = _codec_name(codec)
        check_preset(codec, preset)
        self._stdout = is_stdio(path)
        container = check_container(stdout_format(container) if self._stdout else container)
        pix_fmt, self._pad = self._fit_pix_fmt(codec, pix_fmt, width, height, Path(path), progress)
        super().__init__(path, overwrite=overwrite, directory=False)
        self.fps, self.width, self.height = fps, width, height
        self._container: Any = None
        self._audio: AudioCopy | None = None
        try:
            self._container = av.open(sys.stdout.buffer if self._stdout else str(self._tmp), mode="w",
                                      format=container)
            stream = self._container.add_stream(codec, rate=fps)
            stream.width, stream.height = width + self._pad[1], height + self._pad[0]
            stream.pix_fmt = pix_fmt
            stream.codec_context.time_base = 1 / fps  # one tick per frame: exact for 24000/1001
            if time_base is not None:
                stream.time_base = time_base  # a hint: the muxer may pick its own (MP4 uses 1/timescale)
            stream.thread_type = "AUTO"
            stream.thread_count = thread_limit()  # --threads, not one per core
            options = {}
            if codec in ("libx264", "libx265"):
                options = {"crf": str(crf), "preset": preset}
            elif codec in ("libvpx-vp9", "libvpx", "libaom-av1"):
                options = {"crf": str(crf), "b": "0"}
            stream.options = options
            self._stream = stream
            if audio_from is not None:
                self._audio = AudioCopy(Path(audio_from), self._container, progress)
            self._container.start_encoding()
        except (av.error.FFmpegError, ValueError) as exc:
            self.abort()
            if getattr(exc, "errno", None) in _PATH_ERRNOS:  # the path, not the codec
                raise MediaError(f"cannot write {self.path} ({reason(exc)}); choose an output path in a "
                                 "writable folder") from exc
            self._check_space(exc)
            raise MediaError(f"cannot write video {self.path} with {codec} {pix_fmt} ({reason(exc)}); pick another "
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
            warn(progress, f"{path} is {width}x{height} (odd), so it is encoded as yuv444p at its exact "
                           "size; some players cannot play 4:4:4, crop to even sizes for delivery")
            return "yuv444p", (0, 0)
        warn(progress, f"{path} is {width}x{height} (odd) and {codec} needs even sizes; "
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
        except (av.error.FFmpegError, BrokenPipeError) as exc:
            self._check_space(exc)
            raise MediaError(f"cannot encode frame {self.frames_written} into {self.path} ({reason(exc)}); "
                             "pick another --codec") from exc

    def _finish(self) -> None:
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            if self._audio is not None:
                self._audio.pump(None)
                self._audio.close()
            self._container.close()
            if self._stdout:
                sys.stdout.buffer.flush()
        except (av.error.FFmpegError, BrokenPipeError) as exc:
            self._check_space(exc)
            raise MediaError(f"cannot finish video {self.path} ({reason(exc)}); write .mkv, which holds any "
                             "codec") from exc

    def _check_space(self, exc: BaseException) -> None:
        """A full disk is said as such, with about how much more the rest of the video needs; a
        reader of stdout that went away (``| head``), as such."""
        if self._stdout and (isinstance(exc, BrokenPipeError) or getattr(exc, "errno", None) == errno.EPIPE):
            with contextlib.suppress(OSError):  # no second "Broken pipe" from Python's own flush at exit
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise MediaError(f"the program reading lacvid's stdout stopped after {self.frames_written} frames "
                             "(broken pipe); the video is incomplete") from exc
        if not is_disk_full(exc):
            return
        try:
            so_far = self._tmp.stat().st_size
        except OSError:
            so_far = 0
        per_frame = so_far / max(1, self.frames_written) or self.width * self.height / 4
        left = max(1, (self.total or self.frames_written + 1) - self.frames_written)
        raise disk_full(self.path.parent, int(per_frame * left), "write the output to another disk") from exc

    def _discard(self) -> None:
        for closer in (getattr(self._audio, "close", None), getattr(self._container, "close", None)):
            if closer is not None:
                with contextlib.suppress(Exception):
                    closer()


def _is_video_path(path: Path) -> bool:
    return is_stdio(path) or (bool(path.suffix) and not path.is_dir())


def check_container(container: str | None) -> str | None:
    """``--format``: a muxer this FFmpeg has (one line, exit 2, otherwise)."""
    if container is not None and container not in av.formats_available:
        raise MediaError(f"--format {container} is not a container FFmpeg can write here; use e.g. matroska, "
                         "nut, mpegts or mp4 (ffmpeg -muxers lists them)")
    return container


def open_writer(output: Path | str, like: MediaInfo, *, fps: Fraction | None = None, overwrite: bool = False,
                copy_audio: bool = True, audio_from: Path | None = None, codec: str = "libx264", crf: int = 18,
                preset: str = "medium", container: str | None = None,
                progress: Progress = NULL_PROGRESS) -> VideoWriter | FrameDirWriter:
    """A writer for frames shaped like ``like``: a video when ``output`` has a suffix, else a frame folder.

    For video: the frame rate is ``fps``, else ``like``'s, else 24; the audio of ``like`` is copied
    when it is a video with sound and ``copy_audio`` (``audio_from`` names another source).
    """
    output = Path(output)
    if not _is_video_path(output):
        writer = FrameDirWriter(output, overwrite=overwrite, frame_names=like.names or ())
        writer.total = like.frame_count
        return writer
    rate = Fraction(fps) if fps is not None else (like.fps or DEFAULT_FPS)
    source = audio_from
    if source is None and copy_audio and like.kind == "video" and like.audio_streams:
        source = like.path
    time_base = like.time_base if fps is None else None
    video = VideoWriter(output, fps=rate, width=like.width, height=like.height, codec=codec, crf=crf, preset=preset,
                        audio_from=source, time_base=time_base, overwrite=overwrite, container=container,
                        progress=progress)
    video.total = like.frame_count
    return video


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
    refuse_stdio_folder(output, "-o")
    check_not_an_input(Path(output), {"input": Path(source)})
    info = probe(source)
    writer = FrameDirWriter(output, overwrite=overwrite)
    _copy(read_frames(source, progress=progress), writer, progress, info.frame_count, "frames", keep_names=False)
    return writer.path


def encode_video(source: Path | str, output: Path | str, *, fps: Fraction | None = None,
                 audio_from: Path | None = None, codec: str = "libx264", crf: int = 18, preset: str = "medium",
                 overwrite: bool = False, container: str | None = None,
                 progress: Progress = NULL_PROGRESS) -> Path:
    """Encode a frame folder (or re-encode a video) to ``output`` (``-``: stdout); frame folders default
    to 24 fps. ``container``: the FFmpeg muxer, default from the suffix."""
    output = Path(output)
    if not output.suffix and not is_stdio(output):
        raise MediaError(f"output {output} has no suffix; name the video e.g. {output}.mp4")
    check_not_an_input(output, {"input": Path(source), "--audio-from file": audio_from and Path(audio_from)})
    if audio_from is not None and not Path(audio_from).exists():
        raise MediaError(f"--audio-from file {audio_from} does not exist; check the path")
    info = probe(source)
    writer = open_writer(output, info, fps=fps, overwrite=overwrite, copy_audio=audio_from is None,
                         audio_from=audio_from, codec=codec, crf=crf, preset=preset, container=container,
                         progress=progress)
    _copy(read_frames(source, progress=progress), writer, progress, info.frame_count, "encode", keep_names=False)
    return writer.path
