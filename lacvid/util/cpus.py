"""How many CPU threads lacvid may use, and the one place every library is told (``--threads N``).

On a shared render-farm node or in a container, ``os.cpu_count()`` is the machine's cores, not
this process's: lacvid would start a thread per core on each of torch, numba, OpenCV, ONNX
Runtime and FFmpeg, and take every core from the other jobs. ``usable_cpus`` counts what the
process may run on (its CPU affinity) and caps it by the cgroup CPU quota (v2 ``cpu.max``, v1
``cpu.cfs_quota_us``), as Docker ``--cpus``, Kubernetes limits and Slurm set it.

``$LACVID_THREADS`` sets the default. ``set_thread_limit(n)`` tells torch, numba and OpenCV;
lacvid's own pools, ONNX Runtime sessions, FFmpeg codecs and numba kernels read
``thread_limit()`` when they start. A library imported later, where a run first needs it
(``load_library("torch")``: the ONNX Runtime path never imports torch), is told then.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import sys
from collections.abc import Collection
from pathlib import Path
from types import ModuleType

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")

_state: dict[str, int] = {}
_told: set[str] = set()  # the libraries told set_thread_limit's limit (none until it is called)


def affinity_cpus() -> int:
    """CPUs the scheduler lets this process run on (``taskset``, cpusets)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    counter = getattr(os, "process_cpu_count", None)  # Python 3.13; no affinity call on macOS and Windows
    return max(1, (counter() if counter else os.cpu_count()) or 1)


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _own_cgroups(proc_cgroup: Path) -> dict[str, str]:
    """{controller ("" for v2): this process's cgroup path} from ``/proc/self/cgroup``."""
    found: dict[str, str] = {}
    for line in (_read(proc_cgroup) or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(",") if parts[1] else [""]:
                found[controller] = parts[2]
    return found


def _folders(mount: Path, own: str | None) -> list[Path]:
    """The process's cgroup folder under ``mount`` and every parent up to ``mount`` (a limit set on a
    parent applies too); just ``mount`` when the path is unknown or not visible (a container's view)."""
    folders = []
    if own and own != "/":
        folder = mount / own.lstrip("/")
        while folder != mount and mount in folder.parents:
            folders.append(folder)
            folder = folder.parent
    return [*folders, mount]


def _v2_quota(folder: Path) -> float | None:
    """CPUs allowed by ``cpu.max`` ("QUOTA PERIOD", "max PERIOD" = none)."""
    text = _read(folder / "cpu.max")
    if not text:
        return None
    parts = text.split()
    try:
        if parts[0] == "max":
            return None
        period = float(parts[1]) if len(parts) > 1 else 100_000.0
        quota = float(parts[0])
    except (ValueError, IndexError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def _v1_quota(folder: Path) -> float | None:
    """CPUs allowed by ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (-1 = none)."""
    try:
        quota = float(_read(folder / "cpu.cfs_quota_us") or "-1")
        period = float(_read(folder / "cpu.cfs_period_us") or "0")
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def cgroup_cpu_limit(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> float | None:
    """CPUs the cgroup quota allows this process (e.g. 1.5), the smallest along its cgroup's path
    under ``root``; None when no quota is set or none can be read."""
    own = _own_cgroups(proc_cgroup)
    limits = [q for f in _folders(root, own.get("")) if (q := _v2_quota(f)) is not None]
    for name in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
        mount = root / name
        if mount.is_dir():
            limits += [q for f in _folders(mount, own.get("cpu")) if (q := _v1_quota(f)) is not None]
    return min(limits) if limits else None


def usable_cpus(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> int:
    """CPUs this process may use: its affinity, capped by the cgroup quota (rounded up, at least 1)."""
    cpus = affinity_cpus()
    quota = cgroup_cpu_limit(root, proc_cgroup)
    if quota is not None:
        cpus = min(cpus, max(1, math.ceil(quota - 1e-9)))
    return cpus


def default_threads() -> int:
    """``--threads``' default: ``$LACVID_THREADS`` when it is a positive integer, else ``usable_cpus()``."""
    try:
        given = int(os.environ.get("LACVID_THREADS", ""))
    except ValueError:
        given = 0
    return given if given > 0 else usable_cpus()


def thread_limit() -> int:
    """The threads lacvid may use now: ``set_thread_limit``'s, else ``default_threads()``."""
    if "limit" not in _state:
        _state["limit"] = default_threads()
    return _state["limit"]


def _tell(library: str, threads: int) -> None:
    if library == "torch":
        sys.modules["torch"].set_num_threads(threads)
    elif library == "numba":
        numba = sys.modules["numba"]
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    elif library == "cv2":
        sys.modules["cv2"].setNumThreads(threads)


def set_thread_limit(threads: int | None = None, load: Collection[str] = ()) -> int:
    """Use at most ``threads`` CPU threads (None: ``default_threads()``); returns the limit.

    Tells torch's intra-op pool, numba's and OpenCV's, each when it is imported already or named in
    ``load`` (imported now: a command that never uses torch should not pay seconds to import it);
    lacvid's own pools, ONNX Runtime, FFmpeg and numba kernels read ``thread_limit()`` as they start.
    """
    if threads is None:
        threads = default_threads()
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    _state["limit"] = threads
    _state["set"] = 1
    _told.clear()
    for library in ("torch", "numba", "cv2"):
        if library not in sys.modules and library in load:
            with contextlib.suppress(ImportError):
                importlib.import_module(library)
        if library in sys.modules:
            _tell(library, threads)
            _told.add(library)
    return threads


def load_library(name: str) -> ModuleType:
    """Import ``name`` (``torch``, ``numba`` or ``cv2``) where lacvid first needs it, and tell it the
    limit ``set_thread_limit`` set, if it has not been told yet.

    So a command imports torch (seconds) only when it runs torch, and torch still runs on
    ``--threads`` threads; without a ``set_thread_limit`` call (a library user's process) the
    library keeps its own setting, as it would have had lacvid imported it at start.
    """
    module = importlib.import_module(name)
    if "set" in _state and name not in _told:
        _tell(name, _state["limit"])
        _told.add(name)
    return module
