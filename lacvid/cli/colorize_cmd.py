"""``lacvid colorize``: the main job, a thin layer over ``lacvid.colorize``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from lacvid.cli.app import app
from lacvid.cli.common import (
    Debug,
    Format,
    LogFile,
    Overwrite,
    ProgressMode,
    Quiet,
    Threads,
    echo_output,
    make_progress,
    read_input,
    report_result,
    stderr_console,
    use_threads,
)
from lacvid.cli.run_flags import (
    Backend,
    Batch,
    Cache,
    Codec,
    Crf,
    Device,
    Flat,
    Frames,
    Ink,
    Input,
    Keys,
    LayersDir,
    Lines,
    Model,
    Output,
    Preset,
    RayAddress,
    Refs,
    ShotNumber,
    Shots,
    Size,
    Temporal,
    TraceLines,
    Warp,
    WorkerCpus,
    Workers,
)
from lacvid.models.config import DEFAULT_MODEL


@contextlib.contextmanager
def shot_executor(workers: int | None, ray_address: str | None, worker_cpus: int | None) -> Iterator[Any]:
    """The Ray executor --workers or --ray ask for, closed on the way out; None (this process colours
    the shots) when neither is given."""
    if workers is None and ray_address is None:
        yield None
        return
    from lacvid.pipeline.ray_executor import RayExecutor

    executor = RayExecutor(workers=workers, address=ray_address, worker_cpus=worker_cpus)
    try:
        yield executor
    finally:
        executor.close()


def run_options(**flags: Any) -> Any:
    """The ``ColorizeOptions`` of colorize's and preview's shared flags: one builder, so the two
    commands cannot drift apart. Each option is named as its flag; ``ColorizeOptions`` checks every
    value as a flag (one line, exit 2, naming the flag), for batch jobs and Python callers too."""
    from lacvid.pipeline.options import ColorizeOptions  # torch loads only when a command needs it

    return ColorizeOptions(**flags)


@app.command("colorize")
def colorize_command(
    input: Input,
    keys: Keys,
    output: Output,
    model: Model = DEFAULT_MODEL,
    device: Device = "auto",
    backend: Backend = "auto",
    size: Size = None,
    flat: Flat = None,
    refs: Refs = 3,
    temporal: Temporal = True,
    batch: Batch = None,
    warp: Warp = True,
    shots: Shots = "auto",
    lines: Lines = "auto",
    ink: Ink = "auto",
    trace_lines: TraceLines = "keep",
    cache: Cache = None,
    crf: Crf = 18,
    preset: Preset = "medium",
    codec: Codec = "libx264",
    format: Format = None,
    layers: LayersDir = None,
    frames: Frames = None,
    shot: ShotNumber = None,
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
    """Paint every frame of INPUT from a few painted key frames; print OUTPUT's path."""
    from lacvid.pipeline import warm_kernels

    progress = make_progress(quiet, debug, progress_mode, log_file)
    options = run_options(model=model, device=device, backend=backend, size=size, flat=flat, refs=refs,
                          temporal=temporal, batch=batch, warp=warp, shots=shots, lines=lines, ink=ink,
                          cache=cache, trace_lines=trace_lines, overwrite=overwrite, frames=frames, shot=shot,
                          crf=crf, preset=preset, codec=codec, format=format, layers=layers)
    use_threads(threads)
    # A first run on this machine: its kernels compile on a second core too (``pipeline.warm_kernels``),
    # started once the flags are known good and before the pipeline's own imports, so it is ready sooner.
    with warm_kernels.start():
        from lacvid.pipeline.run import colorize

        input = read_input(input, progress, cache)
        with shot_executor(workers, ray, worker_cpus) as executor:
            result = colorize(input, keys, output, options, progress, executor=executor)
    if not quiet:
        _summary(result, cache, progress_mode, progress)
    report_result(progress, output=str(result.output), frames=result.frames, shots=len(result.shots),
                  keys=len(result.keys), flat_shots=result.flat_shots, seconds=round(result.seconds, 3))
    echo_output(result.output)


def _summary(result, cache: Path | None, progress_mode: str, progress) -> None:
    """What the run did, and a full cache's warning, on stderr (or as JSON lines)."""
    from lacvid.pipeline.cache_admin import size_warning
    from lacvid.progress import warn
    from lacvid.util.cache_home import default_cache_dir

    summary = (f"{result.frames} frames in {len(result.shots)} shot(s) ({result.flat_shots} flat-filled) "
               f"from {len(result.keys)} key(s) in {result.seconds:.1f}s "
               f"({result.frames / max(result.seconds, 1e-9):.1f} frames/s)")
    if progress_mode == "bar":
        stderr_console.print(f"lacvid: {summary}", highlight=False, markup=False, soft_wrap=True)
    else:
        progress.log(summary)  # a JSON line (--progress json) and the log file
    full = size_warning(cache or default_cache_dir())
    if full:
        warn(progress, full)


Sheet = Annotated[Path, typer.Option(
    "--output", "-o", show_default=False,
    help="The contact sheet to write (PNG); past 20 shots, split into SHEET.png, SHEET-2.png, ...")]
HtmlDir = Annotated[Path | None, typer.Option(
    "--html", show_default=False, metavar="DIR",
    help="Also write a review page, DIR/index.html (pictures in DIR/img/): per shot its figures, keys, drawings, "
         "lacvid's frames, palette and a looping flip-book; one page to scroll for a whole episode.")]
PerShot = Annotated[int, typer.Option("--per-shot", min=1, max=16, help="Frames of each shot shown besides its keys.")]
DoubtJson = Annotated[bool, typer.Option(
    "--json", help="Print the sheet's path and each shot's doubt figures as one JSON object instead of the table.")]


@app.command("preview")
def preview_command(
    input: Input,
    keys: Keys,
    output: Sheet,
    per_shot: PerShot = 4,
    html: HtmlDir = None,
    as_json: DoubtJson = False,
    model: Model = DEFAULT_MODEL,
    device: Device = "auto",
    backend: Backend = "auto",
    size: Size = None,
    flat: Flat = None,
    refs: Refs = 3,
    temporal: Temporal = True,
    batch: Batch = None,
    warp: Warp = True,
    shots: Shots = "auto",
    lines: Lines = "auto",
    ink: Ink = "auto",
    trace_lines: TraceLines = "keep",
    cache: Cache = None,
    frames: Frames = None,
    shot: ShotNumber = None,
    workers: Workers = None,
    ray: RayAddress = None,
    worker_cpus: WorkerCpus = None,
    threads: Threads = None,
    overwrite: Overwrite = False,
    progress_mode: ProgressMode = "bar",
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Contact sheet of INPUT coloured from KEYS: per shot its keys, a few drawings, lacvid's frames for them (where
    lacvid guessed outlined and hatched) and the palette; only those frames are coloured (a render afterwards reuses
    them). Prints per shot the doubtful share of its frames and its worst frame, then every path written."""
    from lacvid.pipeline import warm_kernels

    progress = make_progress(quiet, debug, progress_mode)
    options = run_options(model=model, device=device, backend=backend, size=size, flat=flat, refs=refs,
                          temporal=temporal, batch=batch, warp=warp, shots=shots, lines=lines, ink=ink,
                          cache=cache, trace_lines=trace_lines, overwrite=overwrite, frames=frames, shot=shot)
    use_threads(threads)
    with warm_kernels.start():  # a first run's kernels on a second core too, as ``colorize``
        from lacvid.pipeline.preview import preview

        input = read_input(input, progress, cache)
        with shot_executor(workers, ray, worker_cpus) as executor:
            result = preview(input, keys, output, options, per_shot=per_shot, progress=progress, executor=executor,
                             html=html)
    written = [*result.pages, *([result.html] if result.html else [])]
    report_result(progress, output=str(result.sheet), pages=[str(p) for p in result.pages],
                  html=str(result.html) if result.html else None, frames=sum(len(p.frames) for p in result.shots),
                  shots=len(result.shots), seconds=round(result.seconds, 3))
    _print_doubt(result, as_json, written)


def _print_doubt(result: Any, as_json: bool, written: list) -> None:
    """stdout: the shots' doubt table, then every path written (sheet pages, review page), one a line;
    or one JSON object."""
    import json

    from lacvid.pipeline.preview import doubt_figures, doubt_table

    if as_json:
        typer.echo(json.dumps({"sheet": str(result.sheet), "pages": [str(p) for p in result.pages],
                               "html": str(result.html) if result.html else None,
                               "shots": [doubt_figures(p) for p in result.shots]}))
        return
    typer.echo(doubt_table(result.shots))
    for path in written:
        typer.echo(str(path))
