"""Outputs that appear complete or not at all.

Every file or directory lacvid writes is first written under a temporary name beside the
target (same filesystem, so the final rename is atomic) and renamed when complete. An
existing output is never replaced unless the caller asked to overwrite it, and a failure
leaves nothing under the final name.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import uuid
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path

from lacvid.errors import InputError, OutputExistsError

TMP_MARKER = ".lacvid-tmp"
# Files a frame folder may hold besides frames and still be lacvid's to replace (OS litter).
_LITTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


def _resolved(path: Path) -> Path:
    """``path`` with symlinks and ``..`` resolved, even where it does not exist yet."""
    return Path(os.path.realpath(os.path.abspath(path)))


def check_not_an_input(path: Path, inputs: Mapping[str, Path | None]) -> None:
    """Refuse an output that is, contains or lies inside one of ``inputs`` (``{"input": path, ...}``).

    Replacing it (``--overwrite``) or writing into it would destroy or mix with what the run reads.
    """
    out = _resolved(path)
    for what, given in inputs.items():
        if given is None:
            continue
        src = _resolved(given)
        if out == src or (out.exists() and src.exists() and os.path.samefile(out, src)):
            relation = "is"
        elif src in out.parents:
            relation = "lies inside"
        elif out in src.parents:
            relation = "contains"
        else:
            continue
        raise InputError(f"output {path} {relation} the {what} {given}; lacvid never writes over what it reads, "
                         "so choose an output path outside it")


_FRAME_NAME = re.compile(r"^\d+\.(png|jpe?g|webp|tiff?)$", re.IGNORECASE)  # 000120.png: by frame index


def foreign_entry(folder: Path, frame_names: Collection[str] = ()) -> str | None:
    """The first entry of ``folder`` that is not a frame file lacvid could have written, or None.

    lacvid names frames by index (``000120.png``) or after the input's frames (``frame_names``,
    also with ``.png``); anything else there (another file, a subfolder) is the user's, so the
    folder is never replaced.
    """
    allowed = set(frame_names) | {str(Path(n).with_suffix(".png")) for n in frame_names}
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        return f"({exc.strerror or exc})"
    for entry in entries:
        if entry.name in _LITTER:
            continue
        if not entry.is_file(follow_symlinks=False) or not (entry.name in allowed or _FRAME_NAME.match(entry.name)):
            return entry.name + ("/" if entry.is_dir() else "")
    return None


def check_output_path(path: Path, overwrite: bool, *, inputs: Mapping[str, Path | None] | None = None,
                      frames_folder: bool = False, frame_names: Collection[str] = ()) -> None:
    """Fail early (before any work) when ``path`` may not be written.

    Refused, whatever ``overwrite`` says: an output that is, contains or lies inside an input
    (``inputs``), and (with ``frames_folder``) an existing folder holding anything but frame
    files (``foreign_entry``). Without ``overwrite`` any existing output is refused. Then the parent must be a
    writable folder.
    """
    path = Path(path)
    if inputs:
        check_not_an_input(path, inputs)
    if path.exists() or path.is_symlink():
        foreign = foreign_entry(path, frame_names) if frames_folder and path.is_dir() else None
        if foreign is not None:
            raise OutputExistsError(f"output {path} already exists and holds {foreign}, which lacvid did not write; "
                                    "lacvid replaces only a folder of its own frames, so choose another output path")
        if frames_folder and not path.is_dir():
            raise OutputExistsError(f"output {path} is a file, not a frame folder; choose another output path "
                                    "(or give it a video suffix such as .mp4)")
        if not overwrite:
            raise OutputExistsError(f"output {path} already exists; pass --overwrite to replace it or choose "
                                    "another path")
    parent = path.parent if str(path.parent) else Path(".")
    existing = parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"cannot write {path}: {existing} is a file, not a folder; choose another output path")
    if existing != parent:
        raise InputError(f"output folder {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write into {parent} (permission denied); choose a writable output path")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, another user's
        return True
    return True


def temporary_name(path: Path, old: bool = False) -> Path:
    """A sibling temporary name recording the owning process, so a later run can tell stale ones."""
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    if old:
        return path.with_name(f".{path.name}{TMP_MARKER}-old-{tag}")
    # Keep the suffix last so writers that pick a container from it (PyAV) still can.
    return path.with_name(f".{path.stem}{TMP_MARKER}-{tag}{path.suffix}")


def remove_stale_in_folder(folder: Path) -> list[Path]:
    """Remove every temporary in ``folder`` whose owner is gone (frames half-written into a frame folder)."""
    pattern = re.compile(rf"^\..+{re.escape(TMP_MARKER)}-(?:old-)?(\d+)-[0-9a-f]{{8}}")
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry.name)
        if match and not _pid_alive(int(match.group(1))):
            _remove(Path(entry.path))
            removed.append(Path(entry.path))
    return removed


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove ``path``'s temporaries left by processes that are gone (SIGKILL, power loss); return them.

    Only this output's own temporaries, and only those whose owner (the PID in the name) is dead.
    """
    path = Path(path)
    mine = re.compile(rf"^\.{re.escape(path.stem)}{re.escape(TMP_MARKER)}-(\d+)-[0-9a-f]{{8}}{re.escape(path.suffix)}$")
    old = re.compile(rf"^\.{re.escape(path.name)}{re.escape(TMP_MARKER)}-old-(\d+)-[0-9a-f]{{8}}$")
    removed = []
    try:
        siblings = list(os.scandir(path.parent if str(path.parent) else "."))
    except OSError:
        return removed
    for entry in siblings:
        match = mine.match(entry.name) or old.match(entry.name)
        if match and not _pid_alive(int(match.group(1))):
            _remove(Path(entry.path))
            removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def atomic_output(path: Path | str, *, overwrite: bool = False, directory: bool = False,
                  frames_folder: bool = False, frame_names: Collection[str] = ()) -> Iterator[Path]:
    """Yield a temporary sibling path to write; rename it to ``path`` on success.

    With ``directory=True`` the temporary path is created as an empty directory. On any
    exception (Ctrl-C included) the temporary path is removed and ``path`` is untouched.
    Temporaries of this output left by dead processes are removed first. ``frames_folder``,
    ``frame_names``: see ``check_output_path``.
    """
    path = Path(path)
    check_output_path(path, overwrite, frames_folder=frames_folder, frame_names=frame_names)
    remove_stale_temporaries(path)
    tmp = temporary_name(path)
    try:
        if directory:
            tmp.mkdir()
    except OSError as exc:
        raise InputError(f"cannot create the output folder {path} ({exc.strerror or exc}); choose an output path "
                         "in a writable folder") from exc
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
        old = temporary_name(path, old=True)
        try:
            os.replace(path, old)
        except FileNotFoundError:  # another run replacing the same output (a shared cache) took it first
            pass
        except OSError as exc:
            if exc.errno not in _UNMOVABLE:
                _remove(tmp)
                raise
            _replace_in_place(tmp, path, exc, frames_folder)
            return
        try:
            os.replace(tmp, path)
        except OSError as exc:
            _remove(tmp)
            if not (directory and path.is_dir() and exc.errno in (errno.ENOTEMPTY, errno.EEXIST)):
                raise
            # another run published the same output between our two renames: both are complete
        _remove(old)
    else:
        os.replace(tmp, path)


# rename(2) of an output that stays where it is: a mount point (EBUSY), a bind mount (EXDEV), a
# folder the parent's sticky bit or an ACL keeps in place (EPERM, EACCES).
_UNMOVABLE = (errno.EBUSY, errno.EXDEV, errno.EPERM, errno.EACCES)


def _replace_in_place(tmp: Path, path: Path, exc: OSError, frames_folder: bool) -> None:
    """Replace an output that cannot be renamed by writing into it: only a frame folder, whose
    entries ``check_output_path`` found to be lacvid's own frames. Each frame is moved in under a
    temporary name, then renamed (never half-written); old frames not written again go last."""
    if not (frames_folder and tmp.is_dir() and path.is_dir() and not path.is_symlink()):
        _remove(tmp)
        raise InputError(f"cannot replace {path} ({exc.strerror or exc}): it cannot be renamed (a mount point, or "
                         "in use); remove it yourself or choose another output path") from exc
    try:
        names = sorted(os.listdir(tmp))
        for name in names:
            part = temporary_name(path / name)
            try:
                shutil.move(tmp / name, part)  # a copy when ``path`` is another filesystem (a mount point)
                os.replace(part, path / name)
            except BaseException:
                _remove(part)
                raise
        for entry in os.scandir(path):
            if entry.name not in names and entry.name not in _LITTER and TMP_MARKER not in entry.name:
                _remove(Path(entry.path))
    finally:
        _remove(tmp)
