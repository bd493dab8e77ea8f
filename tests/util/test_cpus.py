"""``--threads`` and its default (issue 22): the CPUs this process may use, from its affinity and
the cgroup quota (read here from fake cgroup files), never the machine's core count."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lacvid.util import cpus
from tests.support.checks import assert_one_error_line


def _cgroup(tmp_path: Path, files: dict[str, str], own: str = "0::/") -> tuple[Path, Path]:
    root = tmp_path / "sys-fs-cgroup"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text + "\n")
    root.mkdir(exist_ok=True)
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(own + "\n")
    return root, proc


@pytest.mark.parametrize("files, own, limit", [
    ({"cpu.max": "150000 100000"}, "0::/", 1.5),                       # docker --cpus 1.5
    ({"cpu.max": "max 100000"}, "0::/", None),                         # no quota
    ({"cpu.max": "200000"}, "0::/", 2.0),                              # the period left out: 100 ms
    ({"farm/cpu.max": "200000 100000", "farm/job7/cpu.max": "max 100000", "cpu.max": "max 100000"},
     "0::/farm/job7", 2.0),                                            # a parent's quota applies
    ({"farm/job7/cpu.max": "50000 100000", "farm/cpu.max": "400000 100000"}, "0::/farm/job7", 0.5),
    ({"cpu,cpuacct/cpu.cfs_quota_us": "300000", "cpu,cpuacct/cpu.cfs_period_us": "100000"},
     "4:cpu,cpuacct:/", 3.0),                                          # cgroup v1
    ({"cpu,cpuacct/cpu.cfs_quota_us": "-1", "cpu,cpuacct/cpu.cfs_period_us": "100000"}, "4:cpu,cpuacct:/", None),
    ({"cpu.max": "lots of cpus"}, "0::/", None),                       # unreadable: no limit, no crash
    ({}, "", None),                                                    # no cgroup files at all
])
def test_cgroup_quota(tmp_path, files, own, limit) -> None:
    root, proc = _cgroup(tmp_path, files, own)
    assert cpus.cgroup_cpu_limit(root, proc) == limit


def test_usable_cpus_is_the_affinity_capped_by_the_quota(tmp_path) -> None:
    affinity = cpus.affinity_cpus()
    root, proc = _cgroup(tmp_path, {"cpu.max": "50000 100000"})
    assert cpus.usable_cpus(root, proc) == 1                            # half a CPU still gets one thread
    root, proc = _cgroup(tmp_path / "big", {"cpu.max": f"{(affinity + 7) * 100000} 100000"})
    assert cpus.usable_cpus(root, proc) == affinity                     # a quota above the affinity


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this platform")
def test_usable_cpus_follows_the_affinity_not_the_core_count(tmp_path) -> None:
    before = os.sched_getaffinity(0)
    root, proc = _cgroup(tmp_path, {})
    try:
        os.sched_setaffinity(0, {min(before)})  # as taskset -c N does
        assert cpus.usable_cpus(root, proc) == 1
    finally:
        os.sched_setaffinity(0, before)


def test_set_thread_limit_tells_every_library() -> None:
    import cv2
    import numba
    import torch

    before = (torch.get_num_threads(), numba.get_num_threads(), cv2.getNumThreads(), cpus.thread_limit())
    try:
        assert cpus.set_thread_limit(2) == 2
        assert cpus.thread_limit() == 2 and torch.get_num_threads() == 2
        assert numba.get_num_threads() == min(2, numba.config.NUMBA_NUM_THREADS)
        assert cv2.getNumThreads() == 2
        with pytest.raises(ValueError):
            cpus.set_thread_limit(0)
    finally:
        torch.set_num_threads(before[0])
        numba.set_num_threads(before[1])
        cv2.setNumThreads(before[2])
        cpus.set_thread_limit(before[3])


def test_lacvid_threads_sets_the_default(monkeypatch) -> None:
    monkeypatch.setenv("LACVID_THREADS", "3")
    assert cpus.default_threads() == 3
    monkeypatch.setenv("LACVID_THREADS", "many")
    assert cpus.default_threads() == cpus.usable_cpus()


COMMANDS = [["colorize", "in", "--keys", "k", "-o", "out"], ["preview", "in", "--keys", "k", "-o", "s.png"],
            ["batch", "jobs.json"], ["train", "data", "-o", "run"], ["synth", "out"], ["lines", "in", "-o", "o"],
            ["shots", "in"], ["keys", "in", "-o", "k"], ["frames", "in.mp4", "-o", "f"], ["encode", "f", "-o", "o.mp4"],
            ["export", "m.pt", "-o", "o"]]


@pytest.mark.parametrize("args", COMMANDS, ids=[a[0] for a in COMMANDS])
@pytest.mark.parametrize("bad", ["0", "-2", "two"])
def test_threads_must_be_a_positive_integer(cli, tmp_path, args, bad) -> None:
    line = assert_one_error_line(cli(*args, "--threads", bad))
    assert "--threads" in line, line


def test_threads_is_applied_before_a_command_computes(cli, make_video, tmp_path) -> None:
    import torch

    before = torch.get_num_threads()
    clip = make_video(tmp_path / "in.mp4", n_frames=3, size=(32, 24), audio=False)
    try:
        result = cli("frames", clip, "-o", tmp_path / "f", "-q", "--threads", "2")
        assert result.exit_code == 0, result.stderr
        assert cpus.thread_limit() == 2 and torch.get_num_threads() == 2
        result = cli("frames", clip, "-o", tmp_path / "g", "-q")  # the default: $LACVID_THREADS (1 in tests)
        assert result.exit_code == 0, result.stderr
        assert cpus.thread_limit() == cpus.default_threads() == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_a_command_without_networks_does_not_import_torch_for_threads(make_video, tmp_path) -> None:
    """--threads tells torch only where a command uses it: ``lacvid frames`` stays fast to start."""
    import subprocess
    import sys

    clip = make_video(tmp_path / "in.mp4", n_frames=3, size=(32, 24), audio=False)
    probe = ("import sys\nfrom lacvid.cli import app\ntry:\n    app(sys.argv[1:])\nexcept SystemExit as e:\n"
             "    assert not e.code, e.code\nprint('torch' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", probe, "frames", str(clip), "-o", str(tmp_path / "f"), "-q",
                             "--threads", "1"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "False", result.stdout


def test_load_library_tells_a_late_import_the_limit(monkeypatch) -> None:
    """torch imported after --threads was applied (colorize imports it only for the torch backend) is told
    the limit when lacvid loads it; without a limit set, it keeps its own."""
    import torch

    before = torch.get_num_threads()
    try:
        monkeypatch.setattr(cpus, "_state", {})
        monkeypatch.setattr(cpus, "_told", set())
        torch.set_num_threads(3)
        assert cpus.load_library("torch") is torch and torch.get_num_threads() == 3  # no limit set: untouched
        cpus._state.update(limit=2, set=1)  # as set_thread_limit(2) before torch was imported
        assert cpus.load_library("torch") is torch and torch.get_num_threads() == 2
        torch.set_num_threads(3)
        cpus.load_library("torch")  # told once: a later change by the caller stands
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)
