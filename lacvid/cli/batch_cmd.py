"""``lacvid batch JOBS.json``: many inputs in one job, one progress bar, one summary table."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from lacvid.cli.app import app
from lacvid.cli.colorize_cmd import RayAddress, WorkerCpus, Workers, shot_executor
from lacvid.cli.common import (
    Debug,
    LogFile,
    Overwrite,
    ProgressMode,
    Quiet,
    Threads,
    make_progress,
    report_result,
    use_threads,
)


@app.command("batch")
def batch_command(
    jobs: Annotated[Path, typer.Argument(
        help='JSON list of {"input": ..., "keys": ..., "output": ..., "options": {...}}; paths relative to the '
             "file, options named as colorize's flags (refs, cache, codec, ...).",
        show_default=False)],
    workers: Workers = None,
    ray: RayAddress = None,
    worker_cpus: WorkerCpus = None,
    threads: Threads = None,
    overwrite: Overwrite = False,
    progress_mode: ProgressMode = "bar",
    log_file: LogFile = None,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Colour every job of JOBS: all inputs' shots in one queue (on Ray with --workers or --ray); print a table."""
    from lacvid.pipeline.batch import colorize_batch, read_jobs
    from lacvid.pipeline.options import ColorizeOptions

    started = time.perf_counter()
    progress = make_progress(quiet, debug, progress_mode, log_file)
    use_threads(threads)
    batch = read_jobs(jobs, ColorizeOptions(overwrite=overwrite))
    with shot_executor(workers, ray, worker_cpus) as executor:
        results = colorize_batch(batch, executor, progress)
    report_result(progress, output=[str(r.output) for r in results], frames=sum(r.frames for r in results),
                  shots=sum(len(r.shots) for r in results), seconds=round(time.perf_counter() - started, 3),
                  jobs=[{"input": str(j.input), "output": str(r.output), "frames": r.frames, "shots": len(r.shots),
                         "seconds": round(r.seconds, 3), "warnings": r.warnings} for j, r in zip(batch, results)])
    rows = [(str(j.input), str(r.output), str(r.frames), str(len(r.shots)), f"{r.seconds:.1f}",
             f"{r.frames / max(r.seconds, 1e-9):.2f}") for j, r in zip(batch, results)]
    head = ("input", "output", "frames", "shots", "seconds", "frames/s")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    for row in (head, *rows):
        typer.echo("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip())
