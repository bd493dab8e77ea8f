"""The networks in batches: same frames as one at a time, a resumed shot runs the batches an
uninterrupted one runs, and a device out of memory halves the batch instead of failing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from lacvid.errors import InputError
from lacvid.models.runtime import TorchBackend, load_model
from lacvid.pipeline.cache import ColorizeCache
from lacvid.pipeline.networks import ShotNetworks, network_batch
from lacvid.pipeline.options import NetworkOptions
from lacvid.preprocess.frame import prepare_frame, resize_to, working_size
from lacvid.shots.detect import Shot
from tests.support.tiny_clip import KEYS, H, N, W, make_clip

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SHOT = Shot(0, N)


class Recording:
    """A real backend that records the frames of every colour call, and fails like a GPU out of
    memory when a call holds more than ``fits`` frames."""

    def __init__(self, backend: TorchBackend, fits: int | None = None) -> None:
        self.backend, self.fits, self.calls = backend, fits, []
        self.device, self.has_temporal, self.name = backend.device, backend.has_temporal, backend.name

    def encode_references(self, *args):
        return self.backend.encode_references(*args)

    def _check(self, batch: int) -> None:
        if self.fits is not None and batch > self.fits:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    def color(self, lines, dist, refs):
        self.calls.append(len(lines))
        self._check(len(lines))
        return self.backend.color(lines, dist, refs)

    def temporal(self, frames):
        self._check(len(frames))
        return self.backend.temporal(frames)


@pytest.fixture(scope="module")
def shot(tmp_path_factory) -> dict:
    clip = make_clip(tmp_path_factory.mktemp("batch"))
    work = working_size(H, W, 48)
    keys = {i: resize_to(clip["colors"][i], work) for i in KEYS}
    return {**clip, "work": work, "keys": keys,
            "backend": TorchBackend(load_model(clip["model"]).checkpoint)}


def _run(shot: dict, root: Path, batch: int, backend=None, clear: tuple[int, ...] = (), progress=None):
    """Both networks over the shot into a fresh cache at ``root``; returns (colour, refined) frames.
    ``clear``: after a first full run, these frames are marked not done and the shot runs again."""
    with ColorizeCache(root, "batch") as cache:
        prep = cache.prep("p", (H, W), shot["work"])
        for i, ink in enumerate(shot["lines"]):
            prep.put(i, prepare_frame(ink, "lines", shot["work"]))
        colored = cache.run_stage("n/s", "colour", shot["work"])
        refined = cache.run_stage("n/s", "refined", shot["work"])
        kw = {"progress": progress} if progress is not None else {}
        nets = ShotNetworks(backend or shot["backend"], NetworkOptions(max_refs=2), batch, **kw)
        for _ in range(2 if clear else 1):
            nets.color(SHOT, shot["keys"], prep, colored)
            nets.refine(SHOT, shot["keys"], prep, colored, refined)
            for t in clear:
                colored.clear(t)
                refined.clear(t)
            if backend is not None and clear:
                backend.calls.clear()
                clear = ()
        frames = [t for t in range(N) if t not in KEYS]
        return ({t: colored.get("rgb", t) for t in frames}, {t: refined.get("rgb", t) for t in frames}, nets)


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device (benchmarks/gpu_check.sh runs this on a GPU)")])])
def test_batches_give_the_frames_single_frames_give(shot, tmp_path, device) -> None:
    backend = TorchBackend(load_model(shot["model"]).checkpoint, device)
    one_c, one_r, _ = _run(shot, tmp_path / "one", 1, backend)
    four_c, four_r, _ = _run(shot, tmp_path / "four", 4, backend)
    tolerance = 1 if device == "cpu" else 2  # bf16 autocast on CUDA
    for t in one_c:
        assert np.abs(one_c[t].astype(int) - four_c[t]).max() <= tolerance
        assert np.abs(one_r[t].astype(int) - four_r[t]).max() <= tolerance


def test_a_resumed_shot_runs_the_batches_of_an_uninterrupted_one(shot, tmp_path) -> None:
    full = Recording(shot["backend"])
    whole_c, whole_r, _ = _run(shot, tmp_path / "whole", 4, full)
    assert full.calls == [3, 3]  # frames 1-3 and 4-6 (frame 0 and 7 are the keys)
    resumed = Recording(shot["backend"])
    again_c, again_r, _ = _run(shot, tmp_path / "resumed", 4, resumed, clear=(5,))
    assert resumed.calls == [3]  # the whole batch holding frame 5, not frame 5 alone
    for t in whole_c:
        np.testing.assert_array_equal(whole_c[t], again_c[t])
        np.testing.assert_array_equal(whole_r[t], again_r[t])


def test_out_of_memory_halves_the_batch(shot, tmp_path) -> None:
    logged = []

    class Log:
        def log(self, message: str) -> None:
            logged.append(message)

    small = Recording(shot["backend"], fits=2)
    got_c, got_r, nets = _run(shot, tmp_path / "oom", 8, small, progress=Log())
    want_c, want_r, _ = _run(shot, tmp_path / "two", 2)
    assert nets.batch == 2 and all(n <= 2 for n in small.calls[-4:])
    assert any("out of memory" in m and "2 frame(s)" in m for m in logged)
    for t in want_c:
        np.testing.assert_array_equal(got_c[t], want_c[t])
        np.testing.assert_array_equal(got_r[t], want_r[t])


def test_out_of_memory_on_one_frame_is_one_clear_line(shot, tmp_path) -> None:
    with pytest.raises(InputError, match=r"ran out of memory on a single frame .*--size or --refs"):
        _run(shot, tmp_path / "none", 4, Recording(shot["backend"], fits=0))


def test_default_batch_by_device() -> None:
    assert network_batch(None, "cpu") == 1
    assert network_batch(None, "cuda:0") == 16
    assert network_batch(3, "cuda:0") == 3
