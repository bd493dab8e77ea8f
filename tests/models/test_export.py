"""ONNX export: parity with PyTorch through onnxruntime at sizes other than the traced example."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from lacvid.models import ColorNetConfig, ModelConfig, TemporalNetConfig, build_net, save_checkpoint
from lacvid.models.config import EXPORT_QUERY_CHUNKS
from lacvid.models.export import COLOR_INPUTS, REF_NAMES, export_model
from tests.support.cli import cli_runner

ort = pytest.importorskip("onnxruntime")

CFG = ModelConfig(color=ColorNetConfig(width=8, res_blocks=2), temporal=TemporalNetConfig(width=8))


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    color, temporal = build_net("color", CFG), build_net("temporal", CFG)
    color(*[torch.rand(1, *s) for s in [(1, 16, 16), (1, 16, 16), (2, 1, 16, 16), (2, 3, 16, 16), (2, 1, 16, 16)]])
    out = tmp_path_factory.mktemp("onnx")
    export_model(CFG, color.eval(), temporal.eval(), out, k=2)
    return out, color, temporal


def _session(path: Path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


# 16 x 20: 20 query positions, fewer than the attention's query slices (most slices empty);
# 37 x 50: padded to 40 x 52, 130 positions, a short last slice.
@pytest.mark.parametrize("b,k,h,w", [(1, 2, 64, 64), (2, 3, 96, 80), (1, 1, 37, 50), (1, 2, 16, 20)])
def test_color_parity(exported, b: int, k: int, h: int, w: int) -> None:
    out, color, _ = exported
    g = torch.Generator().manual_seed(h * w)
    x = [torch.rand(b, 1, h, w, generator=g), torch.rand(b, 1, h, w, generator=g),
         torch.rand(b, k, 1, h, w, generator=g), torch.rand(b, k, 3, h, w, generator=g),
         torch.rand(b, k, 1, h, w, generator=g)]
    with torch.no_grad():
        want = [t.numpy() for t in color(*x)]
    feed = {n: t.numpy() for n, t in zip(COLOR_INPUTS, x)}
    full = _session(out / "color.onnx").run(None, feed)
    refs = _session(out / "color_encode.onnx").run(None, {n: feed[n] for n in COLOR_INPUTS[2:]})
    split = _session(out / "color_frame.onnx").run(None, {**{n: feed[n] for n in COLOR_INPUTS[:2]},
                                                          **dict(zip(REF_NAMES, refs))})
    for got in (full, split):
        for a, e in zip(got, want):
            assert a.shape == e.shape
            np.testing.assert_allclose(a, e, atol=1e-4, rtol=0)


def test_the_attention_is_exported_in_query_slices(exported) -> None:
    """One softmax per slice of the query positions, so ONNX Runtime holds one slice's matrix at a time
    (a whole matrix at 256 x 456, K = 3, peaked at 2.7 GB resident); parity above shows the result is the same."""
    onnx = pytest.importorskip("onnx")
    for name in ("color.onnx", "color_frame.onnx"):
        ops = [node.op_type for node in onnx.load(str(exported[0] / name)).graph.node]
        assert ops.count("Softmax") == EXPORT_QUERY_CHUNKS > 1, name


@pytest.mark.parametrize("b,h,w", [(1, 64, 64), (2, 96, 80)])
def test_temporal_parity(exported, b: int, h: int, w: int) -> None:
    out, _, temporal = exported
    frames = torch.rand(b, 3, 4, h, w, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = temporal(frames).numpy()
    got = _session(out / "temporal.onnx").run(None, {"frames": frames.numpy()})[0]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


def test_reference_names_are_the_references_fields() -> None:
    """The graphs' reference tensors are named in models.config (no torch there) after color.References'
    fields, in their order: a field renamed or moved in one place fails here, not in a run."""
    from lacvid.models.color import References

    assert list(References._fields) == REF_NAMES


def test_manifest(exported) -> None:
    manifest = json.loads((exported[0] / "model.json").read_text())
    assert ModelConfig.from_dict(manifest["config"]) == CFG
    assert manifest["color"]["inputs"] == COLOR_INPUTS


def test_cli_export(tmp_path: Path) -> None:
    from lacvid.cli import app

    torch.manual_seed(0)
    ckpt = save_checkpoint(tmp_path / "m.pt", config=CFG, nets={"color": build_net("color", CFG)})
    runner = cli_runner()
    res = runner.invoke(app, ["export", str(ckpt), "-o", str(tmp_path / "one.onnx"), "-q"])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == str(tmp_path / "one.onnx")
    assert (tmp_path / "one.onnx").stat().st_size > 0 and not (tmp_path / "one.temporal.onnx").exists()
    res = runner.invoke(app, ["export", str(ckpt), "-o", str(tmp_path / "one.onnx"), "-q"])
    assert res.exit_code == 2 and "already exists" in res.stderr
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    res = runner.invoke(app, ["export", str(tmp_path / "junk.pt"), "-o", str(tmp_path / "dir"), "-q"])
    assert res.exit_code == 2 and "junk.pt" in res.stderr and not (tmp_path / "dir").exists()
