"""``-`` as ffmpeg takes it: a video read from stdin, or written to stdout in a streamable container.

lacvid reads its input more than once (probe, scan, the audio copied at the end), which a pipe
cannot give, so stdin is first saved ("spooled") into the cache folder under its content's
digest: the same bytes piped again find the same file, so its cache entry resumes as a file's
does. A folder of frames cannot travel through a pipe: ``-`` in its place is refused.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import BinaryIO

from lacvid.errors import InputError, disk_full, is_disk_full
from lacvid.progress import NULL_PROGRESS, Progress
from lacvid.util.outputs import remove_stale_in_folder, temporary_name

STDIO = "-"
STDOUT_FORMAT = "matroska"  # streamable, holds any codec and the copied audio; ``--format nut`` also pipes
# Muxers that seek back to finish the file (MP4's index): they cannot write to a pipe.
_SEEKING_MUXERS = frozenset({"mp4", "mov", "ipod", "3gp", "3g2", "psp", "ismv", "f4v"})
_CHUNK = 1 << 20


def is_stdio(path: Path | str | None) -> bool:
    """True for ``-``: stdin as an input, stdout as an output."""
    return path is not None and str(path) == STDIO


def refuse_stdio_folder(path: Path | str | None, what: str, kind: str = "a folder of frames") -> None:
    """``-`` where a folder of frames (or another ``kind`` of file) is meant (``what``, e.g. ``--keys``):
    one line, exit 2."""
    if is_stdio(path):
        raise InputError(f"{what} '-' would be {kind}, which cannot go through a pipe; give a path (only a video "
                         "is read from stdin or written to stdout as '-')")


def stdout_format(fmt: str | None) -> str:
    """The container for ``-o -``: ``fmt`` checked to be one FFmpeg can stream, else Matroska."""
    fmt = fmt or STDOUT_FORMAT
    if fmt in _SEEKING_MUXERS:
        raise InputError(f"--format {fmt} cannot be written to a pipe (it seeks back to finish the file); "
                         "use --format matroska, nut or mpegts with -o -")
    return fmt


def spool_stdin(folder: Path, progress: Progress = NULL_PROGRESS, source: BinaryIO | None = None) -> Path:
    """Save the video on stdin as ``folder/stdin/<digest>`` and return that path (kept for reruns,
    removed by ``lacvid cache clean``)."""
    stream = source if source is not None else sys.stdin.buffer
    if source is None and sys.stdin.isatty():
        raise InputError("input '-' reads a video from stdin, but stdin is a terminal; pipe one in, e.g. "
                         "ffmpeg -i clip.mov -c copy -f matroska - | lacvid colorize - ...")
    spools = Path(folder) / "stdin"
    try:
        spools.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {spools} to hold the video read from stdin ({exc.strerror or exc}); "
                         "pass --cache DIR with a writable folder") from exc
    remove_stale_in_folder(spools)
    progress.log(f"reading the input video from stdin into {spools} (lacvid reads its input more than once)")
    tmp = temporary_name(spools / "spool")
    digest, size = hashlib.sha256(), 0
    try:
        with open(tmp, "wb") as out:
            while chunk := stream.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if is_disk_full(exc):
            raise disk_full(spools, size + _CHUNK, "pass --cache DIR on another disk") from exc
        raise InputError(f"cannot save the video read from stdin into {spools} ({exc.strerror or exc}); "
                         "pass --cache DIR with a writable folder") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if size == 0:
        tmp.unlink(missing_ok=True)
        raise InputError("input '-' reads a video from stdin, but stdin held no data; pipe a video in")
    path = spools / digest.hexdigest()[:32]
    if path.exists():  # piped before: keep the file (and its mtime), so its cache entry is found again
        tmp.unlink(missing_ok=True)
    else:
        os.replace(tmp, path)
    return path
