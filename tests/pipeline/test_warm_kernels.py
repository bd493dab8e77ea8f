"""The first run's helper (``lacvid.pipeline.warm_kernels``): real processes, a real empty Numba cache.

The helper is only worth its process if the kernels it compiles are the very ones (and the very
argument types) a colorize then looks up: after it has run, a drawing's colorize into the same cache
must compile no lacvid kernel at all. A new kernel, or a kernel called with new types, fails here
until ``KERNELS`` lists it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lacvid.pipeline import warm_kernels
from lacvid.util import kernels
from tests.support.tiny_clip import colorize_args, make_clip

# Colorize in this process, every lacvid kernel Numba compiles (a cache miss) recorded; stdout's last
# line: whether the helper's list looked cached beforehand, and what compiled.
_COLORIZE_AND_RECORD = """
import json, sys
from numba.core import event
from lacvid.pipeline import warm_kernels
compiled = []
class Record(event.Listener):
    def on_start(self, ev):
        pass
    def on_end(self, ev):
        d = ev.data["dispatcher"]
        if d.py_func.__module__.startswith("lacvid"):
            compiled.append(d.py_func.__qualname__ + str(ev.data["args"]))
event.register("numba:compile", Record())
missing = warm_kernels.missing()
import lacvid.util.kernels
lacvid.util.kernels.KERNEL_MIN_PIXELS = int(sys.argv.pop(1))  # 0: the large-frame kernels run on the tiny clip too
from lacvid.cli import app
app(sys.argv[1:], standalone_mode=False)
print(json.dumps({"missing_before": missing, "compiled": compiled}))
"""


def _env(numba_cache: Path) -> dict[str, str]:
    # LACVID_WARM=0: the colorize below must not start a helper of its own (this test is about one run before it).
    return {**os.environ, "NUMBA_CACHE_DIR": str(numba_cache), "LACVID_WARM": "0", "OMP_NUM_THREADS": "1",
            "LACVID_THREADS": "1"}


@pytest.mark.parametrize("min_pixels", [kernels.KERNEL_MIN_PIXELS, 0])
def test_after_the_helper_a_drawings_colorize_compiles_no_kernel(tmp_path, min_pixels: int) -> None:
    """As a small clip runs (the large-frame kernels unused), and with every kernel made to run on it."""
    clip = make_clip(tmp_path / "clip")
    env = _env(tmp_path / "numba")
    empty = subprocess.run([sys.executable, "-c", "from lacvid.pipeline import warm_kernels as w; print(w.missing())"],
                           env=env, capture_output=True, text=True, timeout=300)
    assert empty.stdout.strip() == "True", empty.stderr      # an empty cache: a first run, the helper would start
    helper = subprocess.run([sys.executable, "-m", "lacvid.pipeline.warm_kernels"], env=env, capture_output=True,
                            text=True, timeout=300)
    assert helper.returncode == 0, helper.stderr
    run = subprocess.run([sys.executable, "-c", _COLORIZE_AND_RECORD, str(min_pixels),
                          *colorize_args(clip, tmp_path / "out.mp4", "-q")],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["missing_before"] is False                    # cached now: a later run starts no helper
    assert seen["compiled"] == [], f"kernels the helper did not compile (add them to KERNELS): {seen['compiled']}"
    assert (tmp_path / "out.mp4").stat().st_size > 0


def test_stop_ends_a_helper_still_compiling_and_is_safe_twice() -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    warmer = warm_kernels.Warmer(process)
    started = time.monotonic()
    warmer.stop()
    assert process.poll() is not None and time.monotonic() - started < 10
    warmer.stop()                                             # already ended: nothing to do
    warm_kernels.Warmer(None).stop()                          # no helper (cached, or turned off)


def test_no_helper_where_it_cannot_help(monkeypatch) -> None:
    monkeypatch.setenv("LACVID_WARM", "0")
    assert warm_kernels.start().process is None               # turned off
    monkeypatch.delenv("LACVID_WARM")
    monkeypatch.setattr(warm_kernels, "missing", lambda: False)
    assert warm_kernels.start().process is None               # every kernel cached already


def test_a_helper_whose_run_is_gone_compiles_nothing(tmp_path) -> None:
    """A run killed outright never stops its helper: the helper sees its parent gone and ends."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()                                               # a process id that is no one's parent now
    helper = subprocess.run([sys.executable, "-m", "lacvid.pipeline.warm_kernels", str(gone.pid)],
                            env=_env(tmp_path / "numba"), capture_output=True, text=True, timeout=300)
    assert helper.returncode == 0, helper.stderr
    assert not list((tmp_path / "numba").rglob("*.nbi"))      # nothing compiled, nothing cached
