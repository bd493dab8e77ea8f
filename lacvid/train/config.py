"""What a training run computes: ``TrainConfig`` (written to RUN/config.json and into every
checkpoint), and which of its settings ``--resume`` may change between sittings.

A resumed run keeps its own settings: changing e.g. the crop size or the learning rate half
way would silently make a different model than the one the run folder describes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from lacvid.errors import InputError
from lacvid.models.config import CPU_WIDTH, ColorNetConfig, DiscriminatorConfig, ModelConfig, TemporalNetConfig
from lacvid.progress import Progress, warn
from lacvid.train.losses import LossWeights

if TYPE_CHECKING:
    import torch

STAGES = ("color", "temporal", "both")
RESUME_CHANGEABLE = ("dataset", "steps", "temporal_steps", "checkpoint_every", "sample_every", "log_every", "keep",
                     "workers", "device", "vgg_weights", "cache", "precision", "threads")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides what a run computes (written to RUN/config.json).

    ``steps`` counts optimiser steps of the colour stage (stage ``color``/``both``) or of the
    temporal stage (stage ``temporal``); ``temporal_steps`` is the temporal part of ``both``.
    """

    dataset: str
    run: str
    steps: int = 20000
    temporal_steps: int | None = None  # stage both: None = steps // 4
    stage: str = "both"
    size: int = 256  # square crop, px
    scale: int | None = None  # short side of cached frames; None = size
    batch: int = 4  # per process
    width: int | None = None  # None: CPU_WIDTH on CPU, the paper's 64 on CUDA
    lr: float = 1e-4  # generator (Adam, beta1 0.5 as in the paper)
    lr_d: float = 1e-4  # discriminators
    decay_from: float = 0.5  # the learning rates fall linearly to 10% from this fraction of a stage
    perceptual: str = "auto"  # "vgg" | "none" | "auto": vgg when its weights are here (resolve_perceptual)
    vgg_weights: str | None = None
    gan: str = "hinge"
    loss_weights: dict[str, float] = field(default_factory=lambda: LossWeights().to_dict())
    max_span: int = 8
    seed: int = 0
    device: str = "auto"
    init: str | None = None
    cache: str | None = None  # Zarr cache path; None = under the cache folder (train.data.default_cache_path)
    checkpoint_every: int = 500
    sample_every: int = 500
    log_every: int = 1
    keep: int = 3
    workers: int = 1
    precision: str = "auto"  # "auto" (bf16 autocast on CUDA, fp32 on CPU), "fp32" or "bf16"
    threads: int | None = None  # torch CPU threads; None = torch's default

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise InputError(f"--stage must be one of {', '.join(STAGES)}, got {self.stage!r}")
        if self.perceptual not in ("auto", "vgg", "none"):
            raise InputError(f"--perceptual must be auto, vgg or none, got {self.perceptual!r}")
        for name in ("steps", "size", "batch", "checkpoint_every", "sample_every", "keep", "log_every"):
            if getattr(self, name) < 1:
                raise InputError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if self.size < 16:
            raise InputError(f"--size must be at least 16 px, got {self.size}")
        if self.precision not in ("auto", "fp32", "bf16"):
            raise InputError(f"--precision must be auto, fp32 or bf16, got {self.precision!r}")
        if self.threads is not None and self.threads < 1:
            raise InputError(f"--threads must be at least 1, got {self.threads}")
        if self.workers < 0:
            raise InputError(f"--workers must be 0 or more, got {self.workers}")
        if self.lr <= 0 or self.lr_d <= 0:
            raise InputError("learning rates must be positive")

    @property
    def color_steps(self) -> int:
        return 0 if self.stage == "temporal" else self.steps

    @property
    def total_temporal_steps(self) -> int:
        if self.stage == "color":
            return 0
        if self.stage == "temporal":
            return self.steps
        return self.temporal_steps if self.temporal_steps is not None else max(1, self.steps // 4)

    @property
    def total_steps(self) -> int:
        return self.color_steps + self.total_temporal_steps

    @property
    def work_size(self) -> int:
        """Short side of the frames the networks are trained at (colorize's default ``--size``)."""
        return self.scale or self.size

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def merge_resume(stored: TrainConfig, run: str, overrides: dict[str, Any], progress: Progress) -> TrainConfig:
    """On --resume the run's own settings win, except those that may change between sittings
    (e.g. more ``steps``); other options given again are ignored with a message."""
    ignored = sorted(k for k, v in overrides.items()
                     if k not in RESUME_CHANGEABLE and k != "run" and v is not None and v != getattr(stored, k, None))
    if ignored:
        progress.log(f"--resume keeps the run's own {', '.join(ignored)}; start a new run (or --init) to change them")
    return replace(stored, run=str(run), **{k: v for k, v in overrides.items()
                                             if k in RESUME_CHANGEABLE and v is not None})


def model_config_for(cfg: TrainConfig, device: torch.device) -> ModelConfig:
    """The networks of a fresh run: the paper's width 64 on CUDA, ``CPU_WIDTH`` on CPU."""
    width = cfg.width or (64 if device.type == "cuda" else CPU_WIDTH)
    return ModelConfig(color=ColorNetConfig(width=width), temporal=TemporalNetConfig(width=max(4, width)),
                       discriminator=DiscriminatorConfig(width=min(64, 2 * width)))


def resolve_perceptual(cfg: TrainConfig, progress: Progress) -> TrainConfig:
    """``--perceptual auto``: the VGG19 losses when their weights are on this machine, else none with
    one warning, so a first run offline trains instead of failing. The run records what it used."""
    if cfg.perceptual != "auto":
        return cfg
    if cfg.vgg_weights is not None:  # asked for these weights: a missing file is an error, not a fallback
        return replace(cfg, perceptual="vgg")
    from lacvid.train.losses import VGG19_URL, default_vgg19_path, find_vgg19_weights

    try:
        find_vgg19_weights(None)
    except InputError:
        warn(progress, f"no VGG19 weights at {default_vgg19_path()}, so training without the perceptual and "
                       f"style losses; download {VGG19_URL} there (or pass --vgg-weights) to use them")
        return replace(cfg, perceptual="none")
    return replace(cfg, perceptual="vgg")
