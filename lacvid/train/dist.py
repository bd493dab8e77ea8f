"""The process side of a run: torchrun / DistributedDataParallel glue (which rank this process
is, and the few collective steps the trainer takes: join, wait, average the logged losses),
and the signals that stop a run between two steps.

Every rank trains on its own slots of each step's batch (gloo on CPU, nccl on GPUs); rank 0
alone builds the data cache and writes files. Outside torchrun (``WORLD_SIZE`` unset or 1)
every helper here is a no-op, so the trainer has one code path.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP

from lacvid.util.cpus import thread_limit


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the run: global rank, number of processes, rank on its node."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device_kind: str) -> tuple[DistInfo, bool]:
    """Join the torchrun process group when WORLD_SIZE > 1; (dist info, whether we created it)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo(), False
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    created = False
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device_kind == "cuda" else "gloo")
        created = True
    return DistInfo(rank, world, local), created


def close_distributed(created: bool) -> None:
    """Leave the process group this process created (none when it joined an existing one)."""
    if created and dist.is_initialized():
        dist.destroy_process_group()


def barrier(d: DistInfo) -> None:
    if d.world > 1:
        dist.barrier()


def share_cpu_threads() -> None:
    """DDP on CPU: split the usable CPUs (``--threads``) between the node's ranks instead of oversubscribing them."""
    torch.set_num_threads(max(1, thread_limit() // int(os.environ.get("LOCAL_WORLD_SIZE", "1"))))


def wrap(net: nn.Module, device: torch.device) -> nn.Module:
    """``net`` under DDP (gradients averaged over the ranks in ``backward``)."""
    return DDP(net, device_ids=[device.index] if device.type == "cuda" else None)


def unwrap(m: nn.Module) -> nn.Module:
    """The module itself, whether DDP-wrapped or not."""
    return m.module if isinstance(m, DDP) else m


def mean_over_ranks(values: torch.Tensor, d: DistInfo) -> torch.Tensor:
    """The mean of ``values`` over all ranks (in place; the tensor itself on one process)."""
    if d.world > 1:
        dist.all_reduce(values)
        values /= d.world
    return values


class StopRequest:
    """First Ctrl-C (or SIGTERM: timeouts, schedulers, torchrun): finish the step, checkpoint,
    stop. A second one: stop at once."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested = False
        self._old: dict[int, Any] = {}

    def __enter__(self) -> StopRequest:
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
