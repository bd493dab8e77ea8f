"""The bundled model's shipped ONNX graphs: what export makes of default.pt today, checked by digest,
so they cannot go stale silently (regenerate with ``python scripts/ship_default_onnx.py``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from lacvid.models import ColorNetConfig, ModelConfig, TemporalNetConfig, build_net, save_checkpoint
from lacvid.models.runtime import (
    LoadedModel,
    OnnxBackend,
    TorchBackend,
    bundled_graphs,
    bundled_graphs_dir,
    default_model_path,
    load_model,
    write_bundled_graphs,
)
from lacvid.util.hashing import file_digest

pytest.importorskip("onnxruntime")
REGENERATE = "regenerate them: python scripts/ship_default_onnx.py"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """default.pt exported now, as scripts/ship_default_onnx.py does."""
    return write_bundled_graphs(default_model_path(), tmp_path_factory.mktemp("export") / "default-onnx")


def _inputs(h: int, w: int, k: int, seed: int) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...], np.ndarray]:
    g = torch.Generator().manual_seed(seed)
    refs = (torch.rand(1, k, 1, h, w, generator=g), torch.rand(1, k, 3, h, w, generator=g),
            torch.rand(1, k, 1, h, w, generator=g))
    target = (torch.rand(1, 1, h, w, generator=g), torch.rand(1, 1, h, w, generator=g))
    frames = torch.rand(1, 3, 4, h, w, generator=g)
    return tuple(t.numpy() for t in refs), tuple(t.numpy() for t in target), frames.numpy()


def _run(backend, refs_in, target, frames) -> tuple[np.ndarray, np.ndarray]:
    return backend.color(*target, backend.encode_references(*refs_in)), backend.temporal(frames)


def test_the_shipped_graphs_are_the_bundled_checkpoints() -> None:
    """The shipped folder is intact and names default.pt's digest, so load_model runs it without exporting."""
    digest = file_digest(default_model_path())
    assert bundled_graphs(digest) == bundled_graphs_dir(), f"the shipped graphs are not default.pt's; {REGENERATE}"
    model = load_model()
    assert model.graphs == bundled_graphs_dir()
    checkpoint = model.checkpoint  # read now, to check what the manifest says of it
    assert model.has_temporal == (checkpoint.temporal_net is not None)
    assert model.trained_size == (checkpoint.meta or {}).get("work_size")


# 37 x 50: the pad/crop; k = 3: another K than traced; 16 x 20: fewer query positions than attention slices
@pytest.mark.parametrize("h,w,k", [(48, 64, 2), (37, 50, 3), (16, 20, 2)])
def test_the_shipped_graphs_compute_what_export_makes_of_default_pt(fresh, tmp_path, h: int, w: int, k: int) -> None:
    """Same outputs as a fresh export of default.pt and as eager torch: a change to the network code or
    the checkpoint without regenerating the graphs fails here."""
    model = load_model()
    shipped = OnnxBackend(model, tmp_path, threads=1)
    assert shipped.folder == bundled_graphs_dir()
    assert not (tmp_path / "onnx").exists()  # nothing exported into the cache
    refs_in, target, frames = _inputs(h, w, k, seed=h * w + k)
    want_onnx = _run(_backend_over(fresh, model), refs_in, target, frames)
    want_torch = _run(TorchBackend(model.checkpoint), refs_in, target, frames)
    got = _run(shipped, refs_in, target, frames)
    for have, onnx_out, torch_out in zip(got, want_onnx, want_torch):
        assert have.shape == (1, 3, h, w)
        np.testing.assert_allclose(have, onnx_out, atol=1e-5, rtol=0, err_msg=REGENERATE)
        np.testing.assert_allclose(have, torch_out, atol=1e-4, rtol=0, err_msg=REGENERATE)


def _backend_over(folder: Path, model: LoadedModel) -> OnnxBackend:
    """An ONNX backend over ``folder``'s graphs (a LoadedModel whose graphs are that folder)."""
    return OnnxBackend(LoadedModel(model.path, model.digest, model.trained_size, model.has_temporal, graphs=folder),
                       threads=1)


def test_a_stale_or_damaged_folder_is_not_loaded(fresh, tmp_path) -> None:
    """Another checkpoint's digest, or a graph cut short: bundled_graphs says no (the run exports instead)."""
    digest = file_digest(default_model_path())
    assert bundled_graphs(digest, fresh) == fresh
    assert bundled_graphs("0" * 16, fresh) is None
    damaged = shutil.copytree(fresh, tmp_path / "damaged")
    frame = damaged / "color_frame.onnx"
    frame.write_bytes(frame.read_bytes()[:1000])
    assert bundled_graphs(digest, damaged) is None
    manifest = json.loads((fresh / "export.json").read_text())
    assert manifest["checkpoint"] == digest and set(manifest["files"]) == {
        "color_encode.onnx", "color_frame.onnx", "temporal.onnx"}


def test_a_replaced_default_model_is_exported_not_run_on_the_shipped_graphs(tmp_path, monkeypatch) -> None:
    """A checkpoint at the bundled path with other content: load_model reads it and gives no shipped graphs."""
    torch.manual_seed(0)
    config = ModelConfig(color=ColorNetConfig(width=4, res_blocks=1), temporal=TemporalNetConfig(width=4))
    other = save_checkpoint(tmp_path / "default.pt", config=config, nets={"color": build_net("color", config)})
    monkeypatch.setattr("lacvid.models.runtime.default_model_path", lambda: other)
    model = load_model()
    assert model.path == other and model.graphs is None and not model.has_temporal
