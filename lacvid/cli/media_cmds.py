"""``lacvid frames`` and ``lacvid encode``: plumbing for shell pipelines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lacvid.cli.app import app
from lacvid.cli.common import (
    AudioFrom,
    Debug,
    Format,
    Overwrite,
    Quiet,
    Threads,
    VideoCodec,
    VideoCrf,
    VideoPreset,
    echo_output,
    fps_option,
    make_progress,
    read_input,
    use_threads,
)


@app.command("frames")
def frames_cmd(
    source: Annotated[Path, typer.Argument(help="Video file (anything FFmpeg decodes; - reads it from stdin) or a "
                                                "folder of frames.", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to create for the PNG frames.",
                                         show_default=False)],
    threads: Threads = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Split a video into PNG frames named 000000.png, 000001.png, ... by frame index; prints the folder."""
    progress = make_progress(quiet, debug)
    use_threads(threads)
    from lacvid.media import extract_frames
    from lacvid.media.pipes import refuse_stdio_folder

    refuse_stdio_folder(output, "-o")  # before stdin is read
    path = extract_frames(read_input(source, progress), output, overwrite=overwrite, progress=progress)
    typer.echo(str(path))


@app.command("encode")
def encode_cmd(
    source: Annotated[Path, typer.Argument(help="Folder of frames (natural order) or a video to re-encode (- reads "
                                                "it from stdin).",
                                           show_default=False)],
    output: Annotated[Path, typer.Option(
        "--output", "-o", show_default=False,
        help="Video file to write (.mp4, .mkv, .mov, ...); - writes it to stdout (see --format).")],
    fps: Annotated[str | None, typer.Option(
        "--fps", metavar="FPS", show_default=False,
        help="Frame rate: 24, 23.976 or 24000/1001. Default: the source video's, or 24 for frames.")] = None,
    audio_from: AudioFrom = None,
    crf: VideoCrf = 18,
    preset: VideoPreset = "medium",
    codec: VideoCodec = "libx264",
    format: Format = None,
    threads: Threads = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Encode a folder of frames into a video (libx264 yuv420p by default); prints the video's path."""
    progress = make_progress(quiet, debug)
    use_threads(threads)
    from lacvid.media import encode_video

    path = encode_video(read_input(source, progress), output, fps=fps_option(fps), audio_from=audio_from,
                        codec=codec, crf=crf, preset=preset, overwrite=overwrite, container=format, progress=progress)
    echo_output(path)
