"""What makes a resumed run continue bit-exactly: RNG states, the learning-rate schedule, and
the training state a checkpoint holds (every optimiser and scheduler, the step counts, the
settings), written to checkpoints/step-N.pt and RUN/last.pt and restored from last.pt.

The data stream needs no saved state: batches are a pure function of ``(seed, step)`` (see
``lacvid.train.sampling``). RNG states are stored as tensors and plain values so checkpoints
load with ``weights_only=True``.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lacvid.errors import CheckpointError, InputError
from lacvid.models.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from lacvid.progress import Progress
from lacvid.train.config import TrainConfig, merge_resume
from lacvid.util.outputs import atomic_output


def rng_state() -> dict[str, Any]:
    """RNG states of python, numpy, torch (and CUDA) as tensors and plain values."""
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


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what ``rng_state`` saved."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_all(seed: int) -> None:
    """Seed python, numpy and torch: two runs with one seed start identically."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def schedule(stage_steps: int, decay_from: float) -> Callable[[int], float]:
    """Constant, then linear decay to 10% over the stage's last (1 - decay_from)."""
    start = int(stage_steps * decay_from)

    def factor(step: int) -> float:
        if step < start or stage_steps <= start:
            return 1.0
        return 1.0 - 0.9 * min(1.0, (step - start) / max(1, stage_steps - start))
    return factor


def load_resume(run: Path, cfg: TrainConfig, overrides: dict[str, Any] | None,
                progress: Progress) -> tuple[Checkpoint, TrainConfig]:
    """RUN/last.pt and the run's own settings, merged with the ones ``--resume`` may change."""
    last = run / "last.pt"
    if not last.is_file():
        raise InputError(f"cannot resume: {last} does not exist; train without --resume first")
    ckpt = load_checkpoint(last)
    stored = (ckpt.train_state or {}).get("config")
    if not isinstance(stored, dict):
        raise CheckpointError(f"{last} holds no training state; it cannot be resumed (use --init)")
    return ckpt, merge_resume(TrainConfig.from_dict(stored), cfg.run, overrides or {}, progress)


def restore(state: dict[str, Any], opt: dict[str, torch.optim.Optimizer],
            sched: dict[str, torch.optim.lr_scheduler.LambdaLR], source: Path
            ) -> tuple[int, dict[str, int], dict[str, Any]]:
    """Load optimiser and scheduler states; (step, steps done per stage, RNG state)."""
    try:
        for name, o in opt.items():
            o.load_state_dict(state["optimizers"][name])
        for name, sch in sched.items():
            sch.load_state_dict(state["schedulers"][name])
            # The schedule may have changed length (more --steps): rates follow it now,
            # with the very formula LambdaLR uses, so an unchanged run resumes bit-exactly.
            for group, base, fn in zip(sch.optimizer.param_groups, sch.base_lrs, sch.lr_lambdas):
                group["lr"] = base * fn(sch.last_epoch)
        return int(state["step"]), {k: int(v) for k, v in state["done"].items()}, state["rng"]
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{source} has an incomplete training state ({exc}); it cannot be resumed") from exc


def capture(step: int, done: dict[str, int], cfg: TrainConfig, opt: dict[str, torch.optim.Optimizer],
            sched: dict[str, torch.optim.lr_scheduler.LambdaLR]) -> dict[str, Any]:
    """The training state ``restore`` reads back: step counts, settings, optimisers, schedules, RNGs."""
    return {"step": step, "done": dict(done), "config": cfg.to_dict(),
            "optimizers": {k: o.state_dict() for k, o in opt.items()},
            "schedulers": {k: s.state_dict() for k, s in sched.items()},
            "rng": rng_state()}


def write_checkpoint(run: Path, step: int, keep: int, **payload: Any) -> Path:
    """RUN/checkpoints/step-N.pt (``save_checkpoint(**payload)``) and a copy as RUN/last.pt;
    only the newest ``keep`` step files stay."""
    folder = run / "checkpoints"
    path = folder / f"step-{step:07d}.pt"
    save_checkpoint(path, **payload)
    with atomic_output(run / "last.pt", overwrite=True) as tmp:
        shutil.copyfile(path, tmp)
    for old in sorted(folder.glob("step-*.pt"))[:-keep]:
        old.unlink(missing_ok=True)
    return path
