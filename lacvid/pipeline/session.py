"""A run opened: the input probed and scanned, its keys found, the model loaded, the plan made.

``colorize`` and ``preview`` both start here (``open_session``): they differ only in which
frames they ask the executor for and where those go. The session holds the cache entry's lock
from the scan to the last frame.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lacvid.media import MediaInfo
from lacvid.models.config import DEFAULT_MODEL
from lacvid.models.runtime import LoadedModel, NetworkBackend, load_model, make_backend
from lacvid.pipeline.cache import ColorizeCache, PrepEntry, input_fingerprint
from lacvid.pipeline.executors import ShotExecutor
from lacvid.pipeline.keys import KeyFrame, check_keys_cover_shots, check_keys_name_frames, find_keys
from lacvid.pipeline.options import ColorizeOptions
from lacvid.pipeline.scan import resolve_shots, scan
from lacvid.pipeline.selection import FrameSelection, select
from lacvid.pipeline.shot_work import RunPlan
from lacvid.preprocess.frame import DEFAULT_WORK_SIZE, working_size
from lacvid.progress import Progress, warn
from lacvid.shots.detect import Shot
from lacvid.shots.key_check import MISMATCH_WARNING, key_mismatch
from lacvid.util.cache_home import default_cache_dir
from lacvid.util.hashing import file_digest, fingerprint


def protected_paths(input_path: Path, keys_dir: Path, options: ColorizeOptions) -> dict[str, Path]:
    """What a run reads, which no output may be, contain or lie inside."""
    protected = {"input": input_path, "key folder": keys_dir,
                 "cache folder": Path(options.cache or default_cache_dir())}
    if str(options.model) != DEFAULT_MODEL:
        protected["model"] = Path(options.model)
    return protected


@dataclass
class RunSession:
    info: MediaInfo
    keys: list[KeyFrame]
    cache: ColorizeCache
    prep: PrepEntry
    plan: RunPlan
    backend: NetworkBackend | None
    n_frames: int
    names: list[str]
    shots: list[Shot]
    progress: Progress
    stages: dict[str, float] = field(default_factory=dict)

    def choose(self, options: ColorizeOptions) -> tuple[FrameSelection | None, list[Shot]]:
        """What ``--frames``/``--shot`` select and the shots they touch (every shot without them), those
        shots' keys checked."""
        selection = select(options.frames, options.shot, self.shots, self.n_frames)
        chosen = selection.shots(self.shots) if selection else self.shots
        self.check_keys(chosen)
        return selection, chosen

    def check_keys(self, shots: list[Shot]) -> None:
        """Every shot of ``shots`` has a key; say which keys do not match their frame's drawing."""
        check_keys_cover_shots(self.keys, self.shots, self.info, only=shots)
        _warn_mismatched_keys(self.plan, self.prep, [k for k in self.keys if any(k.index in s for s in shots)],
                              self.progress)


@contextlib.contextmanager
def open_session(input_path: Path, keys_dir: Path, info: MediaInfo, options: ColorizeOptions,
                 executor: ShotExecutor, progress: Progress) -> Iterator[RunSession]:
    """Find the keys, load the model, scan the input (resumably) and make the run's plan."""
    keys = find_keys(keys_dir, info)
    device = executor.device(options.device)
    model = load_model(options.model)
    full = (info.height, info.width)
    work_size = working_size(info.height, info.width, options.size or model.trained_size or DEFAULT_WORK_SIZE)
    input_id = input_fingerprint(input_path, info.names)
    cache_dir = Path(options.cache or default_cache_dir())
    with ColorizeCache(cache_dir, input_id, input_path, progress) as cache:
        # 2: drawings read by lacvid.preprocess.ink
        prep_id = fingerprint("prep", 2, options.lines, work_size, full)
        prep = cache.prep(prep_id, full, work_size)
        t0 = time.perf_counter()
        n_frames, names, detected = scan(info, prep, options.scan(), work_size, progress)
        stages = {"scan": time.perf_counter() - t0}
        shots = resolve_shots(options.shots, detected, n_frames)
        check_keys_name_frames(keys, n_frames, info)
        backend = _driver_backend(model, device, options, cache_dir, work_size, progress)
        plan = RunPlan(Path(input_path).resolve(), cache_dir.resolve(), input_id, prep_id, full, work_size, options,
                       model.path.resolve(), model.digest, device, backend.name if backend else "torch",
                       tuple((k.index, str(k.path.resolve()), file_digest(k.path)) for k in keys))
        yield RunSession(info, keys, cache, prep, plan, backend, n_frames, names, shots, progress, stages)


def _driver_backend(model: LoadedModel, device: str, options: ColorizeOptions, cache_dir: Path,
                    work_size: tuple[int, int], progress: Progress) -> NetworkBackend | None:
    """The driver's own backend on the CPU (it also says what ``auto`` picks, and exports the ONNX graphs once,
    into the cache every worker reads); None on a GPU, which always runs PyTorch."""
    if not device.startswith("cpu") and options.backend != "onnx":
        return None
    return make_backend(model, device, options.backend, cache_dir, work_size=work_size, max_refs=options.refs,
                        progress=progress)


def _warn_mismatched_keys(plan: RunPlan, prep: PrepEntry, keys: list[KeyFrame], progress: Progress) -> None:
    """Warn about a key that does not match the drawing of the frame it is named after."""
    for key in keys:
        mismatch = key_mismatch(key.load(plan.full, backdrop=prep.frames.get("lines_full", key.index)),
                                prep.frames.get("lines_full", key.index))
        if mismatch > MISMATCH_WARNING:
            warn(progress, f"key {key.path} does not match the drawing of frame {key.index}: "
                           f"{mismatch:.0%} of its lines lie off the key's colour edges; check that the key "
                           "is named after the frame it paints")
