"""``colorize_batch``: many inputs in one job, every shot of every input in one queue.

A studio colours an episode's cuts, or a season's episodes, at once: every input is scanned
and planned first (its cache entry locked), then all their shots go to the executor together,
so a Ray cluster stays busy across inputs, and each output is written as its shots finish.
A jobs file is a JSON list of ``{"input": ..., "keys": ..., "output": ..., "options": {...}}``,
paths relative to the file, options named as ``ColorizeOptions``' fields (the CLI's flags; the
earlier names ``max_refs``, ``cache_dir``, ``line_mode`` too).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lacvid.errors import InputError
from lacvid.pipeline.executors import LocalExecutor, ShotExecutor
from lacvid.pipeline.options import ALIASES, ColorizeOptions, ColorizeResult, option_names
from lacvid.pipeline.run import open_job
from lacvid.progress import Progress, ProgressEvent, as_progress

_FIELDS = {f.name: f for f in dataclasses.fields(ColorizeOptions)}
_PATH_FIELDS = {"model", "cache", "layers", "shots"}


@dataclass(frozen=True)
class BatchJob:
    input: Path
    keys: Path
    output: Path
    options: ColorizeOptions = ColorizeOptions()


def read_jobs(path: Path | str, defaults: ColorizeOptions = ColorizeOptions()) -> list[BatchJob]:
    """The jobs of a jobs file; ``defaults`` fill what a job's ``options`` leave out."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise InputError(f"jobs file {path} does not exist; write a JSON list of {{input, keys, output, options}}") \
            from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"jobs file {path} is not JSON ({exc}); write a list of {{input, keys, output, options}}") \
            from exc
    if not isinstance(data, list) or not data:
        raise InputError(f"jobs file {path} must hold a non-empty JSON list of {{input, keys, output, options}}")
    return [_job(path, number, item, defaults) for number, item in enumerate(data, start=1)]


def _job(path: Path, number: int, item: Any, defaults: ColorizeOptions) -> BatchJob:
    where = f"job {number} of {path}"
    if not isinstance(item, dict) or not {"input", "keys", "output"} <= set(item):
        raise InputError(f"{where} needs \"input\", \"keys\" and \"output\"")
    unknown = sorted(set(item) - {"input", "keys", "output", "options"})
    options = item.get("options", {})
    if unknown or not isinstance(options, dict):
        raise InputError(f"{where} has {unknown[0] if unknown else 'options'!r} that lacvid does not know; a job is "
                         "{input, keys, output, options}")
    bad = sorted(set(options) - set(_FIELDS) - set(ALIASES))
    if bad:
        raise InputError(f"{where} sets option {bad[0]!r}, which colorize does not take; options are "
                         f"{', '.join(sorted(_FIELDS))}")
    base = path.parent
    try:
        resolved = {key: _resolve(base, key, value) for key, value in option_names(options).items()}
    except TypeError as exc:  # an option under both its names
        raise InputError(f"{where}: {exc}") from None
    try:
        options = dataclasses.replace(defaults, **resolved)  # checked as the CLI's flags are
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
    return BatchJob(base / item["input"], base / item["keys"], base / item["output"], options)


def _resolve(base: Path, key: str, value: Any) -> Any:
    """A path option relative to the jobs file's folder; other options as given."""
    if key not in _PATH_FIELDS or not isinstance(value, str) or value in ("default", "auto", "single"):
        return value
    return base / value if key in ("cache", "layers") else str(base / value)


def colorize_batch(jobs: list[BatchJob], executor: ShotExecutor | None = None,
                   progress: Progress | Callable[[ProgressEvent], Any] | None = None) -> list[ColorizeResult]:
    """Colour every job: all scanned and planned, then all their shots queued at once, outputs in job order.
    ``progress`` as for ``colorize``; each result holds its own job's warnings."""
    executor = executor or LocalExecutor()
    progress = as_progress(progress)
    seen: dict[tuple[Path, Path | None], int] = {}
    for number, job in enumerate(jobs, start=1):
        key = (job.input.resolve(), job.options.cache)
        if key in seen:  # one run holds an input's cache entry: the second would wait for the first forever
            raise InputError(f"jobs {seen[key]} and {number} both colour {job.input} with one cache; put them in "
                             "one job, or give them different caches")
        seen[key] = number
    with contextlib.ExitStack() as stack:
        opened = [stack.enter_context(open_job(j.input, j.keys, j.output, j.options, executor, progress)) for j in jobs]
        for job in opened:
            job.start(executor)
        bar = progress.task("colorizing", total=sum(job.frames for job in opened))
        results = [job.write(executor, bar) for job in opened]
        bar.close()
    return results
