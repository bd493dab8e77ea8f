"""A new user's first run: ``lacvid colorize`` with the bundled model on ONNX Runtime never imports torch
(seconds of start-up) and exports nothing (its graphs ship with lacvid); ``--backend torch`` still runs,
on ``--threads`` threads. ``benchmarks/first_run.py`` times it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.tiny_clip import N, make_clip

# Runs the CLI in this process, then says whether torch was imported and, if it was, its thread count.
PROBE = """
import sys
from lacvid.cli import app
try:
    app(sys.argv[1:])
except SystemExit as e:
    assert not e.code, e.code
torch = sys.modules.get("torch")
print("torch" in sys.modules, torch.get_num_threads() if torch else 0)
"""


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> dict:
    return make_clip(tmp_path_factory.mktemp("first"))


def _colorize(clip: dict, out: Path, *flags: str) -> tuple[bool, int]:
    """Run the probe on ``lacvid colorize`` of the clip with the bundled model; (torch imported, its threads)."""
    args = ["colorize", str(clip["lines_dir"]), "--keys", str(clip["keys_dir"]), "-o", str(out), "--cache",
            str(clip["cache"]), "-q", *flags]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=600,
                          env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(list(out.glob("*.png"))) == N
    imported, threads = done.stdout.splitlines()[-1].split()
    return imported == "True", int(threads)


def test_colorize_on_onnx_runtime_never_imports_torch(clip, tmp_path) -> None:
    """Before: models.runtime imported torch at the top, load_model read the checkpoint with it, --threads
    loaded it and the first run exported the graphs with it (8.6 s for a 4-frame clip)."""
    imported, _ = _colorize(clip, tmp_path / "onnx", "--backend", "onnx", "--device", "cpu", "--threads", "2")
    assert not imported
    assert not (clip["cache"] / "onnx").exists()  # the shipped graphs ran: nothing was exported


def test_colorize_defaults_never_import_torch_without_a_gpu(clip, tmp_path) -> None:
    """``--device auto --backend auto`` (what a new user types) on a machine without a GPU."""
    from lacvid.util.devices import no_gpu_here

    if "torch" in sys.modules:  # no_gpu_here asks torch once it is imported; ask in a clean process
        done = subprocess.run([sys.executable, "-c", "from lacvid.util.devices import no_gpu_here as f; print(f())"],
                              capture_output=True, text=True, timeout=60)
        gpu_free = done.stdout.strip() == "True"
    else:
        gpu_free = no_gpu_here()
    if not gpu_free:
        pytest.skip("this machine may have a GPU: auto asks torch")
    imported, _ = _colorize(clip, tmp_path / "auto")
    assert not imported


def test_the_torch_backend_still_runs_on_the_threads_asked_for(clip, tmp_path) -> None:
    """torch, imported only now, is told ``--threads`` (cpus.load_library), as it was when loaded up front."""
    imported, threads = _colorize(clip, tmp_path / "torch", "--backend", "torch", "--device", "cpu",
                                  "--threads", "2")
    assert imported and threads == 2
