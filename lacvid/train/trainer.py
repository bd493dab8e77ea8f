"""The Trainer: one run's networks, losses, optimisers, data and run folder, and its loop.

Both stages train the same way, through one adversarial step (``Trainer._adversarial_step``):
the discriminator sees real and generated samples in one forward (one DDP forward per
backward) and takes its step; then, with the discriminator frozen, the generator's loss
(its own terms plus the discriminator's verdict on its output) takes the generator's step.
A stage only says what its generator computes and what the discriminator is shown.

Ctrl-C (or SIGTERM) finishes the current step, writes a checkpoint and exits; a second one
stops at once. On CUDA the forward passes run under bf16 autocast.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from lacvid._version import __version__
from lacvid.errors import InputError, OutputExistsError
from lacvid.models.checkpoint import Checkpoint, build_net, load_checkpoint, save_checkpoint
from lacvid.progress import NULL_PROGRESS, Progress
from lacvid.train.config import TrainConfig, model_config_for, resolve_perceptual
from lacvid.train.data import FrameCache, Preprocess, discover
from lacvid.train.dist import (
    StopRequest,
    barrier,
    close_distributed,
    init_distributed,
    mean_over_ranks,
    share_cpu_threads,
    unwrap,
    wrap,
)
from lacvid.train.losses import GeneratorCriterion, LossWeights, d_loss, describe, load_vgg19
from lacvid.train.report import LossLog, plot_losses, sample_grid, sample_labels, write_json, write_png
from lacvid.train.sampling import SampleSettings, TripletDataset, loader
from lacvid.train.state import capture, load_resume, restore, schedule, seed_all, set_rng_state, write_checkpoint
from lacvid.util.devices import resolve_device

NETS = ("color", "temporal", "color_disc", "temporal_disc")
Batch = dict[str, torch.Tensor]
Rows = list[list[torch.Tensor]]  # sample-grid rows: (C, h, w) images in [0, 1]


class Trainer:
    """Owns the networks, losses, optimisers, data and run folder of one training run."""

    def __init__(self, cfg: TrainConfig, *, resume: bool = False, overrides: dict[str, Any] | None = None,
                 overwrite: bool = False, progress: Progress = NULL_PROGRESS) -> None:
        self.progress = progress
        self.run = Path(cfg.run)
        wanted = "cuda" if cfg.device.startswith("cuda") or (cfg.device == "auto" and torch.cuda.is_available()) \
            else "cpu"
        self.dist, self._own_pg = init_distributed(wanted)
        try:
            self._setup(cfg, resume, overrides, overwrite)
        except BaseException:
            self.close()  # leave no process group behind a failed start
            raise

    # ------------------------------------------------------------------ setup

    def _setup(self, cfg: TrainConfig, resume: bool, overrides: dict[str, Any] | None, overwrite: bool) -> None:
        # The order is part of the result: the seeded networks (and VGG) draw from the RNGs
        # before a resumed run restores them.
        discover(cfg.dataset)  # an unusable dataset is said first, before any download, weight or folder
        self._set_device(cfg.device)
        ckpt = self._settle_run(cfg, resume, overrides, overwrite)
        self.cfg = resolve_perceptual(self.cfg, self.progress)
        init = None if resume else self._load_init()
        source = ckpt or init
        self.model_config = source.config if source is not None else model_config_for(self.cfg, self.device)
        if self.cfg.stage == "temporal" and source is None:
            raise InputError("--stage temporal needs a trained colour network: pass --init CKPT (a checkpoint of "
                             "a colour-stage run) or train with --stage both")
        self._build_networks(source)
        self._build_optimizers()
        self._restore(ckpt)
        if self.dist.world > 1:  # DDP only around the trained networks; discriminators' G-pass uses .module
            self.nets = {name: wrap(net, self.device) for name, net in self.nets.items()}
        self._build_data()

    def _set_device(self, name: str) -> None:
        self.device = resolve_device(name, self.dist.local_rank if self.dist.world > 1 else None)
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        elif self.dist.world > 1:
            share_cpu_threads()

    def _settle_run(self, cfg: TrainConfig, resume: bool, overrides: dict[str, Any] | None,
                    overwrite: bool) -> Checkpoint | None:
        """The run's settings (its own on ``resume``) and folder; the checkpoint resumed from."""
        ckpt = None
        if resume:
            ckpt, cfg = load_resume(self.run, cfg, overrides, self.progress)
        elif self.run.exists() and any(self.run.iterdir()):
            if not overwrite:
                raise OutputExistsError(f"run folder {self.run} already exists; pass --resume to continue it, "
                                        "--overwrite to start over, or choose another -o")
            if self.dist.main:
                shutil.rmtree(self.run)
        barrier(self.dist)
        self.cfg = cfg
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        # bf16 autocast: weights and optimiser state stay fp32. On by default on CUDA; on CPUs
        # with AVX512-BF16 it is about 1.5x faster for the colour stage (opt in: --precision bf16).
        self.amp = cfg.precision == "bf16" or (cfg.precision == "auto" and self.device.type == "cuda")
        return ckpt

    def _load_init(self) -> Checkpoint | None:
        """The checkpoint ``--init`` fine-tunes from, if any."""
        cfg = self.cfg
        if not cfg.init:
            return None
        init = load_checkpoint(cfg.init)
        if cfg.width is not None and cfg.width != init.config.color.width:
            raise InputError(f"--width {cfg.width} differs from the width {init.config.color.width} of "
                             f"{cfg.init}; drop --width when fine-tuning")
        return init

    def _build_networks(self, source: Checkpoint | None) -> None:
        """The four networks (seeded, then loaded from ``source``) and the generator's criterion."""
        cfg = self.cfg
        seed_all(cfg.seed)
        self.nets: dict[str, nn.Module] = {name: build_net(name, self.model_config).to(self.device)
                                           for name in NETS}
        if source is not None:
            loaded = {"color": source.color_net, "temporal": source.temporal_net, **source.discriminators}
            for name, net in loaded.items():
                if net is not None:
                    self.nets[name].load_state_dict(net.state_dict())
        vgg = load_vgg19(cfg.vgg_weights).to(self.device) if cfg.perceptual == "vgg" else None
        self.criterion = GeneratorCriterion(LossWeights(**cfg.loss_weights), vgg, cfg.gan)

    def _build_optimizers(self) -> None:
        """Per stage: generator and discriminator optimisers (Adam, beta1 0.5) and their schedules."""
        cfg = self.cfg
        betas = (0.5, 0.999)
        self.opt = {
            "color": torch.optim.Adam(self.nets["color"].parameters(), cfg.lr, betas=betas),
            "color_disc": torch.optim.Adam(self.nets["color_disc"].parameters(), cfg.lr_d, betas=betas),
            "temporal": torch.optim.Adam(self.nets["temporal"].parameters(), cfg.lr, betas=betas),
            "temporal_disc": torch.optim.Adam(self.nets["temporal_disc"].parameters(), cfg.lr_d, betas=betas),
        }
        sched_c = schedule(cfg.color_steps, cfg.decay_from)
        sched_t = schedule(cfg.total_temporal_steps, cfg.decay_from)
        self.sched = {name: torch.optim.lr_scheduler.LambdaLR(opt, sched_t if name.startswith("temporal") else sched_c)
                      for name, opt in self.opt.items()}
        self.step = 0  # optimiser steps of both stages: names checkpoints, rows of losses.csv
        self.done = {"color": 0, "temporal": 0}  # steps done per stage

    def _restore(self, ckpt: Checkpoint | None) -> None:
        """A resumed run's optimisers, schedules, step counts and (one process) RNG states."""
        self.resumed_at: int | None = None
        if ckpt is None:
            return
        self.step, self.done, rng = restore(ckpt.train_state or {}, self.opt, self.sched, self.run / "last.pt")
        if self.dist.world == 1:
            set_rng_state(rng)
        self.resumed_at = self.step

    def _build_data(self) -> None:
        """The cache (rank 0 builds it, the others wait and open it) and each stage's samples."""
        cfg = self.cfg
        pre = Preprocess(scale=cfg.work_size)
        cache_path = Path(cfg.cache) if cfg.cache else None
        if self.dist.main:
            self.cache = FrameCache.build(cfg.dataset, pre, cache_path, self.progress)
        barrier(self.dist)
        if not self.dist.main:
            self.cache = FrameCache.build(cfg.dataset, pre, cache_path, NULL_PROGRESS)
        # Check the sampling settings against the data now, before any progress bar or file.
        self.datasets = {stage: TripletDataset(self.cache, SampleSettings(
            size=cfg.size, window=1 if stage == "color" else 3, max_span=cfg.max_span,
            seed=cfg.seed + (0 if stage == "color" else 1_000_003)))
            for stage, n in (("color", cfg.color_steps), ("temporal", cfg.total_temporal_steps)) if n > 0}

    # ------------------------------------------------------------------ state

    def _meta(self, losses: dict[str, float] | None) -> dict[str, Any]:
        return {"lacvid": __version__, "dataset": str(self.cfg.dataset), "step": self.step,
                "color_steps": self.done["color"], "temporal_steps": self.done["temporal"],
                "size": self.cfg.size, "work_size": self.cfg.work_size, "losses": losses or {}}

    def save(self, losses: dict[str, float] | None = None) -> Path:
        """A resumable checkpoint (rank 0): checkpoints/step-N.pt, last.pt, keeping the newest ``keep``."""
        state = capture(self.step, self.done, self.cfg, self.opt, self.sched)
        return write_checkpoint(self.run, self.step, self.cfg.keep, config=self.model_config,
                                nets={k: unwrap(v) for k, v in self.nets.items()}, train_state=state,
                                meta=self._meta(losses))

    def save_model(self, losses: dict[str, float] | None) -> Path:
        """RUN/model.pt: the colour and temporal networks only, what ``lacvid colorize`` loads."""
        nets = {"color": unwrap(self.nets["color"])}
        if self.done["temporal"] > 0:
            nets["temporal"] = unwrap(self.nets["temporal"])
        return save_checkpoint(self.run / "model.pt", config=self.model_config, nets=nets, train_state=None,
                               meta=self._meta(losses))

    # ------------------------------------------------------------------ steps

    def _autocast(self) -> torch.autocast:
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp)

    def _optimize(self, name: str, loss: torch.Tensor) -> None:
        self.opt[name].zero_grad(set_to_none=True)
        loss.backward()
        self.opt[name].step()

    def _adversarial_step(self, stage: str, real: tuple[torch.Tensor, ...], fake: tuple[torch.Tensor, ...],
                          g_loss: Callable[[torch.Tensor], tuple[torch.Tensor, dict[str, torch.Tensor]]]
                          ) -> dict[str, float]:
        """One discriminator step, then one generator step, of ``stage``.

        ``real`` and ``fake`` are the discriminator's inputs (the generator's output in
        ``fake``); ``g_loss(fake_logits)`` is the generator's (total, terms).
        """
        D = self.nets[f"{stage}_disc"]
        with self._autocast():  # real and fake in one forward (one DDP forward per backward)
            logits = D(*(torch.cat([r, f.detach()]) for r, f in zip(real, fake)))  # (2B, 1, [3,] h, w)
        real_logits, fake_logits = logits.chunk(2)
        loss_d = d_loss(real_logits, fake_logits, self.cfg.gan)
        self._optimize(f"{stage}_disc", loss_d)
        Dm = unwrap(D)
        Dm.requires_grad_(False)  # the generator's step leaves no gradient in D
        with self._autocast():
            total, terms = g_loss(Dm(*fake))  # logits (B, 1, [3,] h, w)
        Dm.requires_grad_(True)
        self._optimize(stage, total)
        for name in (stage, f"{stage}_disc"):
            self.sched[name].step()
        return self._floats(total, loss_d, terms)

    def _color_step(self, b: Batch) -> tuple[dict[str, float], Rows]:
        G = self.nets["color"]
        lines, dists, truth = b["lines"][:, 0], b["dist"][:, 0], b["color"][:, 0]  # (B, 1|3, S, S)
        G.train()
        self.nets["color_disc"].train()
        with self._autocast():
            y, y_mid, y_sim = G(lines, dists, b["ref_lines"], b["ref_colors"], b["ref_dists"])  # (B, 3, S, S) ...
        losses = self._adversarial_step("color", (lines, truth), (lines, y),
                                        lambda logits: self.criterion(y, truth, logits, y_mid, y_sim))
        up = lambda t: F.interpolate(t.float(), size=y.shape[-2:], mode="nearest")  # noqa: E731
        rows = [[lines[i], *b["ref_colors"][i], up(y_sim[i:i + 1])[0], up(y_mid[i:i + 1])[0], y[i], truth[i]]
                for i in range(min(4, y.shape[0]))]
        return losses, rows

    def _temporal_step(self, b: Batch) -> tuple[dict[str, float], Rows]:
        C, T = unwrap(self.nets["color"]), self.nets["temporal"]
        lines, dists, truth = b["lines"], b["dist"], b["color"]  # (B, 3, 1|3, S, S)
        C.eval()
        T.train()
        self.nets["temporal_disc"].train()
        with torch.no_grad(), self._autocast():
            refs = C.encode_references(b["ref_lines"], b["ref_colors"], b["ref_dists"])
            ys = torch.stack([C.forward_with_references(lines[:, i], dists[:, i], refs)[0].float()
                              for i in range(lines.shape[1])], 1)  # (B, 3, 3, S, S)
        with self._autocast():
            y = T(torch.cat([ys, lines], 2))  # (B, 3, S, S) refined middle frame
            real_w = torch.cat([truth, lines], 2)  # (B, 3, 4, S, S)
            # The middle frame refined between the *true* neighbours: D judges what T controls.
            fake_w = torch.cat([torch.stack([truth[:, 0], y, truth[:, 2]], 1), lines], 2)  # (B, 3, 4, S, S)
        losses = self._adversarial_step("temporal", (real_w,), (fake_w,),
                                        lambda logits: self.criterion(y, truth[:, 1], logits))
        rows = [[lines[i, 1], *b["ref_colors"][i], ys[i, 0], ys[i, 1], y[i], truth[i, 1]]
                for i in range(min(4, y.shape[0]))]
        return losses, rows

    def _floats(self, total: torch.Tensor, loss_d: torch.Tensor, terms: dict[str, torch.Tensor]) -> dict[str, float]:
        vals = torch.stack([total.detach().float(), loss_d.detach().float(),
                            *(t.detach().float() for t in terms.values())])  # (2 + terms,)
        out = mean_over_ranks(vals, self.dist).cpu().tolist()  # logged: the mean over ranks
        return {"g": out[0], "d": out[1], **dict(zip(terms, out[2:]))}

    def _batches(self, stage: str, start_step: int) -> Iterator[Batch]:
        for batch in loader(self.datasets[stage], self.cfg.batch, start_step, self.dist.rank, self.cfg.workers):
            yield {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}

    # ------------------------------------------------------------------ the loop

    def fit(self) -> Path:
        """Train to ``total_steps``; returns RUN/model.pt. Ctrl-C: checkpoint, then KeyboardInterrupt."""
        cfg, main = self.cfg, self.dist.main
        log = self._start_files() if main else None
        todo = {"color": max(0, cfg.color_steps - self.done["color"]),
                "temporal": max(0, cfg.total_temporal_steps - self.done["temporal"])}
        last = self.step + todo["color"] + todo["temporal"]
        task = self.progress.task("training", total=last, unit="steps") if main else NULL_PROGRESS.task("")
        task.advance(self.step)
        self.losses: dict[str, float] = {}
        self._consistent = True  # False while a step is half done: nothing to checkpoint then
        try:
            with StopRequest() as stop:
                self._loop(last, log, task, stop)
        except KeyboardInterrupt:
            if log is not None:
                self._interrupted(log)
            raise
        finally:
            task.close()
            if log is not None:
                log.close()
        path = self.run / "model.pt"
        if main:
            path = self.save_model(self.losses)
        barrier(self.dist)
        return path

    def _loop(self, last: int, log: LossLog | None, task: Any, stop: StopRequest) -> None:
        stream: Iterator[Batch] | None = None
        stream_stage = None
        while self.step < last:
            # The colour stage first; a resumed run with more colour steps trains them
            # before it continues the temporal stage.
            stage = "color" if self.done["color"] < self.cfg.color_steps else "temporal"
            if stream_stage != stage:
                stream, stream_stage = self._batches(stage, self.done[stage]), stage
            assert stream is not None
            batch = next(stream)
            t0 = time.perf_counter()
            lr = self.opt[stage].param_groups[0]["lr"]  # the rate this step uses
            self._consistent = False
            self.losses, rows = self._color_step(batch) if stage == "color" else self._temporal_step(batch)
            self.step += 1
            self.done[stage] += 1
            self._consistent = True
            if log is not None:
                self._report(stage, lr, time.perf_counter() - t0, rows, last, log)
                task.update(description=f"{stage} " + " ".join(f"{k} {self.losses[k]:.3g}" for k in ("g", "d", "l1")))
                task.advance()
            if stop.requested:
                raise KeyboardInterrupt

    # ------------------------------------------------------------------ files (rank 0)

    def _start_files(self) -> LossLog:
        """RUN/config.json (the resolved settings) and RUN/losses.csv."""
        cfg = self.cfg
        self.run.mkdir(parents=True, exist_ok=True)
        (self.run / "samples").mkdir(exist_ok=True)
        config = {"train": cfg.to_dict(), "model": self.model_config.to_dict(),
                  "losses": describe(LossWeights(**cfg.loss_weights), cfg.perceptual == "vgg", cfg.gan),
                  "lacvid": __version__, "world_size": self.dist.world, "device": str(self.device),
                  "effective_batch": cfg.batch * self.dist.world, "cache": str(self.cache.path),
                  "shots": len(self.cache.shots), "frames": self.cache.frame_count}
        write_json(self.run / "config.json", config)
        return LossLog(self.run / "losses.csv", self.resumed_at if self.resumed_at is not None else 0)

    def _report(self, stage: str, lr: float, seconds: float, rows: Rows, last: int, log: LossLog) -> None:
        """losses.csv, the sample grid and the checkpoint, each at its interval (and at the end)."""
        cfg, step = self.cfg, self.step
        if step % cfg.log_every == 0 or step == last:
            log.write({"step": step, "stage": stage, "lr": lr, "seconds": seconds, **self.losses})
        if step % cfg.sample_every == 0 or step == last:
            grid = sample_grid(rows, sample_labels(stage, len(rows[0])), min(128, cfg.size))
            write_png(self.run / "samples" / f"step-{step:07d}.png", grid)
        if step % cfg.checkpoint_every == 0 or step == last:
            self._checkpoint(log)

    def _checkpoint(self, log: LossLog) -> Path:
        log.flush()
        path = self.save(self.losses)
        plot_losses(self.run / "losses.csv", self.run / "losses.png")
        return path

    def _interrupted(self, log: LossLog) -> None:
        if self._consistent and self.step > 0:
            path = self._checkpoint(log)
            self.progress.log(f"interrupted at step {self.step}; saved {path}; continue with --resume")
        else:
            self.progress.log("interrupted mid-step; the last periodic checkpoint is kept; continue with --resume")

    def close(self) -> None:
        close_distributed(self._own_pg)


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
