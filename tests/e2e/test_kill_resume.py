"""SIGKILL a real ``lacvid colorize`` at seeded random points, three times, then let it finish:
the frames must be byte-identical to an uninterrupted run and no temporary may be left.

SIGKILL runs no handler and no ``finally``: only the cache's "data, checksum, flag last"
protocol and the output's "temporary, then rename" keep a resumed run exact, and only the
PID in a temporary's name lets the finishing run remove what the killed ones left.
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

from lacvid import media
from lacvid.pipeline.cache import input_fingerprint
from lacvid.util.outputs import TMP_MARKER
from tests.support.tiny_clip import colorize_args, folder_hashes, lacvid_process, make_clip

N = 16
SEED = 11

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# Where a run can be killed: after k frames preprocessed, finished in the cache, or written to its temporary
# output ({pid}: the running process's own temporary, not one a killed run left). (The networks run on no
# frame of this clip: its keys decide every region; tests/pipeline/test_networks_on_demand.py resumes them.)
# One kill per pass, at a seeded random frame of it.
STAGES = ([("prep-*/done/c/*", k) for k in range(1, N - 4)],
          [("run-*/*/finished/done/c/*", k) for k in range(1, N - 4)],
          [(f".out{TMP_MARKER}-{{pid}}-*/*.png", k) for k in range(1, N - 4)])


def _count(root: Path, pattern: str) -> int:
    return len(list(root.glob(pattern)))


@pytest.mark.slow
def test_sigkill_three_times_then_resume_is_byte_identical(cli, tmp_path) -> None:
    clip = make_clip(tmp_path / "job", n=N)
    reference = tmp_path / "reference"
    cache_ref = dict(clip, cache=tmp_path / "cache-ref")        # its own cache: a truly uninterrupted run
    result = cli(*colorize_args(cache_ref, reference, "-q"))
    assert result.exit_code == 0, result.stderr

    out = tmp_path / "out"
    store = clip["cache"] / f"{input_fingerprint(clip['lines_dir'], media.probe(clip['lines_dir']).names)}.zarr"
    rng = random.Random(SEED)
    points = [rng.choice(stage) for stage in STAGES]  # in the order a run meets them
    killed_at = []
    for pattern, k in points:
        proc = lacvid_process(colorize_args(clip, out, "-q"))
        root = tmp_path if pattern.startswith(".") else store
        deadline = time.monotonic() + 180
        while _count(root, pattern.format(pid=proc.pid)) < k and proc.poll() is None:
            assert time.monotonic() < deadline, f"no {k} x {pattern} within 180 s"
            time.sleep(0.01)
        assert proc.poll() is None, f"the run finished before the kill point {pattern} x {k}"
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL
        killed_at.append((pattern, k))
        assert not out.exists()

    proc = lacvid_process(colorize_args(clip, out, "-q"))
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert stderr == "", stderr
    assert stdout == f"{out}\n"
    assert folder_hashes(out) == folder_hashes(reference), killed_at
    assert not [p.name for p in tmp_path.iterdir() if TMP_MARKER in p.name], killed_at
