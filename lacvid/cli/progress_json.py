"""Progress as JSON lines, for render-farm managers and GUIs (``--progress json``), and a log file.

One object per line, written to a text stream (the CLI uses stderr), and nothing else there:

- ``{"event": "progress", "stage": "colorizing", "shot": 2, "done": 40, "total": 96,
  "unit": "frames", "rate": 3.1, "eta_s": 18.1, "elapsed_s": 12.9}`` at most every
  ``interval`` seconds per task, and once more when the task ends (``"finished": true``);
- ``{"event": "log", "message": "..."}`` for every message the run has for the user;
- ``{"event": "warning", "message": "..."}`` for every warning (``lacvid.progress.warn``);
- ``{"event": "shot", "shot": 2, "start": 40, "stop": 96, "frames": 56, "doubtful": 0.12,
  "worst_frame": 71, "worst_doubtful": 0.31}``: ``colorize``, once each shot's frames are written:
  the doubtful share of its frames and its worst frame (``lacvid.compose.doubt``);
- ``{"event": "result", "output": "...", "frames": 96, "shots": 3, "seconds": 41.2,
  "warnings": [...]}``: once, last, when the command succeeds (``result``; each command adds
  its own fields);
- ``{"event": "error", "message": "...", "exit_code": 2}``: once, last, when it fails
  (``lacvid.cli.app``): 2 bad input, 1 a bug in lacvid, 130/143 interrupted/terminated.

``shot`` appears when the task's description names one (``"colorizing shot 2/5"``).
"""

from __future__ import annotations

import json
import re
import sys
import time
from typing import IO, Any

from lacvid.progress import Progress, ProgressTask, deliver_warning, report_shot

_SHOT = re.compile(r"\bshot (\d+)")


class _JsonTask:
    def __init__(self, owner: JsonLinesProgress, stage: str, total: int | None, unit: str) -> None:
        self.owner, self.stage, self.total, self.unit = owner, stage, total, unit
        self.description = stage
        self.done = 0
        self.started = self.last = time.monotonic()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.owner.interval or (self.total is not None and self.done >= self.total):
            self.last = now
            self._emit(False)

    def update(self, *, total: int | None = None, description: str | None = None) -> None:
        if total is not None:
            self.total = total
        if description is not None:
            self.description = description

    def close(self) -> None:
        self._emit(True)

    def _emit(self, finished: bool) -> None:
        elapsed = time.monotonic() - self.started
        rate = self.done / elapsed if elapsed > 0 else None
        event: dict[str, Any] = {"event": "progress", "stage": self.stage}
        shot = _SHOT.search(self.description)
        if shot:
            event["shot"] = int(shot.group(1))
        event.update(done=self.done, total=self.total, unit=self.unit, rate=_round(rate),
                     eta_s=_round((self.total - self.done) / rate) if rate and self.total is not None else None,
                     elapsed_s=_round(elapsed))
        if finished:
            event["finished"] = True
        self.owner.emit(event)


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def emit_event(event: dict[str, Any], stream: IO[str] | None = None) -> None:
    """One JSON line on ``stream`` (default: stderr as it is now), flushed: a reader sees it at once."""
    stream = stream or sys.stderr
    stream.write(json.dumps(event, default=str) + "\n")
    stream.flush()


class JsonLinesProgress:
    """A ``Progress`` that writes JSON lines to ``stream``, and keeps the warnings for the result event."""

    def __init__(self, stream: IO[str], interval: float = 1.0) -> None:
        self.stream, self.interval = stream, interval
        self.warnings: list[str] = []

    def emit(self, event: dict[str, Any]) -> None:
        emit_event(event, self.stream)

    def task(self, description: str, total: int | None = None, unit: str = "frames") -> ProgressTask:
        return _JsonTask(self, description, total, unit)

    def log(self, message: str) -> None:
        self.emit({"event": "log", "message": message})

    def warning(self, message: str) -> None:
        self.warnings.append(message)
        self.emit({"event": "warning", "message": message})

    def shot(self, **figures: Any) -> None:
        """A shot's frames are written: its doubt figures."""
        self.emit({"event": "shot", **figures})

    def result(self, **fields: Any) -> None:
        """The run's one result event: ``fields`` (output, frames, ...) and every warning it gave."""
        self.emit({"event": "result", **fields, "warnings": list(self.warnings)})


class LogFileProgress:
    """Passes everything to ``inner`` and also appends every message, and every task's end with
    its count and rate, to a log file (timestamped lines), so a farm keeps what the run said."""

    def __init__(self, inner: Progress, path: str) -> None:
        self.inner = inner
        self.file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed when the process ends

    def _write(self, text: str) -> None:
        self.file.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}\n")
        self.file.flush()

    def task(self, description: str, total: int | None = None, unit: str = "frames") -> ProgressTask:
        return _LoggedTask(self, self.inner.task(description, total, unit), description, unit)

    def log(self, message: str) -> None:
        self._write(message)
        self.inner.log(message)

    def warning(self, message: str) -> None:
        self._write(f"warning: {message}")
        deliver_warning(self.inner, message)

    def shot(self, **figures: Any) -> None:
        self._write("shot " + " ".join(f"{k}={v}" for k, v in figures.items()))
        report_shot(self.inner, **figures)

    def result(self, **fields: Any) -> None:
        result = getattr(self.inner, "result", None)
        if result is not None:
            result(**fields)


class _LoggedTask:
    def __init__(self, owner: LogFileProgress, inner: ProgressTask, description: str, unit: str) -> None:
        self.owner, self.inner, self.description, self.unit = owner, inner, description, unit
        self.done, self.started = 0, time.monotonic()
        owner._write(f"start {description}")

    def advance(self, n: int = 1) -> None:
        self.done += n
        self.inner.advance(n)

    def update(self, *, total: int | None = None, description: str | None = None) -> None:
        self.inner.update(total=total, description=description)

    def close(self) -> None:
        seconds = time.monotonic() - self.started
        self.owner._write(f"end {self.description}: {self.done} {self.unit} in {seconds:.1f}s "
                          f"({self.done / max(seconds, 1e-9):.2f} {self.unit}/s)")
        self.inner.close()
