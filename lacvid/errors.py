"""The few error types lacvid raises on purpose.

Every error a user can cause is an ``InputError`` (exit code 2); its message is one
sentence that names the path and says what to do. Anything else escaping the library is
a bug in lacvid (exit code 1).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path


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


class CacheError(InputError):
    """A cache entry that cannot be read or written; ``lacvid cache clean`` removes it."""


class DiskFullError(InputError):
    """No space left where lacvid writes (the cache or the output)."""


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or the user's quota) is full: the case ``disk_full`` words."""
    return getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT)


def mount_point(path: Path) -> Path:
    """The mount point holding ``path`` (what a user frees space on), for messages."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def disk_full(path: Path, needed_bytes: int, advice: str) -> DiskFullError:
    """The one message for a full disk: where, about how much more, and what to do."""
    mb = max(1, -(-int(needed_bytes) // 1_000_000))
    return DiskFullError(f"no space left on {mount_point(path)} (needed about {mb} MB more) while writing {path}; "
                         f"free some space or {advice}")
