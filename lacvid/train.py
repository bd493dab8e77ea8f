"""The two-stage trainer: the colour transform network, then the temporal constraint network.

Stage ``color``: triplets (p < t < q of one shot; references p and q, also K = 1 or 3) train
``ColorTransformNet`` against the 2D ``PatchDiscriminator`` with L1, perceptual, style, latent
constraint and adversarial losses. Stage ``temporal``: the colour network is frozen and run on
frames t-1, t, t+1 with the outer keys as references; ``TemporalConstraintNet`` refines the
middle frame against the ``TemporalPatchDiscriminator``. The temporal discriminator sees
real windows and windows whose middle frame is the refined output between the *true*
neighbours: it then judges exactly what the temporal network controls, the middle frame's fit
with its neighbours, instead of spotting the (unrefined) colour-network neighbours.

A run folder holds: ``config.json`` (the resolved settings), ``checkpoints/step-NNNNNNN.pt``
(the last ``keep`` of them), ``last.pt``, ``model.pt`` (inference weights only, written at the
end), ``losses.csv``, ``losses.png``, ``samples/step-NNNNNNN.png``.

Resuming is exact: the checkpoint holds every network, both optimisers and schedulers of each
stage, the RNG states of python, numpy and torch, and the step; batches are a pure function of
``(seed, step)`` (see ``lacvid.data``), so the data stream needs no saved state. Ctrl-C
finishes the current step, writes a checkpoint and exits (a second Ctrl-C stops at once).

DDP: under ``torchrun`` (``WORLD_SIZE`` > 1) every rank trains on its own slots of each step's
batch (gloo on CPU, nccl on GPUs); rank 0 alone builds the cache and writes files. On CUDA
the forward passes run under bf16 autocast.
"""

from __future__ import annotations

import csv
import json
import math
import os
import random
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP

from lacvid import __version__
from lacvid.data import FrameCache, Preprocess, SampleSettings, TripletDataset, loader
from lacvid.errors import CheckpointError, InputError, OutputExistsError
from lacvid.losses import GeneratorCriterion, LossWeights, d_loss, describe, load_vgg19
from lacvid.models import ModelConfig, load_checkpoint, save_checkpoint
from lacvid.models.checkpoint import build_net
from lacvid.models.config import CPU_WIDTH, ColorNetConfig, DiscriminatorConfig, TemporalNetConfig
from lacvid.progress import NULL_PROGRESS, Progress

STAGES = ("color", "temporal", "both")
LOSS_COLUMNS = ("step", "stage", "lr", "d", "g", "l1", "perceptual", "style", "latent", "adv", "seconds")


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
    perceptual: str = "vgg"  # "vgg" | "none"
    vgg_weights: str | None = None
    gan: str = "hinge"
    loss_weights: dict[str, float] = field(default_factory=lambda: LossWeights().to_dict())
    max_span: int = 8
    seed: int = 0
    device: str = "auto"
    init: str | None = None
    cache: str | None = None  # Zarr cache path; None = DATASET/.lacvid-cache.zarr
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
        if self.perceptual not in ("vgg", "none"):
            raise InputError(f"--perceptual must be 'vgg' or 'none', got {self.perceptual!r}")
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# --------------------------------------------------------------------------------------------
# Distributed helpers
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def _init_distributed(device_kind: str) -> tuple[_Dist, bool]:
    """Join the torchrun process group when WORLD_SIZE > 1; (dist info, whether we created it)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _Dist(), False
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    created = False
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device_kind == "cuda" else "gloo")
        created = True
    return _Dist(rank, world, local), created


def _barrier(d: _Dist) -> None:
    if d.world > 1:
        dist.barrier()


def _resolve_device(name: str, d: _Dist) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError("--device cuda was asked for but no CUDA GPU is available; use --device cpu or auto")
        return torch.device("cuda", d.local_rank if d.world > 1 else (torch.device(name).index or 0))
    if name != "cpu":
        raise InputError(f"--device must be auto, cpu or cuda, got {name!r}")
    return torch.device("cpu")


# --------------------------------------------------------------------------------------------
# State: RNGs, schedules
# --------------------------------------------------------------------------------------------

def _rng_state() -> dict[str, Any]:
    """RNG states as tensors and plain values (checkpoints load with weights_only=True)."""
    np_state = np.random.get_state()
    version, internal, gauss = random.getstate()
    state = {
        "python": [version, list(internal), gauss],
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), int(np_state[2]), int(np_state[3]),
                  float(np_state[4])],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _schedule(stage_steps: int, decay_from: float):
    """Constant, then linear decay to 10% over the stage's last (1 - decay_from)."""
    start = int(stage_steps * decay_from)

    def factor(step: int) -> float:
        if step < start or stage_steps <= start:
            return 1.0
        return 1.0 - 0.9 * min(1.0, (step - start) / max(1, stage_steps - start))
    return factor


# --------------------------------------------------------------------------------------------
# Logging: losses.csv, losses.png, sample grids
# --------------------------------------------------------------------------------------------

def _to_uint8(x: torch.Tensor) -> np.ndarray:
    """(C, H, W) in [0, 1] -> uint8 (H, W, 3)."""
    x = x.detach().float().clamp(0, 1).cpu()
    if x.shape[0] == 1:
        x = x.expand(3, -1, -1)
    return (x.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)


def _write_png(path: Path, image: np.ndarray) -> None:
    tmp = path.with_name(f".{path.stem}.tmp.png")
    if not cv2.imwrite(str(tmp), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise OSError(f"cannot write {tmp}")
    os.replace(tmp, path)


def sample_grid(rows: list[list[torch.Tensor]], labels: list[str], size: int) -> np.ndarray:
    """One row per sample, one labelled column per image ((C, h, w) in [0, 1], resized to ``size``)."""
    head = 16
    cols = len(labels)
    grid = np.full((head + len(rows) * (size + 2), cols * (size + 2), 3), 255, np.uint8)
    for j, label in enumerate(labels):
        cv2.putText(grid, label, (j * (size + 2) + 2, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            tile = cv2.resize(_to_uint8(img), (size, size), interpolation=cv2.INTER_NEAREST)
            y, x = head + i * (size + 2), j * (size + 2)
            grid[y:y + size, x:x + size] = tile
    return grid


def plot_losses(csv_path: Path, png_path: Path, width: int = 900, height: int = 480) -> None:
    """Draw losses.csv as log-scale curves (smoothed) with cv2: no plotting dependency for one PNG."""
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    if len(rows) < 2:
        return
    names = [c for c in ("g", "d", "l1", "perceptual", "style", "latent", "adv") if any(r.get(c) for r in rows)]
    colors = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
              (227, 119, 194)]
    steps = np.array([float(r["step"]) for r in rows])
    img = np.full((height, width, 3), 255, np.uint8)
    left, right, top, bottom = 60, 130, 20, 40
    pw, ph = width - left - right, height - top - bottom
    series = {}
    for name in names:
        v = np.array([float(r[name]) if r.get(name) not in (None, "") else np.nan for r in rows])
        v = np.log10(np.clip(np.abs(v), 1e-4, None))
        k = max(1, len(v) // 100)  # moving average so noisy GAN losses stay readable
        ok = ~np.isnan(v)
        if ok.sum() < 2:
            continue
        sm = np.convolve(np.where(ok, v, 0), np.ones(k), "same") / np.maximum(np.convolve(ok, np.ones(k), "same"), 1)
        series[name] = np.where(ok, sm, np.nan)
    if not series:
        return
    lo = math.floor(min(np.nanmin(s) for s in series.values()))
    hi = math.ceil(max(np.nanmax(s) for s in series.values()))
    hi = max(hi, lo + 1)
    x0, x1 = steps.min(), max(steps.max(), steps.min() + 1)

    def px(s: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.stack([left + (s - x0) / (x1 - x0) * pw, top + (hi - v) / (hi - lo) * ph], 1)

    cv2.rectangle(img, (left, top), (left + pw, top + ph), (0, 0, 0), 1)
    for e in range(lo, hi + 1):
        y = int(top + (hi - e) / (hi - lo) * ph)
        cv2.line(img, (left, y), (left + pw, y), (220, 220, 220), 1)
        cv2.putText(img, f"1e{e}", (8, y + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = int(left + frac * pw)
        cv2.putText(img, f"{int(x0 + frac * (x1 - x0))}", (x - 12, top + ph + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                    (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, "step", (left + pw // 2 - 12, height - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1,
                cv2.LINE_AA)
    for i, (name, v) in enumerate(series.items()):
        color = colors[names.index(name) % len(colors)]
        ok = ~np.isnan(v)
        pts = px(steps[ok], v[ok]).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(img, [pts], False, color, 1, cv2.LINE_AA)
        y = top + 10 + 18 * i
        cv2.line(img, (left + pw + 10, y), (left + pw + 30, y), color, 2)
        cv2.putText(img, name, (left + pw + 36, y + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    _write_png(png_path, img)


class _LossLog:
    """RUN/losses.csv; on resume, rows past the resumed step are dropped (they are redone)."""

    def __init__(self, path: Path, resume_step: int | None) -> None:
        self.path = path
        rows: list[dict[str, str]] = []
        if resume_step is not None and path.exists():
            with open(path, newline="") as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) <= resume_step]
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, LOSS_COLUMNS)
            w.writeheader()
            w.writerows(rows)
        self._f = open(path, "a", newline="")
        self._w = csv.DictWriter(self._f, LOSS_COLUMNS)

    def write(self, row: dict[str, Any]) -> None:
        self._w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
        self._f.flush()  # a few bytes a step; lets people watch a long run with tail -f

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        self._f.close()


# --------------------------------------------------------------------------------------------
# The trainer
# --------------------------------------------------------------------------------------------

def _model_config(cfg: TrainConfig, device: torch.device) -> ModelConfig:
    width = cfg.width or (64 if device.type == "cuda" else CPU_WIDTH)
    return ModelConfig(color=ColorNetConfig(width=width), temporal=TemporalNetConfig(width=max(4, width)),
                       discriminator=DiscriminatorConfig(width=min(64, 2 * width)))


def _unwrap(m: nn.Module) -> nn.Module:
    return m.module if isinstance(m, DDP) else m


class _Interrupt:
    """First Ctrl-C (or SIGTERM: timeouts, schedulers, torchrun): finish the step, checkpoint,
    stop. A second one: stop at once."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested = False
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _Interrupt:
        try:
            for sig in self.SIGNALS:
                self._old[sig] = signal.signal(sig, self._handler)
        except ValueError:  # not the main thread: no deferral, Ctrl-C stops mid-step
            pass
        return self

    def _handler(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc: Any) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


class Trainer:
    """Owns the networks, losses, optimisers, data and run folder of one training run."""

    def __init__(self, cfg: TrainConfig, *, resume: bool = False, overrides: dict[str, Any] | None = None,
                 overwrite: bool = False, progress: Progress = NULL_PROGRESS) -> None:
        self.progress = progress
        self.run = Path(cfg.run)
        wanted = "cuda" if cfg.device.startswith("cuda") or (cfg.device == "auto" and torch.cuda.is_available()) \
            else "cpu"
        self.dist, self._own_pg = _init_distributed(wanted)
        try:
            self._setup(cfg, resume, overrides, overwrite, progress)
        except BaseException:
            self.close()  # leave no process group behind a failed start
            raise

    def _setup(self, cfg: TrainConfig, resume: bool, overrides: dict[str, Any] | None, overwrite: bool,
               progress: Progress) -> None:
        self.device = _resolve_device(cfg.device, self.dist)
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        elif self.dist.world > 1:  # share the cores between the ranks instead of oversubscribing them
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", "1"))))

        ckpt = None
        if resume:
            last = self.run / "last.pt"
            if not last.is_file():
                raise InputError(f"cannot resume: {last} does not exist; train without --resume first")
            ckpt = load_checkpoint(last)
            stored = (ckpt.train_state or {}).get("config")
            if not isinstance(stored, dict):
                raise CheckpointError(f"{last} holds no training state; it cannot be resumed (use --init)")
            cfg = _merge_resume(TrainConfig.from_dict(stored), cfg.run, overrides or {}, progress)
        elif self.run.exists() and any(self.run.iterdir()):
            if not overwrite:
                raise OutputExistsError(f"run folder {self.run} already exists; pass --resume to continue it, "
                                        "--overwrite to start over, or choose another -o")
            if self.dist.main:
                shutil.rmtree(self.run)
        _barrier(self.dist)
        self.cfg = cfg
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        # bf16 autocast: weights and optimiser state stay fp32. On by default on CUDA; on CPUs
        # with AVX512-BF16 it is about 1.5x faster for the colour stage (opt in: --precision bf16).
        self.amp = cfg.precision == "bf16" or (cfg.precision == "auto" and self.device.type == "cuda")

        init = None
        if cfg.init and not resume:
            init = load_checkpoint(cfg.init)
            if cfg.width is not None and cfg.width != init.config.color.width:
                raise InputError(f"--width {cfg.width} differs from the width {init.config.color.width} of "
                                 f"{cfg.init}; drop --width when fine-tuning")
        if ckpt is not None:
            self.model_config = ckpt.config
        elif init is not None:
            self.model_config = init.config
        else:
            self.model_config = _model_config(cfg, self.device)

        if cfg.stage == "temporal" and init is None and ckpt is None:
            raise InputError("--stage temporal needs a trained colour network: pass --init CKPT (a checkpoint of "
                             "a colour-stage run) or train with --stage both")

        # Networks: seeded so two runs with one seed start identically.
        torch.manual_seed(cfg.seed)
        np.random.seed(cfg.seed % 2**32)
        random.seed(cfg.seed)
        self.nets: dict[str, nn.Module] = {name: build_net(name, self.model_config).to(self.device)
                                           for name in ("color", "temporal", "color_disc", "temporal_disc")}
        source = ckpt or init
        if source is not None:
            loaded = {"color": source.color_net, "temporal": source.temporal_net, **source.discriminators}
            for name, net in loaded.items():
                if net is not None:
                    self.nets[name].load_state_dict(net.state_dict())

        w = LossWeights(**cfg.loss_weights)
        vgg = load_vgg19(cfg.vgg_weights).to(self.device) if cfg.perceptual == "vgg" else None
        self.criterion = GeneratorCriterion(w, vgg, cfg.gan)

        # Per stage: generator + discriminator optimisers and their schedules.
        betas = (0.5, 0.999)
        self.opt = {
            "color": torch.optim.Adam(self.nets["color"].parameters(), cfg.lr, betas=betas),
            "color_disc": torch.optim.Adam(self.nets["color_disc"].parameters(), cfg.lr_d, betas=betas),
            "temporal": torch.optim.Adam(self.nets["temporal"].parameters(), cfg.lr, betas=betas),
            "temporal_disc": torch.optim.Adam(self.nets["temporal_disc"].parameters(), cfg.lr_d, betas=betas),
        }
        sched_c = _schedule(cfg.color_steps, cfg.decay_from)
        sched_t = _schedule(cfg.total_temporal_steps, cfg.decay_from)
        self.sched = {name: torch.optim.lr_scheduler.LambdaLR(opt, sched_t if name.startswith("temporal") else sched_c)
                      for name, opt in self.opt.items()}
        self.step = 0  # optimiser steps of both stages: names checkpoints, rows of losses.csv
        self.done = {"color": 0, "temporal": 0}  # steps done per stage
        if ckpt is not None:
            state = ckpt.train_state or {}
            try:
                for name, opt in self.opt.items():
                    opt.load_state_dict(state["optimizers"][name])
                for name, sch in self.sched.items():
                    sch.load_state_dict(state["schedulers"][name])
                    # The schedule may have changed length (more --steps): rates follow it now,
                    # with the very formula LambdaLR uses, so an unchanged run resumes bit-exactly.
                    for group, base, fn in zip(sch.optimizer.param_groups, sch.base_lrs, sch.lr_lambdas):
                        group["lr"] = base * fn(sch.last_epoch)
                self.step = int(state["step"])
                self.done = {k: int(v) for k, v in state["done"].items()}
                rng = state["rng"]
            except (KeyError, ValueError, TypeError) as exc:
                raise CheckpointError(f"{self.run / 'last.pt'} has an incomplete training state ({exc}); "
                                      "it cannot be resumed") from exc
            if self.dist.world == 1:
                _set_rng_state(rng)

        if self.dist.world > 1:  # DDP only around the trained networks; discriminators' G-pass uses .module
            ids = [self.device.index] if self.device.type == "cuda" else None
            for name in self.nets:
                self.nets[name] = DDP(self.nets[name], device_ids=ids)

        # Data: rank 0 builds the cache, the others wait and open it.
        pre = Preprocess(scale=cfg.scale or cfg.size)
        cache_path = Path(cfg.cache) if cfg.cache else None
        if self.dist.main:
            self.cache = FrameCache.build(cfg.dataset, pre, cache_path, progress)
        _barrier(self.dist)
        if not self.dist.main:
            self.cache = FrameCache.build(cfg.dataset, pre, cache_path, NULL_PROGRESS)

        self.resumed_at = self.step if ckpt is not None else None
        # Check the sampling settings against the data now, before any progress bar or file.
        self.datasets = {stage: TripletDataset(self.cache, SampleSettings(
            size=cfg.size, window=1 if stage == "color" else 3, max_span=cfg.max_span,
            seed=cfg.seed + (0 if stage == "color" else 1_000_003)))
            for stage, n in (("color", cfg.color_steps), ("temporal", cfg.total_temporal_steps)) if n > 0}

    # ------------------------------------------------------------------ state

    def train_state(self) -> dict[str, Any]:
        return {"step": self.step, "done": dict(self.done), "config": self.cfg.to_dict(),
                "optimizers": {k: o.state_dict() for k, o in self.opt.items()},
                "schedulers": {k: s.state_dict() for k, s in self.sched.items()},
                "rng": _rng_state()}

    def _meta(self, losses: dict[str, float] | None) -> dict[str, Any]:
        return {"lacvid": __version__, "dataset": str(self.cfg.dataset), "step": self.step,
                "color_steps": self.done["color"], "temporal_steps": self.done["temporal"],
                "size": self.cfg.size, "losses": losses or {}}

    def save(self, losses: dict[str, float] | None = None) -> Path:
        """A resumable checkpoint (rank 0): checkpoints/step-N.pt, last.pt, keeping the newest ``keep``."""
        folder = self.run / "checkpoints"
        path = folder / f"step-{self.step:07d}.pt"
        nets = {k: _unwrap(v) for k, v in self.nets.items()}
        save_checkpoint(path, config=self.model_config, nets=nets, train_state=self.train_state(),
                        meta=self._meta(losses))
        tmp = self.run / ".last.pt.tmp"
        shutil.copyfile(path, tmp)
        os.replace(tmp, self.run / "last.pt")
        for old in sorted(folder.glob("step-*.pt"))[:-self.cfg.keep]:
            old.unlink(missing_ok=True)
        return path

    def save_model(self, losses: dict[str, float] | None) -> Path:
        """RUN/model.pt: the colour and temporal networks only, what ``lacvid colorize`` loads."""
        nets = {"color": _unwrap(self.nets["color"])}
        if self.done["temporal"] > 0:
            nets["temporal"] = _unwrap(self.nets["temporal"])
        return save_checkpoint(self.run / "model.pt", config=self.model_config, nets=nets, train_state=None,
                               meta=self._meta(losses))

    # ------------------------------------------------------------------ steps

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp)

    def _color_step(self, b: dict[str, torch.Tensor]) -> tuple[dict[str, float], list[list[torch.Tensor]]]:
        G, D = self.nets["color"], self.nets["color_disc"]
        lines, dist_, truth = b["lines"][:, 0], b["dist"][:, 0], b["color"][:, 0]  # (B, 1|3, S, S)
        G.train()
        D.train()
        with self._autocast():
            y, y_mid, y_sim = G(lines, dist_, b["ref_lines"], b["ref_colors"], b["ref_dists"])  # (B, 3, S, S) ...
            # Discriminator: real and fake in one forward (one DDP forward per backward).
            logits = D(torch.cat([lines, lines]), torch.cat([truth, y.detach()]))  # (2B, 1, h, w)
        real, fake = logits.chunk(2)
        loss_d = d_loss(real, fake, self.cfg.gan)
        self.opt["color_disc"].zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt["color_disc"].step()
        Dm = _unwrap(D)
        Dm.requires_grad_(False)
        with self._autocast():
            fake_logits = Dm(lines, y)  # (B, 1, h, w)
            total, terms = self.criterion(y, truth, fake_logits, y_mid, y_sim)
        Dm.requires_grad_(True)
        self.opt["color"].zero_grad(set_to_none=True)
        total.backward()
        self.opt["color"].step()
        for name in ("color", "color_disc"):
            self.sched[name].step()
        up = lambda t: torch.nn.functional.interpolate(t.float(), size=y.shape[-2:], mode="nearest")  # noqa: E731
        rows = [[lines[i], *b["ref_colors"][i], up(y_sim[i:i + 1])[0], up(y_mid[i:i + 1])[0], y[i], truth[i]]
                for i in range(min(4, y.shape[0]))]
        return self._floats(total, loss_d, terms), rows

    def _temporal_step(self, b: dict[str, torch.Tensor]) -> tuple[dict[str, float], list[list[torch.Tensor]]]:
        C, T, D = _unwrap(self.nets["color"]), self.nets["temporal"], self.nets["temporal_disc"]
        lines, dist_, truth = b["lines"], b["dist"], b["color"]  # (B, 3, 1|3, S, S)
        C.eval()
        T.train()
        D.train()
        with torch.no_grad(), self._autocast():
            refs = C.encode_references(b["ref_lines"], b["ref_colors"], b["ref_dists"])
            ys = torch.stack([C.forward_with_references(lines[:, i], dist_[:, i], refs)[0].float()
                              for i in range(lines.shape[1])], 1)  # (B, 3, 3, S, S)
        with self._autocast():
            y = T(torch.cat([ys, lines], 2))  # (B, 3, S, S) refined middle frame
            real_w = torch.cat([truth, lines], 2)  # (B, 3, 4, S, S)
            fake_w = torch.cat([torch.stack([truth[:, 0], y, truth[:, 2]], 1), lines], 2)  # (B, 3, 4, S, S)
            logits = D(torch.cat([real_w, fake_w.detach()]))  # (2B, 1, 3, h, w)
        real, fake = logits.chunk(2)
        loss_d = d_loss(real, fake, self.cfg.gan)
        self.opt["temporal_disc"].zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt["temporal_disc"].step()
        Dm = _unwrap(D)
        Dm.requires_grad_(False)
        with self._autocast():
            fake_logits = Dm(fake_w)  # (B, 1, 3, h, w)
            total, terms = self.criterion(y, truth[:, 1], fake_logits)
        Dm.requires_grad_(True)
        self.opt["temporal"].zero_grad(set_to_none=True)
        total.backward()
        self.opt["temporal"].step()
        for name in ("temporal", "temporal_disc"):
            self.sched[name].step()
        rows = [[lines[i, 1], *b["ref_colors"][i], ys[i, 0], ys[i, 1], y[i], truth[i, 1]]
                for i in range(min(4, y.shape[0]))]
        return self._floats(total, loss_d, terms), rows

    def _floats(self, total: torch.Tensor, loss_d: torch.Tensor, terms: dict[str, torch.Tensor]) -> dict[str, float]:
        vals = torch.stack([total.detach().float(), loss_d.detach().float(), *(t.detach().float() for t in terms.values())])
        if self.dist.world > 1:  # log the mean over ranks
            dist.all_reduce(vals)
            vals /= self.dist.world
        out = vals.cpu().tolist()
        return {"g": out[0], "d": out[1], **dict(zip(terms, out[2:]))}

    def _batches(self, stage: str, start_step: int) -> Iterator[dict[str, torch.Tensor]]:
        for batch in loader(self.datasets[stage], self.cfg.batch, start_step, self.dist.rank, self.cfg.workers):
            yield {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}

    # ------------------------------------------------------------------ the loop

    def fit(self) -> Path:
        """Train to ``total_steps``; returns RUN/model.pt. Ctrl-C: checkpoint, then KeyboardInterrupt."""
        cfg, main = self.cfg, self.dist.main
        if main:
            self.run.mkdir(parents=True, exist_ok=True)
            (self.run / "samples").mkdir(exist_ok=True)
            config = {"train": cfg.to_dict(), "model": self.model_config.to_dict(),
                      "losses": describe(LossWeights(**cfg.loss_weights), cfg.perceptual == "vgg", cfg.gan),
                      "lacvid": __version__, "world_size": self.dist.world, "device": str(self.device),
                      "effective_batch": cfg.batch * self.dist.world, "cache": str(self.cache.path),
                      "shots": len(self.cache.shots), "frames": self.cache.frame_count}
            tmp = self.run / ".config.json.tmp"
            tmp.write_text(json.dumps(config, indent=2) + "\n")
            os.replace(tmp, self.run / "config.json")
            log = _LossLog(self.run / "losses.csv", self.resumed_at if self.resumed_at is not None else 0)
        todo = {"color": max(0, cfg.color_steps - self.done["color"]),
                "temporal": max(0, cfg.total_temporal_steps - self.done["temporal"])}
        last = self.step + todo["color"] + todo["temporal"]
        task = self.progress.task("training", total=last, unit="steps") if main else NULL_PROGRESS.task("")
        task.advance(self.step)
        losses: dict[str, float] = {}
        consistent = True
        stream: Iterator[dict[str, torch.Tensor]] | None = None
        stream_stage = None
        try:
            with _Interrupt() as stop:
                while self.step < last:
                    # The colour stage first; a resumed run with more colour steps trains them
                    # before it continues the temporal stage.
                    stage = "color" if self.done["color"] < cfg.color_steps else "temporal"
                    stage_step = self.done[stage]
                    if stream_stage != stage:
                        stream, stream_stage = self._batches(stage, stage_step), stage
                    assert stream is not None
                    batch = next(stream)
                    t0 = time.perf_counter()
                    lr = self.opt[stage].param_groups[0]["lr"]  # the rate this step uses
                    consistent = False
                    losses, rows = self._color_step(batch) if stage == "color" else self._temporal_step(batch)
                    self.step += 1
                    self.done[stage] += 1
                    consistent = True
                    if main:
                        if self.step % cfg.log_every == 0 or self.step == last:
                            log.write({"step": self.step, "stage": stage, "lr": lr,
                                       "seconds": time.perf_counter() - t0, **losses})
                        if self.step % cfg.sample_every == 0 or self.step == last:
                            labels = ["lines", *[f"ref{i}" for i in range(len(rows[0]) - 5)],
                                      *(("y_sim", "y_mid") if stage == "color" else ("net t-1", "net t")),
                                      "y", "truth"]
                            grid = sample_grid(rows, labels, min(128, cfg.size))
                            _write_png(self.run / "samples" / f"step-{self.step:07d}.png", grid)
                        if self.step % cfg.checkpoint_every == 0 or self.step == last:
                            log.flush()
                            self.save(losses)
                            plot_losses(self.run / "losses.csv", self.run / "losses.png")
                        task.update(description=f"{stage} " + " ".join(f"{k} {losses[k]:.3g}" for k in ("g", "d", "l1")))
                        task.advance()
                    if stop.requested:
                        raise KeyboardInterrupt
        except KeyboardInterrupt:
            if main and consistent and self.step > 0:
                log.flush()
                path = self.save(losses)
                plot_losses(self.run / "losses.csv", self.run / "losses.png")
                self.progress.log(f"interrupted at step {self.step}; saved {path}; continue with --resume")
            elif main:
                self.progress.log("interrupted mid-step; the last periodic checkpoint is kept; continue with --resume")
            raise
        finally:
            task.close()
            if main:
                log.close()
        path = self.run / "model.pt"
        if main:
            path = self.save_model(losses)
        _barrier(self.dist)
        return path

    def close(self) -> None:
        if self._own_pg and dist.is_initialized():
            dist.destroy_process_group()


RESUME_CHANGEABLE = ("dataset", "steps", "temporal_steps", "checkpoint_every", "sample_every", "log_every", "keep",
                     "workers", "device", "vgg_weights", "cache", "precision", "threads")


def _merge_resume(stored: TrainConfig, run: str, overrides: dict[str, Any], progress: Progress) -> TrainConfig:
    """On --resume the run's own settings win, except those that may change between sittings
    (e.g. more ``steps``); other options given again are ignored with a message."""
    ignored = sorted(k for k, v in overrides.items()
                     if k not in RESUME_CHANGEABLE and k != "run" and v is not None and v != getattr(stored, k, None))
    if ignored:
        progress.log(f"--resume keeps the run's own {', '.join(ignored)}; start a new run (or --init) to change them")
    return replace(stored, run=str(run), **{k: v for k, v in overrides.items()
                                             if k in RESUME_CHANGEABLE and v is not None})


def train(cfg: TrainConfig, *, resume: bool = False, overrides: dict[str, Any] | None = None,
          overwrite: bool = False, progress: Progress = NULL_PROGRESS) -> Path:
    """Run (or resume) training as configured; returns RUN/model.pt.

    With ``resume`` the settings stored in RUN/last.pt are used; ``overrides`` may change the
    ones in ``RESUME_CHANGEABLE`` (e.g. ``{"steps": 40000}`` to train longer).
    """
    trainer = Trainer(cfg, resume=resume, overrides=overrides, overwrite=overwrite, progress=progress)
    try:
        return trainer.fit()
    finally:
        trainer.close()
