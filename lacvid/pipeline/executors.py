"""Who colours the shots of a run: this process (the default), or a Ray cluster (``ray_executor``).

The driver (``pipeline.run``) hands an executor every shot to colour, in output order, then
asks for each shot's ``ShotLayers`` in turn and writes its frames. An executor decides where
and when the work happens; the frames are the same either way, because every shot's results
go through the cache (``pipeline.shot_work``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from lacvid.models.runtime import NetworkBackend
from lacvid.pipeline.cache import ColorizeCache
from lacvid.pipeline.shot_work import RunPlan, ShotArrays, ShotLayers, ShotWorker, open_backend
from lacvid.progress import Progress
from lacvid.shots.detect import Shot
from lacvid.util.devices import device_name


@dataclass(frozen=True)
class ShotTask:
    """Colour ``frames`` (a range inside ``shot``) into the cache."""

    shot: Shot
    frames: range


class ShotExecutor(Protocol):
    def device(self, option: str) -> str:
        """The device ``--device`` names where this executor runs the networks ("auto" resolved there)."""

    def start(self, plan: RunPlan, cache: ColorizeCache, tasks: list[ShotTask], progress: Progress,
              backend: NetworkBackend | None) -> None:
        """Begin (or plan) the work of one run; ``tasks`` come in output order. Called once per run: a batch
        starts every run before reading any. ``backend``: the driver's own, when it made one (on the CPU,
        to learn what ``auto`` picks and export the ONNX graphs once)."""

    def layers(self, plan: RunPlan, task: ShotTask) -> ShotLayers:
        """The shot's frames, ready to be read in order (blocks until the executor can give them)."""

    def stages(self) -> dict[str, float]:
        """Seconds spent per pass, summed over every process that worked."""

    def cancel(self) -> None:
        """Stop what is still running (after an error or Ctrl-C); the cache keeps what is done."""

    def close(self) -> None:
        """Cancel, then release what the executor holds (a local Ray cluster it started)."""


class LocalExecutor:
    """Shots one after another in this process; a shot's frames compose on the composing threads
    (running the networks they need on demand) while the next shot is prepared here, so composing
    overlaps the next shot's propagation and networks."""

    def __init__(self) -> None:
        self.workers: dict[RunPlan, ShotWorker] = {}

    def device(self, option: str) -> str:
        return device_name(option)

    def start(self, plan: RunPlan, cache: ColorizeCache, tasks: list[ShotTask], progress: Progress,
              backend: NetworkBackend | None) -> None:
        self.workers[plan] = ShotWorker(plan, cache, backend or open_backend(plan, progress=progress), progress)

    def layers(self, plan: RunPlan, task: ShotTask) -> ShotLayers:
        return self.workers[plan].prepare(task.shot, task.frames)

    def stages(self) -> dict[str, float]:
        total: dict[str, float] = {}
        for worker in self.workers.values():
            for stage, seconds in worker.stages.items():
                total[stage] = total.get(stage, 0.0) + seconds
        return total

    def cancel(self) -> None:
        pass  # the work runs in the caller's thread: an error there has already stopped it

    def close(self) -> None:
        self.workers.clear()


def cached_layers(plan: RunPlan, cache: ColorizeCache, shot: Shot) -> ShotLayers:
    """A shot coloured by an earlier run (frames outside ``--frames``/``--shot``): read only."""
    return ShotLayers(ShotArrays.open(cache, plan, shot).finished)
