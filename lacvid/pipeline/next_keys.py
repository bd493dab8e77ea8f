"""``lacvid keys INPUT --keys KEYDIR --next N``: the frames to paint next, where they take out the most doubt.

Painting a frame makes it certain and hands the frames around it new evidence up to the keys on
either side (``compose.doubt.key_reach``); so the frames chosen are those that take the most
doubt out of their shots (``compose.doubt.next_keys``), with doubt from the run's cache
(``pipeline.doubt``: no network runs). Their line art is written into a new folder, to be
painted and moved beside the other keys.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lacvid.compose.doubt import NextKey
from lacvid.errors import KeyFrameError
from lacvid.media import probe, write_image
from lacvid.media.pipes import refuse_stdio_folder
from lacvid.pipeline.cache import PrepEntry
from lacvid.pipeline.doubt import ShotDoubts, choose_next, shot_doubts, uncovered_shots
from lacvid.pipeline.executors import LocalExecutor
from lacvid.pipeline.options import ColorizeOptions
from lacvid.pipeline.session import open_session, protected_paths
from lacvid.progress import Progress, ProgressEvent, as_progress
from lacvid.util.outputs import atomic_output, check_not_an_input, check_output_path


@dataclass(frozen=True)
class NextKeyRow:
    """One frame to paint next, and why."""

    frame: int
    shot: int                 # 1-based
    frame_doubtful: float     # its doubtful share now
    shot_doubtful: float      # its shot's doubtful share now
    removes: float            # the share of its shot's doubt painting it would take out (estimated)
    path: Path                # its line art, as written


@dataclass
class NextKeysResult:
    output: Path
    rows: list[NextKeyRow]
    shots: list[ShotDoubts]
    seconds: float


def suggest_next(input_path: Path | str, keys_dir: Path | str, output: Path | str, n: int,
                 options: ColorizeOptions = ColorizeOptions(),
                 progress: Progress | Callable[[ProgressEvent], Any] | None = None) -> NextKeysResult:
    """Write the line art of the ``n`` frames whose painting would most reduce doubt into the new folder
    ``output``; every shot needs a painted key in ``keys_dir`` (else one error naming the shots)."""
    started = time.perf_counter()
    progress = as_progress(progress)
    input_path, keys_dir, output = Path(input_path), Path(keys_dir), Path(output)
    refuse_stdio_folder(keys_dir, "--keys")
    refuse_stdio_folder(output, "-o")
    check_not_an_input(output, protected_paths(input_path, keys_dir, options))
    check_output_path(output, options.overwrite, frames_folder=True)
    info = probe(input_path)
    with open_session(input_path, keys_dir, info, options, LocalExecutor(), progress) as run:
        missing = uncovered_shots(run)
        if missing:
            names = ", ".join(str(m) for m in missing[:20]) + (", ..." if len(missing) > 20 else "")
            raise KeyFrameError(f"shot(s) {names} of {input_path} have no painted key in {keys_dir}; --next "
                                "picks frames where painted keys leave doubt, so paint at least one frame of "
                                "each shot first ('lacvid keys IN -o DIR' suggests which)")
        run.check_keys(run.shots)
        bar = progress.task("measuring doubt", total=run.n_frames)
        try:
            doubts = shot_doubts(run, run.shots, bar)
        finally:
            bar.close()
        picks = choose_next(doubts, [k.index for k in run.keys], n)
        rows = []
        with atomic_output(output, overwrite=options.overwrite, directory=True, frames_folder=True) as tmp:
            for d, pick in sorted(picks, key=lambda p: p[1].frame):
                # Named as its key must be: by frame index for a video, the frame's own name for a folder.
                name = f"{Path(info.names[pick.frame]).stem}.png" if info.names else f"{pick.frame:06d}.png"
                write_image(tmp / name, _line_art(run.prep, pick.frame))
                rows.append(_row(d, pick, output / name))
    return NextKeysResult(output, rows, doubts, time.perf_counter() - started)


def _line_art(prep: PrepEntry, t: int) -> np.ndarray:
    """Frame ``t`` to paint over: a drawing as the input has it (uint8 (H, W, 3)), else the line art
    lacvid extracted from colour footage (uint8 (H, W))."""
    return prep.drawn.get("rgb", t) if prep.has_drawing(t) else prep.frames.get("lines_full", t)


def _row(d: ShotDoubts, pick: NextKey, path: Path) -> NextKeyRow:
    return NextKeyRow(pick.frame, d.number, d.figures.shares[pick.frame], d.figures.doubtful,
                      pick.gain / pick.shot_mass if pick.shot_mass > 0 else 0.0, path)
