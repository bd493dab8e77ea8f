"""lacvid.progress: warnings go one way (logging, the reporter, the result); a callable is a reporter."""

from __future__ import annotations

import logging

import pytest

from lacvid.progress import NULL_PROGRESS, ProgressEvent, WarningRecorder, as_progress, warn


class _Lines:
    """A reporter as Python callers wrote them before warnings had their own method: task and log."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def task(self, description, total=None, unit="frames"):
        return NULL_PROGRESS.task(description, total, unit)

    def log(self, message: str) -> None:
        self.lines.append(message)


def test_a_warning_reaches_logging_the_reporter_and_the_recorder(caplog) -> None:
    inner = _Lines()
    recorder = WarningRecorder(inner)
    with caplog.at_level(logging.WARNING, logger="lacvid"):
        warn(recorder, "video x.mp4 ends after 3 frames")
        recorder.log("exporting the model")
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        ("lacvid", "WARNING", "video x.mp4 ends after 3 frames")]
    assert recorder.warnings == ["video x.mp4 ends after 3 frames"]
    assert inner.lines == ["warning: video x.mp4 ends after 3 frames", "exporting the model"]


def test_a_callable_gets_progress_messages_and_warnings() -> None:
    events: list[ProgressEvent] = []
    progress = as_progress(events.append)
    task = progress.task("scanning", total=2)
    task.update(description="scanning shot 1/1")
    task.advance()
    task.advance()
    task.close()
    progress.log("hello")
    warn(progress, "careful")
    assert events == [
        ProgressEvent("progress", "scanning shot 1/1", 1, 2),
        ProgressEvent("progress", "scanning shot 1/1", 2, 2),
        ProgressEvent("progress", "scanning shot 1/1", 2, 2, finished=True),
        ProgressEvent("message", message="hello"),
        ProgressEvent("warning", message="careful"),
    ]


def test_as_progress_passes_reporters_through_and_refuses_the_rest() -> None:
    lines = _Lines()
    assert as_progress(lines) is lines and as_progress(None) is NULL_PROGRESS
    with pytest.raises(TypeError, match="progress must be"):
        as_progress(42)  # type: ignore[arg-type]


def test_the_library_logger_prints_nothing_unless_configured(capfd) -> None:
    """``lacvid`` carries a NullHandler, so Python's last-resort handler never prints its warnings
    (the CLI says them once, in its own format); a caller who configures logging sees them."""
    import lacvid  # noqa: F401 - the package adds the handler

    logger = logging.getLogger("lacvid")
    assert any(isinstance(h, logging.NullHandler) for h in logger.handlers)
    logger.propagate, before = False, logger.propagate  # as with no logging configured at all
    try:
        warn(NULL_PROGRESS, "nobody asked")
    finally:
        logger.propagate = before
    assert capfd.readouterr().err == ""
