"""The few error types lacvid raises on purpose.

Every error a user can cause is an ``InputError`` (exit code 2); its message is one
sentence that names the path and says what to do. Anything else escaping the library is
a bug in lacvid (exit code 1).
"""

from __future__ import annotations


class LacvidError(Exception):
    """Base class of errors lacvid raises deliberately."""

    exit_code = 1


class InputError(LacvidError):
    """Bad input or usage: a missing/corrupt file, unreadable frames, an existing output."""

    exit_code = 2


class OutputExistsError(InputError):
    """The output path already exists and ``overwrite`` was not given."""


class MediaError(InputError):
    """A video or frame directory that cannot be read or written."""


class KeyFrameError(InputError):
    """Key frames that do not fit the input (missing shot key, wrong size, no matching frame)."""


class CheckpointError(InputError):
    """A checkpoint file that is missing, truncated, foreign or of an unknown format."""


class DatasetError(InputError):
    """A training dataset that cannot be used as given."""
