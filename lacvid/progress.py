"""How long-running library calls report progress without printing.

Library code never prints or imports rich: it takes a ``Progress`` and calls
``task(...)`` / ``advance(...)``. The CLI passes a rich progress bar on stderr; tests and
other callers pass nothing and get ``NULL_PROGRESS``.
"""

from __future__ import annotations

from typing import Protocol


class ProgressTask(Protocol):
    def advance(self, n: int = 1) -> None: ...

    def update(self, *, total: int | None = None, description: str | None = None) -> None: ...

    def close(self) -> None: ...


class Progress(Protocol):
    def task(self, description: str, total: int | None = None, unit: str = "frames") -> ProgressTask:
        """Start a task; ``total`` may be None when the length is unknown (streams)."""
        ...

    def log(self, message: str) -> None:
        """A line for the user (stderr in the CLI), e.g. a warning about a fallback."""
        ...


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
