"""Shots on a Ray cluster: a local one (``--workers N``) or an existing one (``--ray ADDRESS``).

Every shot is a Ray task; a long shot is one task for its propagation (and its networks, where
every frame reads them), then one task per segment of ``segment_frames`` finished frames, so no
single task holds a run back; on a drawing with flat keys each segment runs the networks its frames
need (``pipeline.networks.NetworksOnDemand``: the colour network on those frames alone). A
worker process loads each model once (``_worker_backend``) and keeps it for every shot it is
given; it reads the input's preprocessed frames and the keys from the shared cache and folders,
and writes its finished frames to the cache. The driver (``pipeline.run``) reads each shot back
from the cache as soon as it and the shots before it are done, so the output is written while
later shots are still colouring, and is byte for byte the output of a one-process run.

Faults: a worker that dies (killed, out of memory, a node lost) has its task retried by Ray
(``max_retries``); whatever frames it finished are in the cache and are not computed again.
Errors of the work itself (a damaged key, a different lacvid on a worker) are not retried: the
first one stops the run with its one line.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from typing import Any

from lacvid._version import __version__
from lacvid.errors import InputError, LacvidError
from lacvid.models.runtime import NetworkBackend, load_model
from lacvid.pipeline.cache import ColorizeCache
from lacvid.pipeline.executors import ShotTask
from lacvid.pipeline.shot_work import RunPlan, ShotArrays, ShotLayers, ShotWorker, open_backend
from lacvid.progress import Progress
from lacvid.shots.detect import Shot
from lacvid.util.cpus import thread_limit

INSTALL_HINT = "pip install 'lacvid[ray]'"
SEGMENT_FRAMES = 48


class WorkerMismatch(InputError):
    """A worker runs a different lacvid or sees a different model file than the driver."""


def import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise InputError(f"--workers and --ray need Ray, which is not installed; {INSTALL_HINT}") from exc
    return ray


def segments(frames: range, size: int) -> list[range]:
    """``frames`` cut into consecutive ranges of at most ``size`` frames."""
    return [range(a, min(a + size, frames.stop)) for a in range(frames.start, frames.stop, size)]


def check_answers(address: str, timeout: float = 5.0) -> None:
    """Fail in seconds, with one line, on a cluster address nothing listens on (Ray itself retries for minutes)."""
    if address in ("auto", "local"):
        return  # Ray finds (or fails to find) the cluster on this machine at once
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"--ray {address} is not an address; use auto, HOST:6379 (a node of the cluster) or "
                         "ray://HOST:10001 (Ray Client)")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise InputError(f"the Ray cluster at {address} does not answer ({exc.strerror or exc}); check the address "
                         "and that the head node is up (ray status there)") from exc


@dataclass
class _ShotRefs:
    refs: list[Any]
    results: list[dict] = field(default_factory=list)


class RayExecutor:
    """``ShotExecutor`` on Ray. ``workers``: start a local cluster with that many workers (this machine's
    cores shared among them); ``address``: join a running cluster instead (``auto``, ``ray://host:10001``)."""

    def __init__(self, workers: int | None = None, address: str | None = None, worker_cpus: int | None = None,
                 segment_frames: int = SEGMENT_FRAMES, max_retries: int = 3) -> None:
        if (workers is None) == (address is None):
            raise InputError("pass either --workers N (a local Ray cluster) or --ray ADDRESS (an existing one)")
        self.ray = import_ray()
        self.workers, self.address = workers, address
        cores = thread_limit()  # this process's CPUs (affinity, cgroup quota) or --threads
        self.worker_cpus = worker_cpus or (max(1, cores // workers) if workers else 1)
        self.segment_frames, self.max_retries = segment_frames, max_retries
        self.gpus = 0.0
        self._owns_cluster = False
        self._shots: dict[tuple[RunPlan, Shot], _ShotRefs] = {}
        self._stages: dict[str, float] = {}
        self._caches: dict[RunPlan, ColorizeCache] = {}
        self._remote: Any = None

    # -- connecting
    def _connect(self) -> None:
        ray = self.ray
        if self._remote is None:
            self._remote = ray.remote(max_retries=self.max_retries)(_color_shot)
        if self.address is not None:
            check_answers(self.address)
        if ray.is_initialized():
            return  # a cluster this process joined already (a library user's, or a test's)
        quiet = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                     configure_logging=True)
        try:
            if self.address is not None:
                ray.init(address=self.address, **quiet)
            else:
                ray.init(num_cpus=self.workers * self.worker_cpus, **quiet)
                self._owns_cluster = True
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray cluster"
            raise InputError(f"cannot connect to {where} ({' '.join(str(exc).split())[:160]}); check the address "
                             "(ray status on the head node) or use --workers N for a local cluster") from exc

    def device(self, option: str) -> str:
        """``auto``: CUDA when the cluster has GPUs (one per worker), else the CPU."""
        self._connect()
        has_gpu = self.ray.cluster_resources().get("GPU", 0) > 0
        device = ("cuda" if has_gpu else "cpu") if option == "auto" else option
        if device.startswith("cuda") and not has_gpu:
            raise InputError(f"--device {option} was asked for but the Ray cluster has no GPU; use --device cpu")
        self.gpus = 1.0 if device.startswith("cuda") else 0.0
        return device

    # -- the work
    def start(self, plan: RunPlan, cache: ColorizeCache, tasks: list[ShotTask], progress: Progress,
              backend: NetworkBackend | None) -> None:
        self._connect()
        self._caches[plan] = cache
        for task in tasks:  # every shot's cache groups exist before two workers could race to create them
            ShotArrays.open(cache, plan, task.shot)
        plan_ref = self.ray.put(plan)
        remote = self._remote.options(num_cpus=self.worker_cpus, num_gpus=self.gpus)
        for task in tasks:
            if len(task.frames) <= self.segment_frames:
                refs = [remote.remote(plan_ref, task.shot, task.frames)]
            else:  # the shot's networks and propagation first, then its frames in segments, in parallel
                prepared = remote.remote(plan_ref, task.shot, range(task.frames.start, task.frames.start))
                refs = [prepared] + [remote.remote(plan_ref, task.shot, part, prepared)
                                     for part in segments(task.frames, self.segment_frames)]
            self._shots[(plan, task.shot)] = _ShotRefs(refs)

    def layers(self, plan: RunPlan, task: ShotTask) -> ShotLayers:
        entry = self._shots[(plan, task.shot)]
        if not entry.results:
            entry.results = self._get(entry.refs)
            for result in entry.results:
                for stage, seconds in result["stages"].items():
                    self._stages[stage] = self._stages.get(stage, 0.0) + seconds
        # Opened now, after the workers wrote it: its done flags are read fresh.
        return ShotLayers(ShotArrays.open(self._caches[plan], plan, task.shot).finished,
                          flat=any(r["flat"] for r in entry.results))

    def _get(self, refs: list[Any]) -> list[dict]:
        try:
            return self.ray.get(refs)
        except LacvidError:
            raise  # Ray re-raises a task's own error as a subclass of it: its one line stands
        except self.ray.exceptions.RayTaskError as exc:
            cause = exc.cause if isinstance(getattr(exc, "cause", None), BaseException) else exc
            if isinstance(cause, LacvidError):
                raise cause from None
            raise
        except self.ray.exceptions.RayError as exc:  # retries used up: workers keep dying
            raise InputError(f"a Ray worker failed {self.max_retries + 1} times on the same shot "
                             f"({type(exc).__name__}); the frames it finished are cached, so run again to "
                             "resume") from exc

    def stages(self) -> dict[str, float]:
        return dict(self._stages)

    def cancel(self) -> None:
        """Stop the tasks still running. A local cluster this executor started is shut down (the next run
        starts a fresh one): that stops every task at once, where cancelling them one by one races Ray's
        own bookkeeping when a task finishes as it is cancelled (Ray 2.60 then aborts this process, "Tried
        to complete task that was not pending", exit 1 instead of Ctrl-C's 130). On a cluster it joined,
        only the tasks not finished yet are cancelled, which leaves that race its narrowest window."""
        if not self.ray.is_initialized():
            return
        if self._owns_cluster:
            self._shots.clear()  # their refs die with the cluster
            self.ray.shutdown()
            self._owns_cluster = False
            return
        refs = [ref for entry in self._shots.values() for ref in entry.refs]
        if not refs:
            return
        _, running = self.ray.wait(refs, num_returns=len(refs), timeout=0, fetch_local=False)
        for ref in running:
            try:
                self.ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - finished or already gone
                pass

    def close(self) -> None:
        self.cancel()
        self._shots.clear()
        if self._owns_cluster and self.ray.is_initialized():
            self.ray.shutdown()
            self._owns_cluster = False


# --------------------------------------------------------------------------- on the workers

_BACKENDS: dict[tuple, NetworkBackend] = {}
_WORKERS: dict[RunPlan, ShotWorker] = {}


def _worker_backend(plan: RunPlan) -> NetworkBackend:
    """The plan's networks in this worker process, loaded once per model and settings."""
    key = (plan.model_digest, plan.device, plan.backend, plan.work_size, plan.options.refs)
    if key not in _BACKENDS:
        if not plan.model_path.is_file():
            raise WorkerMismatch(f"worker {socket.gethostname()} cannot read the model {plan.model_path}; put it "
                                 "on storage every worker reaches (the same path on every node)")
        model = load_model(plan.model_path)
        if model.digest != plan.model_digest:
            raise WorkerMismatch(f"worker {socket.gethostname()} sees a different model at {plan.model_path} than "
                                 "the driver; every node must have the same model file")
        _BACKENDS[key] = open_backend(plan, model)
    return _BACKENDS[key]


def _worker(plan: RunPlan) -> ShotWorker:
    if plan.version != __version__:
        raise WorkerMismatch(f"worker {socket.gethostname()} runs lacvid {__version__} but the driver runs "
                             f"{plan.version}; install the same lacvid on every node")
    if plan not in _WORKERS:
        cache = ColorizeCache(plan.cache_root, plan.input_id, locked=False)
        path = cache.path
        if not path.is_dir():
            raise InputError(f"worker {socket.gethostname()} cannot reach the cache entry {path}; the cache must be "
                             "on storage every worker reaches (a shared filesystem, the same path on every node)")
        _WORKERS[plan] = ShotWorker(plan, cache.__enter__(), _worker_backend(plan))
    return _WORKERS[plan]


def _color_shot(plan: RunPlan, shot: Shot, frames: range, *after: Any) -> dict:
    """A Ray task: colour ``frames`` of ``shot`` into the cache (``after``: tasks it waits for)."""
    worker = _worker(plan)
    before = dict(worker.stages)
    flat = worker.finish(shot, frames, segment=bool(after))  # after: the shot's own task ran first
    return {"flat": flat, "host": socket.gethostname(), "pid": os.getpid(),
            "stages": {k: v - before.get(k, 0.0) for k, v in worker.stages.items()}}
