"""The flags ``colorize``, ``preview`` and ``keys --next`` share, one alias each, so each command reads as
a list of what it takes (a module of its own: importing it registers no command)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lacvid.models.config import DEFAULT_MODEL

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
    "--backend", help="What runs the networks: auto (ONNX Runtime on the CPU when installed, else PyTorch; "
                      "PyTorch at working sizes above ~320x570, where it is faster), torch or onnx (CPU only).")]
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
         "colours propagated frame to frame from every key; colour footage is its nearest key warped by optical "
         "flow (--no-warp: the network's colour).")]
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
         "(RGBA, the lines as drawn) as DIR/paint/NAME.png and DIR/ink/NAME.png, for compositing, and where lacvid "
         "guessed as DIR/doubt/NAME.png (grey: 0 sure, 255 guessed); shots painted "
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
