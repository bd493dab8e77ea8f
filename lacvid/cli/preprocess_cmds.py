"""``lacvid lines``, ``lacvid shots`` and ``lacvid keys``: preprocessing steps that compose in scripts."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from lacvid.cli.app import app
from lacvid.cli.common import (
    Debug,
    Format,
    Overwrite,
    Quiet,
    Threads,
    echo_output,
    make_progress,
    read_input,
    use_threads,
)
from lacvid.cli.run_flags import Backend, Cache, Device, Lines, Model, Refs, Shots, Size, Warp
from lacvid.errors import MediaError
from lacvid.models.config import DEFAULT_MODEL
from lacvid.shots.detect import Shot, ShotSettings

# Commands import media, numba and OpenCV when they run, so ``lacvid --help`` stays fast.

Source = Annotated[Path, typer.Argument(help="Video file (anything FFmpeg decodes; - reads it from stdin) or a "
                                             "folder of frames.",
                                        show_default=False)]
MinShotLen = Annotated[int, typer.Option("--min-shot-len", min=1, metavar="N",
                                         help="No shot shorter than N frames (a cut closer to the last is ignored).")]
Threshold = Annotated[float, typer.Option(
    "--threshold", min=0.0, metavar="T",
    help="How much must change for a cut: the share of line pixels that moved (0-1, plus a colour term).")]


def _settings(min_shot_len: int, threshold: float) -> ShotSettings:
    return ShotSettings(min_shot_len=min_shot_len, threshold=threshold)


def _shots(source: Path, settings: ShotSettings, progress) -> tuple[Any, list[Shot]]:
    from lacvid import media
    from lacvid.shots.detect import detect_shots

    info = media.probe(source)
    frames = media.read_frames(source, progress=progress)
    shots = detect_shots(frames, settings, progress=progress, total=info.frame_count)
    if not shots:
        raise MediaError(f"{source} holds no frames; give a video or a folder with at least one frame")
    return info, shots


@app.command("lines")
def lines_cmd(
    source: Source,
    output: Annotated[Path, typer.Option("--output", "-o", show_default=False,
                                         help="Frame folder to create, or a video file (.mp4, .mkv, ...); "
                                              "- writes the video to stdout (see --format).")],
    mode: Annotated[str, typer.Option("--mode", metavar="auto|color|lines",
                                      help="color: extract lines from painted footage; lines: the input is "
                                           "line art to normalise; auto: decide from the first frame.")] = "auto",
    format: Format = None,
    overwrite: Overwrite = False,
    threads: Threads = None,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Line art (black on white) for every frame; prints the output path."""
    from lacvid.preprocess.lines import LINE_MODES

    if mode not in LINE_MODES:
        raise typer.BadParameter(f"{mode!r} is not one of {', '.join(LINE_MODES)}", param_hint="'--mode'")
    from lacvid import media
    from lacvid.preprocess.frame import ClipLineMode
    from lacvid.util.outputs import check_not_an_input

    check_not_an_input(output, {"input": source})
    progress = make_progress(quiet, debug)
    use_threads(threads)
    source = read_input(source, progress)
    info = media.probe(source)
    writer = media.open_writer(output, info, overwrite=overwrite, container=format, progress=progress)
    task = progress.task("lines", total=info.frame_count)
    clip_mode = ClipLineMode(mode)
    try:
        with writer:
            for frame in media.read_frames(source, progress=progress):
                reader = clip_mode(frame.image)
                if clip_mode.detected and frame.index == 0:
                    kind = 'line art' if reader.kind == 'lines' else 'colour footage'
                    progress.log(f"{source}: the input looks like {kind}; "
                                 "use --mode to override")
                writer.write(reader.line_art(frame.image), str(Path(frame.name).with_suffix(".png")))
                task.advance()
    finally:
        task.close()
    echo_output(writer.path)


@app.command("shots")
def shots_cmd(
    source: Source,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"shots": [{"start": 0, "stop": 16}, ...], '
                                                          '"fps": ...} (stop exclusive).')] = False,
    min_shot_len: MinShotLen = ShotSettings.min_shot_len,
    threshold: Threshold = ShotSettings.threshold,
    threads: Threads = None,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Split a clip into shots (works on line art and colour); prints a table or JSON."""
    progress = make_progress(quiet, debug)
    use_threads(threads)
    info, shots = _shots(read_input(source, progress), _settings(min_shot_len, threshold), progress)
    fps = float(info.fps) if info.fps else None
    if as_json:
        typer.echo(json.dumps({"shots": [{"start": s.start, "stop": s.stop} for s in shots], "fps": fps}))
        return
    typer.echo(_table(shots, fps, None))


def _table(shots: list[Shot], fps: float | None, keys: dict[Shot, list[int]] | None) -> str:
    head = ["shot", "start", "stop", "frames"] + (["start s"] if fps else []) + (["keys"] if keys is not None else [])
    rows = []
    for i, s in enumerate(shots, 1):
        row = [str(i), str(s.start), str(s.stop), str(len(s))]
        if fps:
            row.append(f"{s.start / fps:.3f}")
        if keys is not None:
            row.append(" ".join(str(k) for k in keys[s]))
        rows.append(row)
    widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(head)]
    fmt = lambda cells: "  ".join(c.rjust(w) if j < len(cells) - 1 or keys is None else c.ljust(w)  # noqa: E731
                                  for j, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join([fmt(head), *(fmt(r) for r in rows)])


@app.command("keys")
def keys_cmd(
    source: Source,
    output: Annotated[Path, typer.Option("--output", "-o", show_default=False,
                                         help="Folder to create for the key frames' line art (000120.png, ...).")],
    per_shot: Annotated[int, typer.Option("--per-shot", min=1, metavar="N",
                                          help="Up to N keys per shot: the first frame, then where the "
                                               "drawing changes most.")] = 1,
    mode: Annotated[str, typer.Option("--mode", metavar="auto|color|lines",
                                      help="How to make the keys' line art (as in 'lacvid lines').")] = "auto",
    min_shot_len: MinShotLen = ShotSettings.min_shot_len,
    threshold: Threshold = ShotSettings.threshold,
    overwrite: Overwrite = False,
    force_replace_painted: Annotated[bool, typer.Option(
        "--force-replace-painted", help="With --overwrite, replace KEYDIR even though it holds painted keys.")]
    = False,
    painted: Annotated[Path | None, typer.Option(
        "--keys", "-k", show_default=False,
        help="With --next: the folder of keys painted so far (as for 'lacvid colorize --keys').")] = None,
    next_n: Annotated[int | None, typer.Option(
        "--next", min=1, show_default=False, metavar="N",
        help="Suggest the N frames whose painting would most reduce lacvid's doubt, from the painted --keys and "
             "the run's cache (the colorize options below find it); prints why on stdout.")] = None,
    model: Model = DEFAULT_MODEL,
    device: Device = "auto",
    backend: Backend = "auto",
    size: Size = None,
    refs: Refs = 3,
    warp: Warp = True,
    shots: Shots = "auto",
    lines: Lines = "auto",
    cache: Cache = None,
    threads: Threads = None,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Suggest frames to paint; writes their line art (full size, named by frame index) and prints KEYDIR.

    Paint the files in place and pass the folder to 'lacvid colorize --keys'. The table of shots
    and keys goes to stderr. With --keys and --next N: the N frames where one more painted key
    would take the most doubt out of its shot, and a table of why on stdout.
    """
    if next_n is not None or painted is not None:
        from lacvid.cli.keys_next import keys_next

        keys_next(source, painted, output, next_n, overwrite, force_replace_painted, quiet, debug, threads,
                  dict(model=model, device=device, backend=backend, size=size, refs=refs, warp=warp, shots=shots,
                       lines=lines, cache=cache))
        return
    from lacvid.preprocess.lines import LINE_MODES

    if mode not in LINE_MODES:
        raise typer.BadParameter(f"{mode!r} is not one of {', '.join(LINE_MODES)}", param_hint="'--mode'")
    from lacvid import media
    from lacvid.media.pipes import refuse_stdio_folder
    from lacvid.pipeline.keys import check_no_painted_keys
    from lacvid.preprocess.frame import ClipLineMode
    from lacvid.shots.suggest import suggest_keys
    from lacvid.util.outputs import atomic_output, check_not_an_input, check_output_path

    refuse_stdio_folder(output, "-o")
    check_not_an_input(output, {"input": source})
    if not force_replace_painted:  # first: the "already exists" line must not suggest --overwrite here
        check_no_painted_keys(output)
    check_output_path(output, overwrite, frames_folder=True)
    progress = make_progress(quiet, debug)
    use_threads(threads)
    source = read_input(source, progress)
    info = media.probe(source)
    with atomic_output(output, overwrite=overwrite, directory=True, frames_folder=True) as tmp:
        _, shots = _shots(source, _settings(min_shot_len, threshold), progress)
        keys = suggest_keys(media.read_frames(source), shots, per_shot=per_shot, progress=progress,
                            total=info.frame_count)
        wanted = sorted(k for ks in keys.values() for k in ks)
        task = progress.task("write keys", total=len(wanted))
        clip_mode = ClipLineMode(mode)
        try:
            todo = set(wanted)
            for frame in media.read_frames(source, stop=wanted[-1] + 1):
                if frame.index not in todo:
                    continue
                reader = clip_mode(frame.image)
                media.write_image(tmp / f"{frame.index:06d}.png", reader.line_art(frame.image))
                task.advance()
        finally:
            task.close()
    if not quiet:
        print(_table(shots, float(info.fps) if info.fps else None, keys), file=sys.stderr, flush=True)
    typer.echo(str(output))

