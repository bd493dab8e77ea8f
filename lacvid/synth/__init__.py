"""Synthetic cel-animation shots: exact colour and line art for training and tests.

No public line-art video dataset may be shipped, so lacvid trains its default model on shots it
draws itself. Each shot is a little cel animation: a background with its own regions (sky,
ground, hills, buildings, clouds) under a panning camera, and characters and props built from
ellipses, polygons and blobs that move, rotate, scale, deform, swing their limbs, occlude one
another and enter or leave the frame, some of them held on twos. Every part has a black outline,
a flat fill, a cel-shading region (a darker tone on the side away from the shot's light, bounded
by an ink line) and inner details (eyes, stripes, pockets).

The line art is drawn, not extracted: every outline and every boundary between two fills is
inked (anti-aliased, ``cv2.LINE_AA``), so region fills on the line art recover the colour
regions exactly. The colour frame is the fills multiplied by the line art, as a finished cel is.
Style ``pencil`` draws the same scene as artists export it (grey strokes with pressure and gaps,
coloured shadow-boundary lines over darker shadows; ``style``), the truth being the fills under
that ink as drawn.

Deterministic: shot ``i`` of seed ``s`` depends on ``(s, i)`` only. Modules: ``rig`` (transforms,
shapes, parts, actors), ``canvas`` (drawing one part), ``scene`` (random shots, ``render_shot``),
``style`` (how the ink is drawn).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import cv2

from lacvid.errors import InputError, mount_point
from lacvid.media.images import write_image
from lacvid.progress import NULL_PROGRESS, Progress
from lacvid.synth.scene import render_shot
from lacvid.synth.style import STYLES
from lacvid.util.outputs import atomic_output, check_output_path

__all__ = ["SynthConfig", "render_shot", "write_dataset"]


@dataclass(frozen=True)
class SynthConfig:
    """What ``lacvid synth`` draws: shot count, frames per shot, frame size, seed."""

    shots: int = 8
    frames: int = 16
    height: int = 256
    width: int = 256
    seed: int = 0
    style: str = "clean"  # clean | pencil | mixed (shots alternate: even clean, odd pencil)


def estimated_bytes(config: SynthConfig) -> int:
    """About how many bytes ``write_dataset`` writes: the first frame of the first shot, drawn and
    PNG-encoded in each style asked for, times every frame, with a quarter more for busier frames."""
    styles = ("clean", "pencil") if config.style == "mixed" else (config.style,)
    per_frame = 0
    for style in styles:
        color, lines = next(iter(render_shot(config.seed, 0, config.frames, config.height, config.width, style)))
        per_frame += len(cv2.imencode(".png", color)[1]) + len(cv2.imencode(".png", lines)[1])
    return int(1.25 * per_frame / len(styles) * config.shots * config.frames)


def check_room(out: Path, config: SynthConfig) -> None:
    """Refuse, before drawing anything, a dataset larger than the free space where it would go."""
    needed = estimated_bytes(config)
    folder = mount_point(out)
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise InputError(f"{config.shots} shots of {config.frames} frames at {config.width}x{config.height} would "
                         f"write about {needed / 1e9:.1f} GB, but {folder} has {free / 1e9:.1f} GB free; ask for "
                         "fewer --shots or --frames, a smaller --size, or write to another disk")


def write_dataset(out: Path | str, config: SynthConfig, *, overwrite: bool = False,
                  progress: Progress = NULL_PROGRESS) -> Path:
    """Write ``OUT/<shot>/color/NNNN.png`` and ``OUT/<shot>/lines/NNNN.png`` atomically.

    The layout is the training dataset layout ``lacvid train`` reads.
    """
    if config.shots < 1:
        raise InputError(f"cannot draw {config.shots} shots; ask for at least 1 (--shots)")
    if config.style not in (*STYLES, "mixed"):
        raise InputError(f"unknown drawing style {config.style!r}; use --style {', '.join(STYLES)} or mixed")
    out = Path(out)
    check_output_path(out, overwrite)  # before any progress bar: a bad path is one error line
    check_room(out, config)
    task = progress.task("synth", total=config.shots * config.frames, unit="frames")
    try:
        with atomic_output(out, overwrite=overwrite, directory=True) as tmp:
            for i in range(config.shots):
                shot = tmp / f"shot{i:04d}"
                (shot / "color").mkdir(parents=True)
                (shot / "lines").mkdir()
                style = ("clean", "pencil")[i % 2] if config.style == "mixed" else config.style
                for t, (color, lines) in enumerate(render_shot(config.seed, i, config.frames, config.height,
                                                               config.width, style)):
                    write_image(shot / "color" / f"{t:04d}.png", color)
                    write_image(shot / "lines" / f"{t:04d}.png", lines)
                    task.advance()
    finally:
        task.close()
    return out
