"""lacvid.train.data and .sampling: dataset errors, the Zarr cache (reuse, invalidation, interrupted builds),
sampling."""

from __future__ import annotations

import os
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
import zarr

from lacvid.errors import DatasetError
from lacvid.pipeline.cache_admin import list_entries
from lacvid.synth import SynthConfig, render_shot, write_dataset
from lacvid.train.data import FrameCache, Preprocess, default_cache_path, discover
from lacvid.train.sampling import SampleSettings, StepSampler, TripletDataset, loader, pick_frames
from lacvid.util.cache_home import default_cache_dir


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def synth_set(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("data") / "ds", SynthConfig(shots=3, frames=6, height=40, width=48))


@pytest.fixture
def dataset(synth_set, tmp_path):
    """A private copy: tests touch and break files."""
    return shutil.copytree(synth_set, tmp_path / "ds")


class _Counting:
    """A Progress that counts cache builds and can interrupt one after ``stop_after`` frames."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.builds, self.frames, self.stop_after, self.logs = 0, 0, stop_after, []

    def task(self, description, total=None, unit="frames"):
        if description == "caching frames":
            self.builds += 1
        outer = self

        class _T:
            def advance(self, n=1):
                outer.frames += n
                if outer.stop_after is not None and outer.frames >= outer.stop_after:
                    raise KeyboardInterrupt

            def update(self, **kw):
                pass

            def close(self):
                pass
        return _T()

    def log(self, message):
        self.logs.append(message)


def test_cache_holds_preprocessed_frames(dataset):
    before = sorted(p.relative_to(dataset) for p in Path(dataset).rglob("*"))
    cache = FrameCache.build(dataset, Preprocess(scale=32))
    assert cache.path == default_cache_path(dataset) and cache.path.is_relative_to(default_cache_dir() / "train")
    assert sorted(p.relative_to(dataset) for p in Path(dataset).rglob("*")) == before, "nothing written into DATASET"
    assert f"train/{cache.path.name}" in [e.name for e in list_entries(default_cache_dir())], "lacvid cache ls shows it"
    assert len(cache.shots) == 3 and cache.frame_count == 18
    g = cache.group(cache.shots[0].clip)
    # working_size: multiples of 4, as colorize
    assert g["color"].shape == (6, 32, 40, 3) and g["lines"].shape == (6, 32, 40)  # short side 32, aspect kept
    assert g["dist"].dtype == np.float16
    d = g["dist"][0].astype(np.float32)
    ink = g["lines"][0] < 128
    assert d.min() >= 0 and d.max() <= 1 and np.all(d[ink] == 0) and d[~ink].min() > 0


def test_cache_is_reused_and_invalidated(dataset):
    p = _Counting()
    FrameCache.build(dataset, Preprocess(scale=32), progress=p)
    FrameCache.build(dataset, Preprocess(scale=32), progress=p)
    assert p.builds == 1  # reused
    FrameCache.build(dataset, Preprocess(scale=36), progress=p)
    assert p.builds == 2  # settings changed
    f = dataset / "shot0001" / "color" / "0002.png"
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    FrameCache.build(dataset, Preprocess(scale=36), progress=p)
    assert p.builds == 3  # a source file changed
    shutil.rmtree(dataset / "shot0002")
    cache = FrameCache.build(dataset, Preprocess(scale=36), progress=p)
    assert p.builds == 4 and len(cache.shots) == 2  # a shot went away


def test_interrupted_build_is_never_read_as_complete(dataset):
    with pytest.raises(KeyboardInterrupt):
        FrameCache.build(dataset, Preprocess(scale=32), progress=_Counting(stop_after=5))
    path = default_cache_path(dataset)
    assert path.exists() and zarr.open_group(str(path), mode="r").attrs["complete"] is False
    assert not FrameCache.is_complete(path)
    with pytest.raises(DatasetError, match="unfinished"):
        FrameCache.open(path)
    p = _Counting()
    cache = FrameCache.build(dataset, Preprocess(scale=32), progress=p)
    assert p.builds == 1 and cache.frame_count == 18 and FrameCache.is_complete(path)


def test_lines_are_extracted_when_absent(dataset):
    shutil.rmtree(dataset / "shot0000" / "lines")
    cache = FrameCache.build(dataset, Preprocess(scale=40))
    g = cache.group(cache.shots[0].clip)
    lines = g["lines"][0]
    assert lines.dtype == np.uint8 and (lines < 128).any() and (lines == 255).mean() > 0.5


@pytest.mark.parametrize("breakage, needle", [
    ("missing", "does not exist"),
    ("empty", "holds no shots"),
    ("one-frame", "shot0000 has 1 frame"),
    ("no-images", "holds no images"),
    ("names", "0003.png"),
    ("extra-lines", "extra.png"),
    ("unreadable", "0002.png"),
    ("sizes", "one size"),
])
def test_bad_datasets_name_the_path(dataset, tmp_path, breakage, needle):
    root = dataset
    if breakage == "missing":
        root = tmp_path / "nowhere"
    elif breakage == "empty":
        root = tmp_path / "empty"
        root.mkdir()
    elif breakage == "one-frame":
        for f in sorted((dataset / "shot0000" / "color").iterdir())[1:]:
            f.unlink()
            (dataset / "shot0000" / "lines" / f.name).unlink()
    elif breakage == "no-images":
        for f in (dataset / "shot0001" / "color").iterdir():
            f.unlink()
    elif breakage == "names":
        (dataset / "shot0001" / "lines" / "0003.png").rename(dataset / "shot0001" / "lines" / "0003x.png")
    elif breakage == "extra-lines":
        shutil.copy(dataset / "shot0001" / "lines" / "0003.png", dataset / "shot0001" / "lines" / "extra.png")
    elif breakage == "unreadable":
        (dataset / "shot0002" / "color" / "0002.png").write_bytes(b"\x89PNG broken")
    elif breakage == "sizes":
        import cv2
        cv2.imwrite(str(dataset / "shot0002" / "color" / "0004.png"), np.zeros((20, 20, 3), np.uint8))
    with pytest.raises(DatasetError) as exc:
        FrameCache.build(root, Preprocess(scale=32))
    assert needle in str(exc.value)
    assert "\n" not in str(exc.value)


def test_pick_frames_brackets_the_target():
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(3, 20))
        k = int(rng.integers(1, 4))
        targets, refs = pick_frames(rng, n, k, 1, 8)
        (t,) = targets
        assert len(refs) == k and all(0 <= r < n for r in refs) and t not in refs
        if k >= 2:
            p, q = refs[:2]
            assert p < t < q and q - p <= 8
        if n >= 3:
            targets, refs = pick_frames(rng, n, k, 3, 8)
            assert targets == list(range(targets[0], targets[0] + 3)) and 0 <= targets[0] and targets[-1] < n
            if k >= 2:
                assert refs[0] <= targets[0] and refs[1] >= targets[-1]


def test_samples_are_shaped_and_deterministic(dataset):
    cache = FrameCache.build(dataset, Preprocess(scale=32))
    for k in (1, 2, 3):
        ds = TripletDataset(cache, SampleSettings(size=24, window=1, fixed_k=k, seed=3))
        s = ds[(5, 1)]
        assert s["lines"].shape == (1, 1, 24, 24) and s["color"].shape == (1, 3, 24, 24)
        assert s["ref_colors"].shape == (k, 3, 24, 24) and s["ref_dists"].shape == (k, 1, 24, 24)
        assert all(v.dtype == torch.float32 and 0 <= v.min() and v.max() <= 1 for v in s.values())
        assert all(torch.equal(s[key], ds[(5, 1)][key]) for key in s)
    ds3 = TripletDataset(cache, SampleSettings(size=24, window=3, seed=3))
    s = ds3[(0, 0)]
    assert s["lines"].shape == (3, 1, 24, 24) and s["color"].shape == (3, 3, 24, 24)
    batches = loader(TripletDataset(cache, SampleSettings(size=24, seed=1)), batch=2, start_step=7)
    b = next(iter(batches))
    k = b["ref_lines"].shape[1]
    assert b["lines"].shape == (2, 1, 1, 24, 24) and b["ref_colors"].shape == (2, k, 3, 24, 24)
    assert list(zip(range(4), StepSampler(2, start_step=7, rank=1))) == [(0, (7, 2)), (1, (7, 3)), (2, (8, 2)),
                                                                         (3, (8, 3))]


def test_crop_larger_than_frames_is_a_dataset_error(dataset):
    cache = FrameCache.build(dataset, Preprocess(scale=32))
    with pytest.raises(DatasetError, match="smaller than the crop"):
        TripletDataset(cache, SampleSettings(size=64))


def test_video_files_are_cut_into_shots(tmp_path):
    from lacvid.media import VideoWriter

    root = tmp_path / "videos"
    root.mkdir()
    with VideoWriter(root / "ep.mp4", fps=Fraction(24), width=64, height=48, crf=12) as w:
        for shot in (1, 5):
            for color, _ in render_shot(2, shot, 12, 48, 64):
                w.write(color)
    assert [c.kind for c in discover(root)] == ["video"]
    cache = FrameCache.build(root, Preprocess(scale=32))
    assert cache.frame_count == 24
    assert [(s.start, s.stop) for s in cache.shots] == [(0, 12), (12, 24)]
