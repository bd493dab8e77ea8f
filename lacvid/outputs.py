"""Outputs that appear complete or not at all.

Every file or directory lacvid writes is first written under a temporary name beside the
target (same filesystem, so the final rename is atomic) and renamed when complete. An
existing output is never replaced unless the caller asked to overwrite it, and a failure
leaves nothing under the final name.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from lacvid.errors import InputError, OutputExistsError

TMP_MARKER = ".lacvid-tmp"


def check_output_path(path: Path, overwrite: bool) -> None:
    """Fail early (before any work) when ``path`` exists or its parent cannot take it."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"output {path} already exists; pass --overwrite to replace it or choose another path")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise InputError(f"output folder {parent} does not exist; create it first")
    if not parent.is_dir():
        raise InputError(f"cannot write {path}: {parent} is a file, not a folder; choose another output path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write into {parent} (permission denied); choose a writable output path")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@contextlib.contextmanager
def atomic_output(path: Path | str, *, overwrite: bool = False, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling path to write; rename it to ``path`` on success.

    With ``directory=True`` the temporary path is created as an empty directory. On any
    exception (Ctrl-C included) the temporary path is removed and ``path`` is untouched.
    """
    path = Path(path)
    check_output_path(path, overwrite)
    # Keep the suffix last so writers that pick a container from it (PyAV) still can.
    tmp = path.with_name(f".{path.stem}{TMP_MARKER}-{uuid.uuid4().hex[:8]}{path.suffix}")
    try:
        if directory:
            tmp.mkdir()
    except PermissionError as exc:
        raise InputError(f"cannot write into {path.parent} (permission denied); choose a writable output path") from exc
    try:
        yield tmp
    except BaseException:
        _remove(tmp)
        raise
    if path.exists():
        if not overwrite:  # appeared while we worked
            _remove(tmp)
            raise OutputExistsError(f"output {path} appeared while lacvid was writing; nothing was overwritten")
        # Move the old output aside first so a failure in between never loses both.
        old = path.with_name(f".{path.name}{TMP_MARKER}-old-{uuid.uuid4().hex[:8]}")
        os.replace(path, old)
        os.replace(tmp, path)
        _remove(old)
    else:
        os.replace(tmp, path)
