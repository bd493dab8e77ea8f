"""``lacvid repalette``: a coloured run recomposed with some palette colours replaced."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lacvid.cli.app import app
from lacvid.cli.common import Debug, Overwrite, Quiet, make_progress
from lacvid.cli.media_cmds import _fps


@app.command("repalette")
def repalette_cmd(
    layers: Annotated[Path, typer.Argument(help="The folder lacvid colorize --layers wrote.", show_default=False)],
    map_file: Annotated[Path, typer.Option(
        "--map", help='JSON object of palette colour (or index) to new colour: {"#ffd0b0": "#8090c0", "3": "#203040"}.',
        show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Video (by suffix) or folder of frames to write.",
                                         show_default=False)],
    fps: Annotated[str | None, typer.Option(
        "--fps", metavar="FPS", show_default=False,
        help="Video frame rate. Default: the coloured input's, or 24 for a frame folder.")] = None,
    audio_from: Annotated[Path | None, typer.Option(
        "--audio-from", help="Copy the audio streams of this file (e.g. the coloured input).", show_default=False)]
    = None,
    crf: Annotated[int, typer.Option("--crf", min=0, max=63, help="Quality: lower is better and bigger.")] = 18,
    preset: Annotated[str, typer.Option("--preset", help="Encoder speed/size trade-off (x264/x265 presets).")]
    = "medium",
    codec: Annotated[str, typer.Option("--codec", help="FFmpeg video encoder, e.g. libx264, libx265, ffv1.")]
    = "libx264",
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Recompose a coloured run from its --layers with some palette colours replaced (a night palette):
    every pixel painted with another colour stays bit for bit as the run wrote it. Prints OUTPUT."""
    progress = make_progress(quiet, debug)
    from lacvid.pipeline.repalette import load_map, repalette

    result = repalette(layers, load_map(map_file), output, overwrite=overwrite, fps=_fps(fps), audio_from=audio_from,
                       crf=crf, preset=preset, codec=codec, progress=progress)
    typer.echo(str(result.output))
