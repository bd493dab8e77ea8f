"""Network backends: ONNX Runtime agrees with eager PyTorch; the export is cached, reused and checked."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from lacvid.errors import InputError
from lacvid.models import ColorNetConfig, ModelConfig, TemporalNetConfig, build_net, save_checkpoint
from lacvid.models.runtime import (
    LoadedModel,
    OnnxBackend,
    TorchBackend,
    attention_bytes,
    load_model,
    make_backend,
    onnx_export_dir,
)

needs_ort = pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None, reason="onnxruntime not installed")

CFG = ModelConfig(color=ColorNetConfig(width=8, res_blocks=2), temporal=TemporalNetConfig(width=8))


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    torch.manual_seed(0)
    color, temporal = build_net("color", CFG), build_net("temporal", CFG)
    # One train-mode forward runs spectral norm's power iteration, so u, v are not their init.
    color(*[torch.rand(1, *s) for s in [(1, 16, 16), (1, 16, 16), (2, 1, 16, 16), (2, 3, 16, 16), (2, 1, 16, 16)]])
    path = save_checkpoint(tmp_path_factory.mktemp("model") / "m.pt", config=CFG,
                           nets={"color": color, "temporal": temporal})
    return load_model(path)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def backends(model, cache) -> tuple[TorchBackend, OnnxBackend]:
    return TorchBackend(model.checkpoint), OnnxBackend(model, cache, threads=1)


@needs_ort
@pytest.mark.parametrize("h,w", [(32, 48), (37, 50)])  # 37 x 50: not multiples of 4, so the pad/crop runs
@pytest.mark.parametrize("k", [1, 2])
def test_onnx_matches_torch(backends, h: int, w: int, k: int) -> None:
    g = torch.Generator().manual_seed(h * w + k)
    refs_in = (torch.rand(1, k, 1, h, w, generator=g).numpy(), torch.rand(1, k, 3, h, w, generator=g).numpy(),
               torch.rand(1, k, 1, h, w, generator=g).numpy())
    target = (torch.rand(1, 1, h, w, generator=g).numpy(), torch.rand(1, 1, h, w, generator=g).numpy())
    frames = torch.rand(1, 3, 4, h, w, generator=g).numpy()
    got = []
    for backend in backends:
        refs = backend.encode_references(*refs_in)
        got.append((backend.color(*target, refs), backend.temporal(frames)))
    for want, have in zip(*got):
        assert want.shape == have.shape == (1, 3, h, w)
        assert have.dtype == np.float32  # backends take and return numpy arrays
        np.testing.assert_allclose(have, want, atol=1e-4, rtol=0)


@needs_ort
def test_export_is_cached_and_reused(model, cache, backends) -> None:
    folder = backends[1].folder
    assert folder.parent == cache / "onnx"
    files = json.loads((folder / "export.json").read_text())["files"]
    assert set(files) == {"color_encode.onnx", "color_frame.onnx", "temporal.onnx"}
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    again = OnnxBackend(model, cache, threads=1)
    assert again.folder == folder
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before  # nothing written again
    assert not [p for p in folder.parent.iterdir() if p.name.endswith(".tmp")]  # no temporary folder left


@needs_ort
def test_truncated_export_is_exported_again(model, cache, backends, tmp_path: Path) -> None:
    shutil.copytree(cache / "onnx", tmp_path / "onnx")  # the module's export, to damage a copy
    folder = tmp_path / "onnx" / backends[1].folder.name
    frame = folder / "color_frame.onnx"
    size = frame.stat().st_size
    frame.write_bytes(frame.read_bytes()[: size // 2])  # as if the disk filled up mid-write
    backend = OnnxBackend(model, tmp_path, threads=1)
    assert backend.folder == folder and frame.stat().st_size == size and (folder / "export.json").exists()
    x = torch.rand(1, 1, 1, 16, 16).numpy()
    refs = backend.encode_references(x, torch.rand(1, 1, 3, 16, 16).numpy(), x)
    assert backend.color(x[0], x[0], refs).shape == (1, 3, 16, 16)


def test_export_folder_keyed_by_model_and_versions(tmp_path: Path) -> None:
    if importlib.util.find_spec("onnxruntime") is None:
        pytest.skip("onnxruntime not installed")
    a, b = onnx_export_dir("aaaa", tmp_path), onnx_export_dir("bbbb", tmp_path)
    assert a != b and a.name.startswith("aaaa-lacvid") and "ort" in a.name


def test_make_backend_choice(model, cache) -> None:
    assert isinstance(make_backend(model, "cpu", "torch", cache), TorchBackend)
    with pytest.raises(InputError, match="unknown backend"):
        make_backend(model, "cpu", "tensorrt", cache)
    with pytest.raises(InputError, match="CPU only"):
        make_backend(model, "cuda", "onnx", cache)
    assert make_backend(model, "cpu", "torch").device == "cpu"


@needs_ort
def test_make_backend_auto(model, cache) -> None:
    assert isinstance(make_backend(model, "cpu", "auto", cache, work_size=(256, 256), max_refs=3), OnnxBackend)
    # 512 x 912 with 3 references: a 10 GB attention matrix in the exported graph -> torch.
    assert attention_bytes((512, 912), 3) > 9e9
    chosen = make_backend(model, "cpu", "auto", cache, work_size=(512, 912), max_refs=3)
    assert isinstance(chosen, TorchBackend)


def test_cli_rejects_unknown_backend(cli, tmp_path: Path) -> None:
    res = cli("colorize", tmp_path, "--keys", tmp_path, "-o", tmp_path / "out", "--backend", "tensorrt")
    assert res.exit_code == 2 and "--backend" in res.stderr
