"""``lacvid colorize``: the main job, a thin layer over ``lacvid.colorize.colorize``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lacvid.cli.app import app
from lacvid.cli.common import Debug, Overwrite, Quiet, make_progress, stderr_console


@app.command("colorize")
def colorize_command(
    input: Annotated[Path, typer.Argument(help="Line-art video file or frame directory (colour footage is "
                                                "turned into line art first).", show_default=False)],
    keys: Annotated[Path, typer.Option("--keys", "-k", help="Folder of painted key frames at full resolution, "
                                       "named like the input frames (frame dirs) or by frame index (videos).",
                                       show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output video (by suffix, audio copied from the "
                                         "input) or frame directory.", show_default=False)],
    model: Annotated[str, typer.Option("--model", "-m", help="'default' (the bundled CPU model) or a checkpoint "
                                       "path.")] = "default",
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.")] = "auto",
    backend: Annotated[str, typer.Option("--backend", help="What runs the networks: auto (ONNX Runtime on the "
                                         "CPU when installed, else PyTorch), torch or onnx (CPU only).")] = "auto",
    size: Annotated[int | None, typer.Option("--size", min=32, max=4096,
                                             help="Working size: the short side the networks see, in pixels. "
                                                  "Default: the size the model was trained at.",
                                             show_default=False)] = None,
    flat: Annotated[bool | None, typer.Option("--flat/--no-flat", help="Fill every line-enclosed region with one "
                                              "colour of the keys' palette, as a cel painter does. Default: per "
                                              "shot, when its keys are flat cel paint.", show_default=False)] = None,
    refs: Annotated[int, typer.Option("--refs", min=1, max=8, help="Use the K nearest keys of the shot as "
                                      "references.")] = 3,
    temporal: Annotated[bool, typer.Option("--temporal/--no-temporal",
                                           help="Run the temporal constraint network.")] = True,
    warp: Annotated[bool, typer.Option("--warp/--no-warp", help="Also warp the keys onto each frame (optical "
                                       "flow between distance fields) and fuse them with the network's colour.")] = True,
    shots: Annotated[str, typer.Option("--shots", help="auto (detect cuts), single (one shot) or a JSON file from "
                                       "'lacvid shots --json'.")] = "auto",
    lines: Annotated[str, typer.Option("--lines", help="How to read the input: auto, lines (already line art) "
                                       "or color (extract line art from colour footage).")] = "auto",
    cache: Annotated[Path | None, typer.Option("--cache", help="Cache folder (default: ~/.cache/lacvid or "
                                               "$LACVID_CACHE); a rerun resumes from it.", show_default=False)] = None,
    crf: Annotated[int, typer.Option("--crf", min=0, max=51, help="Video quality (lower is better).")] = 18,
    preset: Annotated[str, typer.Option("--preset", help="x264 preset.")] = "medium",
    codec: Annotated[str, typer.Option("--codec", help="Video codec for a video output.")] = "libx264",
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Paint every frame of INPUT from a few painted key frames; print OUTPUT's path."""
    if lines not in ("auto", "lines", "color"):
        raise typer.BadParameter(f"--lines must be auto, lines or color, not {lines!r}")
    if backend not in ("auto", "torch", "onnx"):
        raise typer.BadParameter(f"--backend must be auto, torch or onnx, not {backend!r}")
    from lacvid.colorize import ColorizeOptions, colorize  # torch loads only when a command needs it

    progress = make_progress(quiet, debug)
    options = ColorizeOptions(model=model, device=device, backend=backend, size=size, flat=flat, max_refs=refs,
                              temporal=temporal, warp=warp, shots=shots, line_mode=lines, cache_dir=cache,
                              overwrite=overwrite, crf=crf, preset=preset, codec=codec)
    result = colorize(input, keys, output, options, progress)
    if not quiet:
        stderr_console.print(
            f"lacvid: {result.frames} frames in {len(result.shots)} shot(s) ({result.flat_shots} flat-filled) "
            f"from {len(result.keys)} key(s) in "
            f"{result.seconds:.1f}s ({result.frames / max(result.seconds, 1e-9):.1f} frames/s)", highlight=False,
            soft_wrap=True)
    typer.echo(str(result.output))
