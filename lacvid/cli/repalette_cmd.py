"""``lacvid repalette``: a coloured run recomposed with some palette colours replaced."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lacvid.cli.app import app
from lacvid.cli.common import (
    AudioFrom,
    Debug,
    Overwrite,
    Quiet,
    VideoCodec,
    VideoCrf,
    VideoPreset,
    fps_option,
    make_progress,
)


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
    audio_from: AudioFrom = None,
    crf: VideoCrf = 18,
    preset: VideoPreset = "medium",
    codec: VideoCodec = "libx264",
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Recompose a coloured run from its --layers with some palette colours replaced (a night palette):
    every pixel painted with another colour stays bit for bit as the run wrote it. Prints OUTPUT."""
    progress = make_progress(quiet, debug)
    from lacvid.pipeline.repalette import load_map, repalette

    result = repalette(layers, load_map(map_file), output, overwrite=overwrite, fps=fps_option(fps),
                       audio_from=audio_from, crf=crf, preset=preset, codec=codec, progress=progress)
    typer.echo(str(result.output))
