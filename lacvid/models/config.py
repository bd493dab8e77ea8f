"""Typed, frozen network configs; a checkpoint stores ``ModelConfig.to_dict()`` so it can
rebuild every network from the file alone (nanoGPT style).

``width`` is the base channel count: the paper's 64 -> 128 -> 256 encoder becomes
width -> 2*width -> 4*width, so one number scales a network from GPU to CPU size.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any

# The names a user picks a model and its runner by (the CLI takes its choices from these; no torch
# here, so ``lacvid --help`` and option checks stay fast). ``models.runtime`` resolves both.
DEFAULT_MODEL = "default"                # the checkpoint bundled with lacvid (models.runtime.default_model_path)
BACKENDS = ("auto", "torch", "onnx")     # what runs the networks (models.runtime.make_backend)

# The exported graphs' tensor names (models.export writes them, models.runtime feeds them): here, without
# torch, so ONNX Runtime runs the bundled graphs in a process that never imports torch.
COLOR_INPUTS = ["target_lines", "target_dist", "ref_lines", "ref_colors", "ref_dists"]
COLOR_OUTPUTS = ["y", "y_mid", "y_sim"]
REF_NAMES = ["color_feats", "attn_keys", "mask_ref", "style"]  # color.References' fields, in order (tested)
# Query slices of the exported attention (models.color.attention): at 256 x 456 with K = 3 one slice's
# matrix is 20 MB (640 MB whole), and ONNX Runtime runs 32 slices faster than the whole matrix (122 vs
# 179 ms a colour frame; 16 slices 140, 64 slices 129).
EXPORT_QUERY_CHUNKS = 32


def _from_dict(cls: type, data: Any, where: str) -> Any:
    """Build a flat dataclass from a dict, refusing unknown keys and wrong types (not guessing)."""
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be a mapping, got {type(data).__name__}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"{where} has unknown keys {unknown}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        default = getattr(cls(), name)
        if isinstance(default, tuple):
            if not isinstance(value, (list, tuple)):
                raise ValueError(f"{where}.{name} must be a list, got {value!r}")
            value = tuple(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"{where}.{name} must be a bool, got {value!r}")
        elif isinstance(default, int) or name.endswith("_channels"):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{where}.{name} must be an int, got {value!r}")
        kwargs[name] = value
    return cls(**kwargs)


@dataclass(frozen=True)
class ColorNetConfig:
    """The colour transform network (paper section 3.1)."""

    width: int = 64  # base channels: encoders width -> 2w -> 4w; embedder w, 2w, 4w, 8w, 8w
    # query, key AND value channels of the matching; None = width // 2 (paper: 256 -> 32). Values
    # share the size because torch's fused CPU attention kernel needs equal head dims: with 32/64
    # it silently falls back to the explicit (HW x K*HW) matrix (measured: +440 MB at 256^2, K=3).
    attn_channels: int | None = None
    res_blocks: int = 8  # AdaIN residual blocks at 4w channels
    spectral_norm: bool = True  # on encoders, embedder, residual trunk and decoder (not the matching 1x1s)

    def __post_init__(self) -> None:
        if self.width < 2 or self.res_blocks < 0:
            raise ValueError(f"ColorNetConfig needs width >= 2 and res_blocks >= 0, got {self}")

    @property
    def feat(self) -> int:
        """Channels at the H/4 feature scale (256 at paper width)."""
        return 4 * self.width

    @property
    def attn(self) -> int:
        return self.attn_channels or max(4, self.width // 2)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColorNetConfig:
        return _from_dict(cls, data, "color")


@dataclass(frozen=True)
class TemporalNetConfig:
    """The temporal constraint network: learnable gated temporal shift convs (LGTSM)."""

    width: int = 64  # w -> 2w -> 4w like the colour net
    in_channels: int = 4  # RGB colour + line art per frame
    frames: int = 3  # T: previous, middle (refined), next
    dilations: tuple[int, ...] = (2, 4, 8, 16)  # one dilated gated conv each, NOT one rate for all
    residual_scale: float = 0.01  # init scale of the last conv: the untrained net is ~identity

    def __post_init__(self) -> None:
        if self.width < 4 or self.frames < 1 or self.in_channels < 4:
            raise ValueError(f"TemporalNetConfig needs width >= 4, frames >= 1, in_channels >= 4, got {self}")

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["dilations"] = list(self.dilations)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TemporalNetConfig:
        if isinstance(data, dict) and "residual_scale" in data and not isinstance(data["residual_scale"], (int, float)):
            raise ValueError("temporal.residual_scale must be a number")
        return _from_dict(cls, data, "temporal")


@dataclass(frozen=True)
class DiscriminatorConfig:
    """Patch discriminators (spectral norm always on: it is what keeps GAN training stable)."""

    width: int = 64  # first layer channels, doubled per downsampling
    layers: int = 3  # stride-2 layers: the receptive field grows with it (70 px at 3, PatchGAN)
    in_channels: int = 4  # line art + RGB colour
    frames: int = 3  # window length of the temporal discriminator

    def __post_init__(self) -> None:
        if self.width < 1 or self.layers < 1:
            raise ValueError(f"DiscriminatorConfig needs width >= 1 and layers >= 1, got {self}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DiscriminatorConfig:
        return _from_dict(cls, data, "discriminator")


@dataclass(frozen=True)
class ModelConfig:
    """Every network of one model; what a checkpoint stores."""

    color: ColorNetConfig = field(default_factory=ColorNetConfig)
    temporal: TemporalNetConfig = field(default_factory=TemporalNetConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)

    @classmethod
    def paper(cls) -> ModelConfig:
        """The paper's widths (64 base channels): for GPUs."""
        return cls()

    @classmethod
    def cpu(cls) -> ModelConfig:
        """The CPU model: width 8 (attention channels 8), chosen by measurement.

        Goal: >= 4 frames/s at 256 px for the whole colorize pipeline on 2 cores, so <= ~150 ms
        for both networks. Counted per frame at 256 px, K = 2 (references encoded once per shot):
        width 8: colour 2.4 + temporal 4.8 GFLOP; 12: 5.0 + 10.6; 16: 8.5 + 18.7. ONNX Runtime
        reaches ~40-60 % of the machine's ~87 GFLOP/s fp32 matmul rate on these graphs (eager
        PyTorch 7-30 %), i.e. ~160 ms at width 8, ~350 ms at 12, ~600 ms at 16.
        See benchmarks/network_speed.py.
        """
        return cls(color=ColorNetConfig(width=CPU_WIDTH, attn_channels=8), temporal=TemporalNetConfig(width=CPU_WIDTH),
                   discriminator=DiscriminatorConfig(width=16))

    def to_dict(self) -> dict[str, Any]:
        return {"color": self.color.to_dict(), "temporal": self.temporal.to_dict(),
                "discriminator": self.discriminator.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        if not isinstance(data, dict):
            raise ValueError(f"model config must be a mapping, got {type(data).__name__}")
        unknown = sorted(set(data) - {"color", "temporal", "discriminator"})
        if unknown:
            raise ValueError(f"model config has unknown keys {unknown}")
        return cls(color=ColorNetConfig.from_dict(data.get("color", {})),
                   temporal=TemporalNetConfig.from_dict(data.get("temporal", {})),
                   discriminator=DiscriminatorConfig.from_dict(data.get("discriminator", {})))


CPU_WIDTH = 8  # see ModelConfig.cpu
