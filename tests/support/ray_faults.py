"""Fault injection for the Ray executor's tests and benchmark: kill a worker while it colours a shot."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

TASK_TITLE = b"ray::_color_shot"  # Ray's process title for a worker running lacvid's shot task


def working_workers() -> list[int]:
    """PIDs of this machine's Ray workers that are colouring a shot right now."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if TASK_TITLE in Path(f"/proc/{entry}/cmdline").read_bytes():
                pids.append(int(entry))
        except OSError:
            continue
    return pids


class WorkerKiller(threading.Thread):
    """SIGKILLs one working worker once ``after`` finished frames are in the cache under ``cache``."""

    def __init__(self, cache: Path, after: int = 2) -> None:
        super().__init__(name="lacvid-worker-killer", daemon=True)
        self.cache, self.after = Path(cache), after
        self.killed: list[int] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            if len(list(self.cache.glob("*.zarr/run-*/*/finished/done/c/*"))) >= self.after:
                for pid in working_workers()[:1]:
                    os.kill(pid, signal.SIGKILL)
                    self.killed.append(pid)
                if self.killed:
                    return
            time.sleep(0.005)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)
