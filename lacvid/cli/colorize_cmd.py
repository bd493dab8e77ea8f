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
from lacvid.models.config import DEFAULT_MODEL

# The options, one alias each, so the command reads as a list of what it takes.
Input = Annotated[Path, typer.Argument(
    help="Line-art video file or frame directory (colour footage is turned into line art first); - reads a "
         "video from stdin.",
    show_default=False)]
Keys = Annotated[Path, typer.Option(
    "--keys", "-k", show_default=False,
    help="Folder of painted key frames at full resolution, named like the input frames (frame dirs) or by "
         "frame index (videos).")]
Output = Annotated[Path, typer.Option(
    "--output", "-o", show_default=False,
    help="Output video (by suffix, audio copied from the input) or frame directory; - writes the video to "
         "stdout (see --format).")]
Model = Annotated[str, typer.Option(
    "--model", "-m", help=f"'{DEFAULT_MODEL}' (the bundled CPU model) or a checkpoint path.")]
Device = Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.")]
Backend = Annotated[str, typer.Option(
    "--backend", help="What runs the networks: auto (ONNX Runtime on the CPU when installed, else PyTorch), "
                      "torch or onnx (CPU only).")]
Size = Annotated[int | None, typer.Option(
    "--size", min=32, max=4096, show_default=False,
    help="Working size: the short side the networks see, in pixels. Default: the size the model was trained at.")]
Flat = Annotated[bool | None, typer.Option(
    "--flat/--no-flat", show_default=False,
    help="Fill every line-enclosed region with one colour of the keys' palette, as a cel painter does. "
         "Default: per shot, when its keys are flat cel paint.")]
Refs = Annotated[int, typer.Option("--refs", min=1, max=8, help="Use the K nearest keys of the shot as references.")]
Temporal = Annotated[bool, typer.Option("--temporal/--no-temporal", help="Run the temporal constraint network.")]
Batch = Annotated[int | None, typer.Option(
    "--batch", min=1, show_default=False, metavar="N",
    help="Frames per network call. Default: 16 on a GPU (halved if it runs out of memory), 1 on the CPU.")]
Warp = Annotated[bool, typer.Option(
    "--warp/--no-warp",
    help="Also match the keys onto each frame and fuse them with the network's colour: for drawings, region "
         "colours propagated frame to frame from every key; for colour footage, keys warped by optical flow.")]
Shots = Annotated[str, typer.Option(
    "--shots", help="auto (detect cuts), single (one shot) or a JSON file from 'lacvid shots --json'.")]
Lines = Annotated[str, typer.Option(
    "--lines", help="How to read the input: auto, lines (already line art) or color (extract line art from "
                    "colour footage).")]
Cache = Annotated[Path | None, typer.Option(
    "--cache", show_default=False,
    help="Cache folder (default: ~/.cache/lacvid or $LACVID_CACHE); a rerun resumes from it.")]
Ink = Annotated[str, typer.Option(
    "--ink", help="What goes over the paint: auto (a drawing's ink as drawn; nothing on colour footage, whose "
                  "extracted lines are not an artist's ink), drawn, multiply (the line art multiplied) or none.")]
TraceLines = Annotated[str, typer.Option(
    "--trace-lines", help="Lines drawn in a colour (shadow and highlight boundaries): keep (shown as drawn) or "
                          "paint (in the colour of the area they bound on their shadow side, as a finished "
                          "production frame; the ink layer of --layers keeps them as drawn).")]
Crf = Annotated[int, typer.Option("--crf", min=0, max=51, help="Video quality (lower is better).")]
Preset = Annotated[str, typer.Option("--preset", help="x264 preset.")]
Codec = Annotated[str, typer.Option("--codec", help="Video codec for a video output.")]
LayersDir = Annotated[Path | None, typer.Option(
    "--layers", show_default=False,
    help="Also write each frame's paint layer (RGBA, fills without ink, transparent on bare paper) and ink layer "
         "(RGBA, the lines as drawn) as DIR/paint/NAME.png and DIR/ink/NAME.png, for compositing; shots painted "
         "from their keys' palette also DIR/index/NAME.png and DIR/palette.json, for lacvid repalette.")]

Frames = Annotated[str | None, typer.Option(
    "--frames", show_default=False, metavar="A-B",
    help="Colour only frames A to B (0-based, as 'lacvid shots' prints them): a frame folder output gets only "
         "those frames, a video is written whole with the other frames from the cache of an earlier run.")]
ShotNumber = Annotated[int | None, typer.Option(
    "--shot", min=1, show_default=False, metavar="N",
    help="Colour only shot N (numbered from 1 as 'lacvid shots' lists them), e.g. after repainting its key; "
         "as --frames for what is written.")]

Workers = Annotated[int | None, typer.Option(
    "--workers", min=1, show_default=False, metavar="N",
    help="Colour the shots on a local Ray cluster of N worker processes (this machine's cores shared among "
         "them); needs pip install 'lacvid[ray]'. Default: no Ray, one process.")]
RayAddress = Annotated[str | None, typer.Option(
    "--ray", show_default=False, metavar="ADDRESS",
    help="Colour the shots on a running Ray cluster: auto, or ray://HOST:10001. The cache, inputs, keys and "
         "model must be on storage every node reaches at the same path.")]
WorkerCpus = Annotated[int | None, typer.Option(
    "--worker-cpus", min=1, show_default=False, metavar="N",
    help="CPU cores per Ray worker. Default: this machine's cores / --workers; 1 on a cluster.")]


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
    from lacvid.pipeline.run import colorize

    progress = make_progress(quiet, debug, progress_mode, log_file)
    options = run_options(model=model, device=device, backend=backend, size=size, flat=flat, refs=refs,
                          temporal=temporal, batch=batch, warp=warp, shots=shots, lines=lines, ink=ink, cache=cache,
                          trace_lines=trace_lines,
                          overwrite=overwrite, frames=frames, shot=shot,
                          crf=crf, preset=preset, codec=codec, format=format, layers=layers)
    use_threads(threads, "torch")
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


@app.command("preview")
def preview_command(
    input: Input,
    keys: Keys,
    output: Sheet,
    per_shot: PerShot = 4,
    html: HtmlDir = None,
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
    """Contact sheet of INPUT coloured from KEYS: per shot its keys, a few drawings, lacvid's frames for them and
    the palette; only those frames are coloured (a render afterwards reuses them). Prints every path written."""
    from lacvid.pipeline.preview import preview

    progress = make_progress(quiet, debug, progress_mode)
    options = run_options(model=model, device=device, backend=backend, size=size, flat=flat, refs=refs,
                          temporal=temporal, batch=batch, warp=warp, shots=shots, lines=lines, ink=ink, cache=cache,
                          trace_lines=trace_lines,
                          overwrite=overwrite, frames=frames, shot=shot)
    use_threads(threads, "torch")
    input = read_input(input, progress, cache)
    with shot_executor(workers, ray, worker_cpus) as executor:
        result = preview(input, keys, output, options, per_shot=per_shot, progress=progress, executor=executor,
                         html=html)
    written = [*result.pages, *([result.html] if result.html else [])]
    report_result(progress, output=str(result.sheet), pages=[str(p) for p in result.pages],
                  html=str(result.html) if result.html else None, frames=sum(len(p.frames) for p in result.shots),
                  shots=len(result.shots), seconds=round(result.seconds, 3))
    for path in written:
        typer.echo(str(path))
