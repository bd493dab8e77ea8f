"""Options every command shares, and the rich progress bar on stderr.

Only the CLI imports rich and typer; the library reports through ``lacvid.progress``.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgressBar
from rich.text import Text

from lacvid.cli.app import on_exit, set_debug, set_json
from lacvid.errors import InputError
from lacvid.progress import NULL_PROGRESS, Progress

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or messages; errors only.")]
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors (also LACVID_DEBUG=1).")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace OUTPUT if it exists.")]
Format = Annotated[str | None, typer.Option(
    "--format", metavar="NAME", show_default=False,
    help="The video's container, as FFmpeg names it (matroska, nut, mpegts, mp4, ...). Default: from OUTPUT's "
         "suffix; matroska for -o - (the video on stdout).")]
Threads = Annotated[int | None, typer.Option(
    "--threads", min=1, metavar="N", show_default=False,
    help="CPU threads to use (torch, numba, OpenCV, ONNX Runtime, FFmpeg and lacvid's own pools). Default: "
         "$LACVID_THREADS, else the CPUs this process may use (its affinity and cgroup quota), not every core.")]
# The video settings of the commands that encode frames they did not colour (encode, repalette).
AudioFrom = Annotated[Path | None, typer.Option(
    "--audio-from", help="Copy the audio streams of this file (not re-encoded when the container allows).",
    show_default=False)]
VideoCrf = Annotated[int, typer.Option("--crf", min=0, max=63, help="Quality: lower is better and bigger.")]
VideoPreset = Annotated[str, typer.Option("--preset", help="Encoder speed/size trade-off (x264/x265 presets).")]
VideoCodec = Annotated[str, typer.Option("--codec", help="FFmpeg video encoder, e.g. libx264, libx265, ffv1.")]

def fps_option(value: str | None) -> Fraction | None:
    """``--fps`` as an exact rate (``24``, ``23.976``, ``24000/1001``); a bad one is a usage error."""
    if value is None:
        return None
    from lacvid.media import parse_fps

    try:
        return parse_fps(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--fps'") from exc


stderr_console = Console(stderr=True)
_live: list[RichProgress] = []  # bars drawing now: stopped before the final error line


def _stop_all() -> None:
    while _live:
        _live.pop().stop()


on_exit(_stop_all)


class _RateColumn(ProgressColumn):
    """Items per second, e.g. ``12.3 frames/s``."""

    def render(self, task) -> Text:  # type: ignore[override]
        speed = task.finished_speed or task.speed
        unit = task.fields.get("unit", "it")
        return Text("-" if speed is None else f"{speed:,.1f} {unit}/s", style="progress.data.speed")


class _RichTask:
    def __init__(self, bar: RichProgressBar, task_id, owner: RichProgress) -> None:
        self._bar, self._id, self._owner = bar, task_id, owner

    def advance(self, n: int = 1) -> None:
        self._bar.advance(self._id, n)

    def update(self, *, total: int | None = None, description: str | None = None) -> None:
        kwargs = {}
        if total is not None:
            kwargs["total"] = total
        if description is not None:
            kwargs["description"] = description
        self._bar.update(self._id, **kwargs)

    def close(self) -> None:
        self._bar.stop_task(self._id)
        self._owner._closed(self._id)


class RichProgress:
    """A ``lacvid.progress.Progress`` drawn with rich on stderr (frames/s and ETA)."""

    def __init__(self) -> None:
        self._bar = self._new_bar()
        self._open: set = set()

    @staticmethod
    def _new_bar() -> RichProgressBar:
        return RichProgressBar(
            TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TaskProgressColumn(), _RateColumn(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=stderr_console, transient=False,
        )

    def task(self, description: str, total: int | None = None, unit: str = "frames") -> _RichTask:
        if not self._open:  # a fresh bar, so finished tasks are not drawn again
            self._bar = self._new_bar()
            self._bar.start()
            if self not in _live:
                _live.append(self)
        task_id = self._bar.add_task(description, total=total, unit=unit)
        self._open.add(task_id)
        return _RichTask(self._bar, task_id, self)

    def _closed(self, task_id) -> None:
        self._open.discard(task_id)
        if not self._open:
            self._bar.stop()
            if self in _live:
                _live.remove(self)

    def log(self, message: str) -> None:
        stderr_console.print(f"lacvid: {message}", highlight=False, markup=False, soft_wrap=True)

    def stop(self) -> None:
        self._bar.stop()


class _QuietProgress:
    def task(self, description: str, total: int | None = None, unit: str = "frames"):
        return NULL_PROGRESS.task(description, total, unit)

    def log(self, message: str) -> None:
        pass


ProgressMode = Annotated[str, typer.Option(
    "--progress", help="bar (a progress bar on stderr), json (one JSON object per line on stderr, for render "
                       "farms and GUIs) or none.")]
LogFile = Annotated[Path | None, typer.Option(
    "--log-file", show_default=False, help="Also append every message and each stage's count and rate to this file.")]


def read_input(source: Path, progress: Progress, cache: Path | None = None) -> Path:
    """``source``, or for ``-`` the video on stdin, saved into the cache folder first (lacvid reads its
    input more than once; ``lacvid.media.pipes``)."""
    from lacvid.media.pipes import is_stdio, spool_stdin

    if not is_stdio(source):
        return source
    from lacvid.util.cache_home import default_cache_dir

    return spool_stdin(Path(cache or default_cache_dir()), progress)


def echo_output(path: Path) -> None:
    """Print the output's path, as every command does last; not for ``-o -``, whose stdout is the video."""
    from lacvid.media.pipes import is_stdio

    if not is_stdio(path):
        typer.echo(str(path))


def use_threads(threads: int | None, *load: str) -> int:
    """Apply ``--threads`` (see ``lacvid.util.cpus``) before a command computes anything; ``load``: the
    libraries it will surely use that are not imported yet (``"torch"``), told now. One it may not use
    (torch for colorize, whose ONNX Runtime path never imports it) is told where lacvid imports it
    (``cpus.load_library``)."""
    from lacvid.util.cpus import set_thread_limit

    return set_thread_limit(threads, load=("cv2", *load))


def make_progress(quiet: bool, debug: bool = False, mode: str = "bar", log_file: Path | None = None) -> Progress:
    """The progress reporter a command passes to the library."""
    set_debug(debug)
    if mode not in ("bar", "json", "none"):
        raise typer.BadParameter(f"--progress must be bar, json or none, not {mode!r}")
    set_json(mode == "json")
    if mode == "json":
        from lacvid.cli.progress_json import JsonLinesProgress

        progress: Progress = JsonLinesProgress(sys.stderr)
    else:
        progress = _QuietProgress() if quiet or mode == "none" else RichProgress()
    if log_file is not None:
        from lacvid.cli.progress_json import LogFileProgress

        try:
            progress = LogFileProgress(progress, str(log_file))
        except OSError as exc:
            raise InputError(f"cannot write the log file {log_file} ({exc.strerror or exc}); choose a writable "
                             "path") from exc
    return progress


def report_result(progress: Progress, **fields: Any) -> None:
    """Under ``--progress json``, the run's one closing event: ``{"event": "result", **fields, "warnings":
    [...]}`` (``lacvid.cli.progress_json``); other modes print their own summary."""
    result = getattr(progress, "result", None)
    if result is not None:
        result(**fields)
