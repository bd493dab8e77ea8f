"""Scale-out on a real local Ray cluster of 2 worker processes: the same bytes as one process, a
killed worker costs nothing but time, a batch of inputs writes every output, bad set-ups are one line."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the Ray tests need pip install 'lacvid[ray]'")

from lacvid import ColorizeOptions, colorize  # noqa: E402
from lacvid.errors import InputError  # noqa: E402
from lacvid.pipeline.ray_executor import RayExecutor, WorkerMismatch, _worker, segments  # noqa: E402
from lacvid.pipeline.shot_work import RunPlan  # noqa: E402
from tests.support.checks import assert_one_error_line  # noqa: E402
from tests.support.ray_faults import WorkerKiller  # noqa: E402
from tests.support.tiny_clip import colorize_args, folder_hashes, make_shots_clip  # noqa: E402

LENGTHS = (9, 7, 10)  # three shots


@pytest.fixture(scope="module")
def cluster():
    """One local cluster of 2 worker CPUs for the module (a RayExecutor joins it rather than start its own)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def clip(tmp_path_factory, cli_module):
    clip = make_shots_clip(tmp_path_factory.mktemp("ray"), LENGTHS)
    reference = clip["root"] / "reference"
    result = cli_module(*colorize_args(clip, reference, "-q", "--shots", str(clip["shots_file"])))
    assert result.exit_code == 0, result.stderr
    return {**clip, "reference": folder_hashes(reference)}


@pytest.fixture(scope="module")
def cli_module():
    from lacvid.cli import app
    from tests.support.cli import cli_runner

    def invoke(*args):
        return cli_runner().invoke(app, [str(a) for a in args])
    return invoke


def _options(clip, cache: Path) -> ColorizeOptions:
    return ColorizeOptions(model=str(clip["model"]), cache_dir=cache, backend="torch", shots=str(clip["shots_file"]))


def test_segments_cover_the_range_in_order() -> None:
    assert segments(range(3, 13), 4) == [range(3, 7), range(7, 11), range(11, 13)]


@pytest.mark.slow
def test_two_local_workers_write_the_one_process_output_byte_for_byte(cli, clip, tmp_path) -> None:
    """Through the CLI, which starts (and stops) its own local cluster."""
    out = tmp_path / "out"
    result = cli(*colorize_args(clip, out, "-q", "--shots", str(clip["shots_file"]), "--workers", "2"))
    assert result.exit_code == 0, result.stderr
    assert folder_hashes(out) == clip["reference"]
    assert not ray.is_initialized()  # the CLI's cluster is gone with the run


@pytest.mark.slow
def test_a_worker_killed_mid_run_costs_nothing_but_time(cluster, clip, tmp_path) -> None:
    cache, out = tmp_path / "cache", tmp_path / "out"
    killer = WorkerKiller(cache, after=2)
    killer.start()
    executor = RayExecutor(workers=2, segment_frames=3)   # many small tasks: the kill lands mid-shot
    try:
        result = colorize(clip["lines_dir"], clip["keys_dir"], out, _options(clip, cache), executor=executor)
    finally:
        killer.stop()
        executor.close()
    assert killer.killed, "no worker was seen colouring a shot"
    assert result.frames == sum(LENGTHS)
    assert folder_hashes(out) == clip["reference"]


def test_batch_of_two_inputs_writes_both(cli, cluster, clip, tmp_path) -> None:
    import json
    import shutil

    second = tmp_path / "second"
    shutil.copytree(clip["lines_dir"], second)
    jobs = tmp_path / "jobs.json"
    common = {"model": str(clip["model"]), "backend": "torch", "shots": str(clip["shots_file"]), "cache_dir": "cache"}
    jobs.write_text(json.dumps([
        {"input": str(clip["lines_dir"]), "keys": str(clip["keys_dir"]), "output": "one", "options": common},
        {"input": "second", "keys": str(clip["keys_dir"]), "output": "two.mkv", "options": {**common, "codec": "ffv1"}},
    ]))
    result = cli("batch", jobs, "--workers", "2", "-q")
    assert result.exit_code == 0, result.stderr
    assert folder_hashes(tmp_path / "one") == clip["reference"]
    assert (tmp_path / "two.mkv").stat().st_size > 0
    table = result.stdout.splitlines()
    assert table[0].split()[:3] == ["input", "output", "frames"] and len(table) == 3
    assert table[2].split()[1:3] == [str(tmp_path / "two.mkv"), str(sum(LENGTHS))]


def test_without_ray_the_flag_says_how_to_install_it(cli, clip, tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)   # as if not installed
    line = assert_one_error_line(cli(*colorize_args(clip, tmp_path / "o", "--workers", "2")))
    assert "pip install 'lacvid[ray]'" in line


def test_a_cluster_that_does_not_answer_is_one_line_in_seconds(cli, clip, tmp_path) -> None:
    started = time.monotonic()
    line = assert_one_error_line(cli(*colorize_args(clip, tmp_path / "o", "--ray", "ray://127.0.0.1:1")))
    assert "ray://127.0.0.1:1" in line and "does not answer" in line
    assert time.monotonic() - started < 60
    assert not (tmp_path / "o").exists()


def _plan(clip, **changes) -> RunPlan:
    plan = RunPlan(clip["lines_dir"], clip["cache"], "no-such-input", "prep", (48, 64), (48, 64), ColorizeOptions(),
                   Path(clip["model"]), "digest", "cpu", "torch", ())
    return RunPlan(**{**plan.__dict__, **changes})


def test_a_worker_with_another_lacvid_or_without_the_cache_refuses_in_one_line(clip, tmp_path) -> None:
    with pytest.raises(WorkerMismatch, match="runs lacvid .* but the driver runs 0.0.1"):
        _worker(_plan(clip, version="0.0.1"))
    with pytest.raises(InputError, match="cannot reach the cache entry"):
        _worker(_plan(clip, cache_root=tmp_path / "elsewhere"))


@pytest.mark.slow
def test_ctrl_c_on_the_driver_stops_the_job_and_a_rerun_resumes(clip, tmp_path) -> None:
    import signal as signals

    from tests.support.checks import skip_unless_ctrl_c_reaches_children
    from tests.support.tiny_clip import lacvid_process

    skip_unless_ctrl_c_reaches_children()
    job = dict(clip, cache=tmp_path / "cache")
    out = tmp_path / "out"
    args = colorize_args(job, out, "--shots", str(clip["shots_file"]), "--workers", "2")
    proc = lacvid_process(args)
    deadline = time.monotonic() + 180
    while not list(job["cache"].glob("*.zarr/run-*/*/finished/done/c/*")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.01)
    proc.send_signal(signals.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130 and stderr.endswith("lacvid: interrupted\n"), stderr[-2000:]
    assert not out.exists()
    again = lacvid_process(args)
    stdout, stderr = again.communicate(timeout=300)
    assert again.returncode == 0, stderr[-2000:]
    assert folder_hashes(out) == clip["reference"]


def test_networks_run_on_demand_on_the_workers_give_the_one_process_frames(cluster, tmp_path) -> None:
    """A shot whose frame 2 needs the colour network (``tests.support.drawings.revealed_box``), in segments of
    two frames: the segment holding it runs it on its worker, and the frames are the one-process frames."""
    from tests.support.drawings import write_revealed_box
    from tests.support.tiny_clip import tiny_model

    lines, keys = write_revealed_box(tmp_path / "clip", pan=40)
    options = ColorizeOptions(model=str(tiny_model(tmp_path / "tiny.pt")), backend="torch", shots="single")
    colorize(lines, keys, tmp_path / "one", replace(options, cache=tmp_path / "one-cache"))
    executor = RayExecutor(workers=2, segment_frames=2)
    try:
        colorize(lines, keys, tmp_path / "ray", replace(options, cache=tmp_path / "ray-cache"), executor=executor)
    finally:
        executor.close()
    assert folder_hashes(tmp_path / "ray") == folder_hashes(tmp_path / "one")
    colour = list((tmp_path / "ray-cache").glob("*.zarr/run-*/*/colour/done/c/*"))
    assert len(colour) == 1, "the colour network ran on a worker, for frame 2 alone"
    assert not list((tmp_path / "ray-cache").glob("*.zarr/run-*/*/refined/done/c/*")), "no temporal network"
