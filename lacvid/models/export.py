"""ONNX export of the networks, with dynamic batch, K, height and width.

Uses torch's TorchScript-based exporter (``dynamo=False``): with torch 2.13 the dynamo
exporter needs the separate ``onnxscript`` package, while the TorchScript one ships with torch
and, checked in tests with onnxruntime, keeps every size symbolic here (padding to a multiple of
4, the crop back, the attention reshapes) at resolutions other than the example's.
Spectral norm is baked into plain weights on an eval-mode copy first (``inference_copy``): in
eval mode the normalised weight is fixed, so outputs do not change and the exporter sees plain
convs. The exported attention is the explicit softmax(QK^T)V of ONNX, computed in slices of the
query positions so that one slice's (H/4*W/4 / 32) x K*(H/4*W/4) matrix is held at a time
(``models.color.attention``), where torch runs its fused kernel.

Files written for an output directory:
    color.onnx          the whole colour net: 5 inputs -> y, y_mid, y_sim
    color_encode.onnx   references -> color_feats, attn_keys, mask_ref, style (once per shot)
    color_frame.onnx    target_lines, target_dist + those 4 tensors -> y, y_mid, y_sim (per frame)
    temporal.onnx       frames (B, 3, 4, H, W) -> refined middle frame (if the checkpoint has one)
    model.json          the model config and the tensor names and layouts
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import torch
import torch.nn as nn

from lacvid.models.blocks import inference_copy
from lacvid.models.color import ColorTransformNet, References
from lacvid.models.config import COLOR_INPUTS, COLOR_OUTPUTS, REF_NAMES, ModelConfig
from lacvid.models.temporal import TemporalConstraintNet

OPSET = 17

_TARGET_AXES = {0: "batch", 2: "height", 3: "width"}
_REF_AXES = {0: "batch", 1: "refs", 3: "height", 4: "width"}
_OUT_AXES = {0: "batch", 2: "out_height", 3: "out_width"}
_REFS_AXES = {"color_feats": {0: "batch", 1: "refs", 3: "feat_height", 4: "feat_width"},
              "attn_keys": {0: "batch", 2: "ref_positions"},
              "mask_ref": {0: "batch", 1: "refs", 3: "feat_height", 4: "feat_width"},
              "style": {0: "batch"}}


class _Encode(nn.Module):
    def __init__(self, net: ColorTransformNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, ref_lines: torch.Tensor, ref_colors: torch.Tensor, ref_dists: torch.Tensor) -> tuple:
        return tuple(self.net.encode_references(ref_lines, ref_colors, ref_dists))


class _Frame(nn.Module):
    def __init__(self, net: ColorTransformNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, target_lines: torch.Tensor, target_dist: torch.Tensor, color_feats: torch.Tensor,
                attn_keys: torch.Tensor, mask_ref: torch.Tensor, style: torch.Tensor) -> tuple:
        return self.net.forward_with_references(target_lines, target_dist,
                                                References(color_feats, attn_keys, mask_ref, style))


def _export(module: nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str],
            axes: dict[str, dict[int, str]]) -> Path:
    with warnings.catch_warnings():
        # Shape checks in forward() only raise on bad input; the tracer warns that they are
        # constant in the graph, which is fine. Deprecation of this exporter: see module doc.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message="Constant folding", category=UserWarning)
        torch.onnx.export(module, args, str(path), dynamo=False, input_names=inputs, output_names=outputs,
                          dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)
    return path


def example_color_inputs(k: int = 2, size: tuple[int, int] = (64, 64)) -> tuple[torch.Tensor, ...]:
    """Random inputs of the colour net's call contract: target (1, 1, H, W) x2, refs (1, K, C, H, W)."""
    H, W = size
    return (torch.rand(1, 1, H, W), torch.rand(1, 1, H, W), torch.rand(1, k, 1, H, W),
            torch.rand(1, k, 3, H, W), torch.rand(1, k, 1, H, W))


def export_color_net(net: ColorTransformNet, out_dir: str | os.PathLike, *, k: int = 2,
                     split: bool = True) -> list[Path]:
    """Write color.onnx (and, with ``split``, color_encode.onnx + color_frame.onnx) into out_dir."""
    out_dir = Path(out_dir)
    net = inference_copy(net)
    x = example_color_inputs(k, (64, 48))  # non-square, so height and width cannot be confused
    axes = {name: (_TARGET_AXES if i < 2 else _REF_AXES) for i, name in enumerate(COLOR_INPUTS)}
    axes.update({name: _OUT_AXES for name in COLOR_OUTPUTS})
    paths = [_export(net, x, out_dir / "color.onnx", COLOR_INPUTS, COLOR_OUTPUTS, axes)]
    if split:
        enc_axes = {name: _REF_AXES for name in COLOR_INPUTS[2:]} | _REFS_AXES
        paths.append(_export(_Encode(net), x[2:], out_dir / "color_encode.onnx", COLOR_INPUTS[2:], REF_NAMES,
                             enc_axes))
        with torch.no_grad():
            refs = tuple(net.encode_references(*x[2:]))
        frame_axes = {name: _TARGET_AXES for name in COLOR_INPUTS[:2]} | _REFS_AXES
        frame_axes.update({name: _OUT_AXES for name in COLOR_OUTPUTS})
        paths.append(_export(_Frame(net), x[:2] + refs, out_dir / "color_frame.onnx", COLOR_INPUTS[:2] + REF_NAMES,
                             COLOR_OUTPUTS, frame_axes))
    return paths


def export_temporal_net(net: TemporalConstraintNet, path: str | os.PathLike) -> Path:
    """Write the temporal net as ONNX: frames (B, T, C, H, W) -> (B, 3, H, W)."""
    net = inference_copy(net)
    cfg = net.config
    x = torch.rand(1, cfg.frames, cfg.in_channels, 64, 48)
    axes = {"frames": {0: "batch", 3: "height", 4: "width"}, "y": {0: "batch", 2: "height", 3: "width"}}
    return _export(net, (x,), Path(path), ["frames"], ["y"], axes)


def export_model(config: ModelConfig, color_net: ColorTransformNet, temporal_net: TemporalConstraintNet | None,
                 out_dir: str | os.PathLike, *, k: int = 2) -> list[Path]:
    """Write every network and model.json into an existing directory; returns the files written."""
    out_dir = Path(out_dir)
    paths = export_color_net(color_net, out_dir, k=k)
    if temporal_net is not None:
        paths.append(export_temporal_net(temporal_net, out_dir / "temporal.onnx"))
    manifest = {
        "format": "lacvid-onnx", "version": 1, "opset": OPSET, "config": config.to_dict(),
        "color": {"inputs": COLOR_INPUTS, "outputs": COLOR_OUTPUTS, "references": REF_NAMES,
                  "layout": "targets (B, 1, H, W); references (B, K, C, H, W), C = 1 lines/distance, 3 colour; "
                            "values in [0, 1]; y (B, 3, H, W); y_mid, y_sim (B, 3, ceil(H/4), ceil(W/4))",
                  "exported_with_k": k, "dynamic": ["batch", "refs", "height", "width"]},
        "temporal": None if temporal_net is None else {
            "inputs": ["frames"], "outputs": ["y"],
            "layout": "frames (B, 3, 4, H, W): RGB + line art of previous, middle, next frame; y (B, 3, H, W)"},
    }
    (out_dir / "model.json").write_text(json.dumps(manifest, indent=2) + "\n")
    paths.append(out_dir / "model.json")
    return paths
