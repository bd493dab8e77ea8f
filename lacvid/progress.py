"""How long-running library calls report progress and warnings without printing.

Library code never prints or imports rich: it takes a ``Progress`` and calls
``task(...)`` / ``advance(...)``, and warns through ``warn`` (the one place a warning goes:
the ``logging`` module, logger ``lacvid`` or a child, and the progress reporter). The CLI
passes a rich progress bar or JSON lines on stderr; Python callers may pass nothing
(``NULL_PROGRESS``) or a plain callable taking a ``ProgressEvent`` (``as_progress``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class ProgressTask(Protocol):
    def advance(self, n: int = 1) -> None: ...

    def update(self, *, total: int | None = None, description: str | None = None) -> None: ...

    def close(self) -> None: ...


class Progress(Protocol):
    """What the library reports through. A reporter may also have ``warning(message)``; one without
    it gets each warning as ``log("warning: ...")`` (``warn``). One with ``shot(**figures)`` also hears
    each shot's doubt figures once its frames are written (``report_shot``)."""

    def task(self, description: str, total: int | None = None, unit: str = "frames") -> ProgressTask:
        """Start a task; ``total`` may be None when the length is unknown (streams)."""
        ...

    def log(self, message: str) -> None:
        """A line for the user (stderr in the CLI), e.g. where a model is exported to."""
        ...


def warn(progress: Progress, message: str, logger: str = "lacvid") -> None:
    """The one way library code warns (a key that does not match its frame, a video cut short):
    ``message`` goes to ``logging`` (``logger``, a child of ``lacvid``) for Python callers, and to
    ``progress`` for the user (``ColorizeResult.warnings`` collects it on the way)."""
    logging.getLogger(logger).warning(message)
    deliver_warning(progress, message)


def deliver_warning(progress: Progress, message: str) -> None:
    """``progress.warning(message)`` where the reporter has it, else one ``warning: ...`` log line."""
    warning = getattr(progress, "warning", None)
    if callable(warning):
        warning(message)
    else:
        progress.log(f"warning: {message}")


def report_shot(progress: Progress, **figures: Any) -> None:
    """``progress.shot(**figures)`` where the reporter has it (``--progress json``: a ``shot`` event), else nothing."""
    shot = getattr(progress, "shot", None)
    if callable(shot):
        shot(**figures)


class _NullTask:
    def advance(self, n: int = 1) -> None:
        pass

    def update(self, *, total: int | None = None, description: str | None = None) -> None:
        pass

    def close(self) -> None:
        pass


class NullProgress:
    """Progress that goes nowhere; the default for library calls."""

    def task(self, description: str, total: int | None = None, unit: str = "frames") -> ProgressTask:
        return _NullTask()

    def log(self, message: str) -> None:
        pass


NULL_PROGRESS: Progress = NullProgress()


@dataclass(frozen=True)
class ProgressEvent:
    """What a progress callable receives (``lacvid.colorize(..., progress=callback)``).

    ``kind``: ``"progress"`` (a stage advanced, or ended: ``finished``), ``"message"`` or
    ``"warning"`` (``message`` holds the text; warnings also reach ``logging``). ``stage`` is the
    task's description as the CLI's bar shows it (``"scanning"``, ``"colorizing shot 2/5"``);
    ``total`` is None while the length is unknown.
    """

    kind: str
    stage: str = ""
    done: int = 0
    total: int | None = None
    unit: str = "frames"
    finished: bool = False
    message: str = ""


class _CallbackTask:
    def __init__(self, owner: CallbackProgress, stage: str, total: int | None, unit: str) -> None:
        self.owner, self.stage, self.total, self.unit, self.done = owner, stage, total, unit, 0

    def _send(self, finished: bool = False) -> None:
        self.owner.callback(ProgressEvent("progress", self.stage, self.done, self.total, self.unit, finished))

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._send()

    def update(self, *, total: int | None = None, description: str | None = None) -> None:
        self.total = self.total if total is None else total
        self.stage = self.stage if description is None else description

    def close(self) -> None:
        self._send(finished=True)


class CallbackProgress:
    """A ``Progress`` that calls ``callback(ProgressEvent)`` on every step, message and warning; the
    callback runs on lacvid's threads, so it should return quickly (hand the event to a queue, say)."""

    def __init__(self, callback: Callable[[ProgressEvent], Any]) -> None:
        self.callback = callback

    def task(self, description: str, total: int | None = None, unit: str = "frames") -> ProgressTask:
        return _CallbackTask(self, description, total, unit)

    def log(self, message: str) -> None:
        self.callback(ProgressEvent("message", message=message))

    def warning(self, message: str) -> None:
        self.callback(ProgressEvent("warning", message=message))


def as_progress(progress: Progress | Callable[[ProgressEvent], Any] | None) -> Progress:
    """What a public function was given as ``progress``: a ``Progress``, a callable taking a
    ``ProgressEvent``, or None (nothing reported)."""
    if progress is None:
        return NULL_PROGRESS
    if hasattr(progress, "task") and hasattr(progress, "log"):
        return progress  # type: ignore[return-value]
    if callable(progress):
        return CallbackProgress(progress)
    raise TypeError(f"progress must be a lacvid.progress.Progress, a callable taking a ProgressEvent, or None, "
                    f"not {type(progress).__name__}")


class WarningRecorder:
    """Passes everything to ``inner`` and keeps every warning, in order (``ColorizeResult.warnings``)."""

    def __init__(self, inner: Progress) -> None:
        self.inner = inner
        self.warnings: list[str] = []

    def task(self, description: str, total: int | None = None, unit: str = "frames") -> ProgressTask:
        return self.inner.task(description, total, unit)

    def log(self, message: str) -> None:
        self.inner.log(message)

    def warning(self, message: str) -> None:
        self.warnings.append(message)
        deliver_warning(self.inner, message)

    def shot(self, **figures: Any) -> None:
        report_shot(self.inner, **figures)
