"""``lacvid synth`` (a synthetic cel-animation dataset) and ``lacvid train`` (the two-stage trainer)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer

from lacvid.cli.app import app
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


@app.command("synth")
def synth_cmd(
    out: Annotated[Path, typer.Argument(help="Dataset folder to write: OUT/<shot>/color/NNNN.png and lines/.")],
    shots: Annotated[int, typer.Option("--shots", min=1, help="Number of shots.")] = 8,
    frames: Annotated[int, typer.Option("--frames", min=1, help="Frames per shot.")] = 16,
    size: Annotated[int, typer.Option(
        "--size", min=8, help="Frame size in px (square) unless --height/--width.")] = 256,
    height: Annotated[int | None, typer.Option("--height", min=8, help="Frame height in px (default --size).")] = None,
    width: Annotated[int | None, typer.Option("--width", min=8, help="Frame width in px (default --size).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same dataset.")] = 0,
    style: Annotated[str, typer.Option("--style", help="clean (black ink), pencil (grey pencil with pressure, "
                                       "gaps and coloured shadow lines, as artists export), stress (faint pencil "
                                       "with many gaps, a gradient sky, shapes off the frame, a sweeping occluder, "
                                       "a prop entering), redrawn (pencil; characters close up whose hair locks "
                                       "and folds are drawn anew in every drawing, as real inbetweens) or mixed "
                                       "(clean and pencil shots alternate).")] = "clean",
    threads: Threads = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Draw a synthetic cel-animation dataset (exact colour and line art) for training and tests."""
    from lacvid.synth import SynthConfig, write_dataset

    progress = make_progress(quiet, debug)
    use_threads(threads)
    cfg = SynthConfig(shots=shots, frames=frames, height=height or size, width=width or size, seed=seed, style=style)
    path = write_dataset(out, cfg, overwrite=overwrite, progress=progress)
    typer.echo(str(path))


# The options, one alias each, so the command reads as a list of what it takes.
DatasetOpt = Annotated[Path, typer.Argument(help="DATASET/<shot>/color/*.png (+ optional lines/), or video files.")]
OutputOpt = Annotated[Path, typer.Option(
    "--output", "-o", help="Run folder: checkpoints, config.json, losses, samples, model.pt.")]
StepsOpt = Annotated[int | None, typer.Option(
    "--steps", min=1,
    help="Optimiser steps of the colour stage (of the temporal stage with --stage temporal). [default: 20000]")]
TemporalStepsOpt = Annotated[int | None, typer.Option(
    "--temporal-steps", min=0, help="Temporal steps of --stage both. [default: steps/4]")]
StageOpt = Annotated[str | None, typer.Option("--stage", help="color, temporal or both. [default: both]")]
SizeOpt = Annotated[int | None, typer.Option("--size", min=16, help="Square crop in px. [default: 256]")]
ScaleOpt = Annotated[int | None, typer.Option(
    "--scale", min=16, help="Short side of the cached frames in px. [default: --size]")]
BatchOpt = Annotated[int | None, typer.Option("--batch", min=1, help="Samples per step per process. [default: 4]")]
WidthOpt = Annotated[int | None, typer.Option(
    "--width", min=2, help="Base channels. [default: 8 on CPU, 64 on CUDA]")]
LrOpt = Annotated[float | None, typer.Option("--lr", help="Generator learning rate. [default: 1e-4]")]
LrDOpt = Annotated[float | None, typer.Option("--lr-d", help="Discriminator learning rate. [default: 1e-4]")]
DeviceOpt = Annotated[str | None, typer.Option("--device", help="auto, cpu or cuda. [default: auto]")]
ResumeOpt = Annotated[bool, typer.Option("--resume", help="Continue the run in OUTPUT exactly where it stopped.")]
InitOpt = Annotated[Path | None, typer.Option("--init", help="Fine-tune from this checkpoint.")]
PerceptualOpt = Annotated[str | None, typer.Option(
    "--perceptual", help="auto (vgg when its weights are here, else none), vgg or none. [default: auto]")]
VggWeightsOpt = Annotated[Path | None, typer.Option(
    "--vgg-weights", help="torchvision's vgg19-dcbb9e9d.pth [default: the torch hub cache]")]
GanOpt = Annotated[str | None, typer.Option("--gan", help="hinge or lsgan. [default: hinge]")]
CheckpointEveryOpt = Annotated[int | None, typer.Option("--checkpoint-every", min=1, help="[default: 500]")]
SampleEveryOpt = Annotated[int | None, typer.Option("--sample-every", min=1, help="[default: 500]")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", min=0, help="DataLoader worker processes. [default: 1]")]
CacheOpt = Annotated[Path | None, typer.Option(
    "--cache", help="Zarr cache of preprocessed frames. [default: CACHE/train/<dataset id>.zarr, under "
                   "~/.cache/lacvid or $LACVID_CACHE; never inside DATASET]")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="[default: 0]")]
PrecisionOpt = Annotated[str | None, typer.Option(
    "--precision", help="auto (bf16 autocast on CUDA, fp32 on CPU), fp32 or bf16. [default: auto]")]


@app.command("train")
def train_cmd(
    dataset: DatasetOpt,
    output: OutputOpt,
    steps: StepsOpt = None,
    temporal_steps: TemporalStepsOpt = None,
    stage: StageOpt = None,
    size: SizeOpt = None,
    scale: ScaleOpt = None,
    batch: BatchOpt = None,
    width: WidthOpt = None,
    lr: LrOpt = None,
    lr_d: LrDOpt = None,
    device: DeviceOpt = None,
    resume: ResumeOpt = False,
    init: InitOpt = None,
    perceptual: PerceptualOpt = None,
    vgg_weights: VggWeightsOpt = None,
    gan: GanOpt = None,
    checkpoint_every: CheckpointEveryOpt = None,
    sample_every: SampleEveryOpt = None,
    workers: WorkersOpt = None,
    cache: CacheOpt = None,
    seed: SeedOpt = None,
    precision: PrecisionOpt = None,
    threads: Threads = None,
    overwrite: Overwrite = False,
    progress_mode: ProgressMode = "bar",
    log_file: LogFile = None,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Train the colour network, then the temporal network, on DATASET (DDP under torchrun)."""
    from lacvid.train import TrainConfig, train
    from lacvid.util.outputs import check_not_an_input

    # --overwrite starts over by removing the run folder: never when it is or holds what the run reads.
    check_not_an_input(output, {"dataset": dataset, "--init checkpoint": init, "--cache": cache,
                                "--vgg-weights file": vgg_weights})
    progress = make_progress(quiet, debug, progress_mode, log_file)
    use_threads(threads, "torch")
    given = {"steps": steps, "temporal_steps": temporal_steps, "stage": stage, "size": size, "scale": scale,
             "batch": batch, "width": width, "lr": lr, "lr_d": lr_d, "device": device, "perceptual": perceptual,
             "vgg_weights": str(vgg_weights) if vgg_weights else None, "gan": gan,
             "checkpoint_every": checkpoint_every, "sample_every": sample_every, "workers": workers,
             "cache": str(cache) if cache else None, "seed": seed, "precision": precision, "threads": threads,
             "init": str(init) if init else None, "dataset": str(dataset)}
    given = {k: v for k, v in given.items() if v is not None}
    cfg = TrainConfig(run=str(output), **given)
    started = time.perf_counter()
    train(cfg, resume=resume, overrides=given, overwrite=overwrite, progress=progress)
    if int(os.environ.get("RANK", "0")) == 0:
        report_result(progress, output=str(output), seconds=round(time.perf_counter() - started, 3))
        typer.echo(str(output))
