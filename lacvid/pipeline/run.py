"""``colorize()``: line art + a few painted keys in, every frame painted out.

The driver of a run, each pass resumable from the Zarr cache (``pipeline.cache``):

1. ``scan``: stream frames, preprocess them (``lacvid.preprocess.frame``), detect shots;
2. per shot, on an executor (``pipeline.executors``: this process, or Ray workers): the
   propagation of the keys' colours, the networks (on every frame, or on drawings with flat keys
   only where a frame's paint needs them) and the finished frames (``shot_work``);
3. the finished frames, read in order, encoded on a writer thread that overlaps the next shot.

``--frames``/``--shot`` (``pipeline.selection``) colour part of the input: a frame folder gets
only those frames, a video is written whole with the other frames read from the cache.

The library never prints: it reports through ``progress`` and raises ``InputError``s.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lacvid.compose.doubt import ShotDoubt, doubtful_share
from lacvid.compose.layers import Layers
from lacvid.errors import InputError
from lacvid.media import open_writer, probe
from lacvid.media.pipes import is_stdio, refuse_stdio_folder, stdout_format
from lacvid.media.write import FrameFolderUpdate, check_container, check_encoder, check_frame_update
from lacvid.pipeline.cache import ColorizeCache
from lacvid.pipeline.compose import Composer
from lacvid.pipeline.executors import LocalExecutor, ShotExecutor, ShotTask, cached_layers
from lacvid.pipeline.layer_files import LayerWriter, check_layers_output
from lacvid.pipeline.options import ColorizeOptions, ColorizeResult, option_names
from lacvid.pipeline.selection import frames_of
from lacvid.pipeline.session import RunSession, open_session, protected_paths
from lacvid.pipeline.shot_work import RunPlan, ShotArrays
from lacvid.progress import Progress, ProgressEvent, ProgressTask, WarningRecorder, as_progress, report_shot
from lacvid.util.outputs import check_not_an_input, check_output_path


def colorize(input_path: Path | str, keys_dir: Path | str, output: Path | str,
             options: ColorizeOptions | None = None,
             progress: Progress | Callable[[ProgressEvent], Any] | None = None,
             executor: ShotExecutor | None = None, **option_values: Any) -> ColorizeResult:
    """Paint every frame of ``input_path`` from the painted keys in ``keys_dir``; write ``output``.

    ``output`` is a video (by suffix; audio copied from a video input) or a frame directory.
    Resumable: an interrupted run started again with the same arguments picks up from the cache.
    Options come as ``options`` and/or keywords named as the CLI's flags (``refs=2, cache=...``;
    keywords win). ``progress``: a ``lacvid.progress.Progress``, or a callable taking a
    ``ProgressEvent`` (each step, message and warning). Warnings also go to the ``lacvid`` logger
    and into the result's ``warnings``.
    ``executor``: who colours the shots (default: this process; ``lacvid.pipeline.ray_executor``
    spreads them over a Ray cluster, with the same output byte for byte).
    """
    options = dataclasses.replace(options or ColorizeOptions(), **option_names(option_values))
    executor = executor or LocalExecutor()
    with open_job(input_path, keys_dir, output, options, executor, as_progress(progress)) as job:
        job.start(executor)
        return job.write(executor)


@dataclass
class ColorizeJob:
    """One input's run, opened (scanned, planned, its cache entry locked): what to colour, what to write."""

    output: Path
    options: ColorizeOptions
    run: RunSession
    tasks: list[ShotTask]      # what to colour
    written: list[ShotTask]    # what to write: the tasks, or every shot (a video from part of a run)
    update_folder: bool        # write the selected frames into a frame folder as it is
    started: float             # when its scan began (time.perf_counter): the run's time counts the scan
    progress: WarningRecorder  # the caller's progress, keeping this job's warnings for its result

    @property
    def frames(self) -> int:
        return sum(len(t.frames) for t in self.written)

    def start(self, executor: ShotExecutor) -> None:
        executor.start(self.run.plan, self.run.cache, self.tasks, self.progress, self.run.backend)

    def write(self, executor: ShotExecutor, bar: ProgressTask | None = None) -> ColorizeResult:
        """Write the output from the executor's shots; ``bar``: a progress task shared by many jobs (batch)."""
        writer = _Writer(executor, self.run, self.output, self.options, self.update_folder)
        flat_shots = writer.write(self.written, self.tasks, self.progress, bar)
        stages = {**self.run.stages, **executor.stages(), "compose+encode": writer.seconds}
        return ColorizeResult(output=self.output, frames=self.frames, shots=self.run.shots,
                              keys=[k.index for k in self.run.keys], seconds=time.perf_counter() - self.started,
                              stage_seconds=stages, flat_shots=flat_shots, warnings=list(self.progress.warnings),
                              doubt=writer.doubt)


@contextlib.contextmanager
def open_job(input_path: Path | str, keys_dir: Path | str, output: Path | str, options: ColorizeOptions,
             executor: ShotExecutor, progress: Progress) -> Iterator[ColorizeJob]:
    """Check the output, scan the input and plan the run; the cache entry stays locked until the job closes."""
    started = time.perf_counter()
    recorder = WarningRecorder(progress)  # this job's warnings, for its result
    input_path, keys_dir, output = Path(input_path), Path(keys_dir), Path(output)
    protected = protected_paths(input_path, keys_dir, options)
    check_not_an_input(output, protected)
    info = probe(input_path)
    frames_folder = not is_stdio(output) and (not output.suffix or output.is_dir())
    refuse_stdio_folder(keys_dir, "--keys")
    refuse_stdio_folder(options.layers, "--layers")
    partial = options.frames is not None or options.shot is not None
    if is_stdio(output):
        check_container(stdout_format(options.format))
    elif not (frames_folder and partial):  # a partial folder output is checked frame by frame as it is written
        check_output_path(output, options.overwrite, frames_folder=frames_folder, frame_names=info.names or ())
    if not frames_folder:
        check_encoder(options.codec, options.preset)
        check_container(options.format)
    if options.layers is not None:
        check_layers_output(options.layers, options.overwrite, {**protected, "output": output})
    with open_session(input_path, keys_dir, info, options, executor, recorder) as run:
        selection, chosen = run.choose(options)
        tasks = [ShotTask(s, frames_of(s, selection)) for s in chosen]
        if frames_folder and partial:
            written = tasks  # only the selected frames, into the folder as it is
            check_frame_update(output, (run.names[f] for t in tasks for f in t.frames), options.overwrite,
                               info.names or ())
        else:
            written = [ShotTask(s, range(s.start, s.stop)) for s in run.shots]
            _check_cached(run.plan, run.cache, written, tasks)
        yield ColorizeJob(output, options, run, tasks, written, frames_folder and partial, started, recorder)


def _check_cached(plan: RunPlan, cache: ColorizeCache, written: list[ShotTask], tasks: list[ShotTask]) -> None:
    """Before any work: a whole video from part of a run needs every other frame finished in the cache."""
    coloring = {(t.shot, f) for t in tasks for f in t.frames}
    for number, task in enumerate(written, start=1):
        rest = [f for f in task.frames if (task.shot, f) not in coloring]
        missing = ShotArrays.open(cache, plan, task.shot).missing(rest) if rest else []
        if missing:
            raise InputError(f"shot {number} (frames {task.shot.start} to {task.shot.stop - 1}) has no finished "
                             f"frames in the cache for these keys and settings (frame {missing[0]} first); a video "
                             f"is written whole, so colour that shot too (--shot {number}), run without --frames "
                             "and --shot, or write a frame folder")


class _Writer:
    """The finished frames of every shot, in order, into the output (and the layers folder)."""

    def __init__(self, executor: ShotExecutor, run: RunSession, output: Path, options: ColorizeOptions,
                 update_folder: bool) -> None:
        self.executor, self.run, self.output, self.options, self.update_folder = executor, run, output, options, \
            update_folder
        self.seconds = 0.0
        self.doubt: dict[int, dict] = {}  # shot number -> its doubt figures, once its frames are written

    def write(self, written: list[ShotTask], tasks: list[ShotTask], progress: Progress,
              bar: ProgressTask | None = None) -> int:
        """Frames of ``written`` in order, coloring ``tasks`` on the way; returns how many shots were flat-filled."""
        enc = self.options.encode()
        task = bar or progress.task("colorizing", total=sum(len(t.frames) for t in written))
        coloring = {t.shot: t for t in tasks}
        plan, flat_shots = self.run.plan, 0
        with self._open_writer(enc, progress) as writer:
            layers = LayerWriter(enc.layers, enc.overwrite, fps=self.run.info.fps,
                                 key_names={k.index: k.path.name for k in self.run.keys},
                                 trace_lines=self.options.trace_lines) \
                if enc.layers is not None else None
            composer = Composer(writer, task.advance, layers)
            error: BaseException | None = None
            before = [0]  # frames of the shots before each
            unindexed: list[tuple[int, str]] = []  # --layers: shots without a palette, and why
            for shot_task in written:
                before.append(before[-1] + len(shot_task.frames))
            try:
                for number, shot_task in enumerate(written, start=1):
                    if bar is None:
                        task.update(description=f"colorizing shot {number}/{len(written)}")
                    # One shot ahead: this shot is prepared while the one before it composes, not later.
                    composer.wait_written(before[max(number - 2, 0)])
                    own = shot_task.shot in coloring
                    source = self.executor.layers(plan, coloring[shot_task.shot]) if own else \
                        cached_layers(plan, self.run.cache, shot_task.shot)
                    flat_shots += own and source.flat
                    make = source.layers
                    if layers is not None:
                        make = source.indexed
                        composer.submit_shot(functools.partial(layers.shot, number, shot_task.shot, source.palette,
                                                               source.no_palette_why))
                        if source.palette is None:
                            unindexed.append((number, source.no_palette_why))
                    shares: dict[int, float] = {}  # the shot's doubt, frame by frame, as they compose
                    for t in shot_task.frames:
                        composer.submit(functools.partial(_tallied, make, t, shares), self.run.names[t])
                    composer.submit_shot(functools.partial(_report_shot, progress, number, shot_task, shares,
                                                           self.doubt))
            except BaseException as exc:
                error = exc
                self.executor.cancel()
                raise
            finally:
                try:
                    composer.close(drop=error is not None)
                finally:
                    if layers is not None:  # published only with the frames; dropped on any failure
                        layers.close(error or composer.error)
        if unindexed:  # one note, not one per shot: a run of colour footage has no palette anywhere
            numbers = ", ".join(str(n) for n, _ in unindexed[:10]) + (", ..." if len(unindexed) > 10 else "")
            progress.log(f"note: {len(unindexed)} shot(s) ({numbers}) have no palette, so no index layer in "
                         f"{enc.layers}/index (shot {unindexed[0][0]}: {unindexed[0][1]}); see "
                         f"{enc.layers}/palette.json")
        self.seconds = composer.seconds
        if bar is None:
            task.close()
        return flat_shots

    def _open_writer(self, enc, progress: Progress):
        info = self.run.info
        if self.update_folder:
            return FrameFolderUpdate(self.output, frame_names=info.names or ())
        return open_writer(self.output, like=info, overwrite=enc.overwrite, crf=enc.crf, preset=enc.preset,
                           codec=enc.codec, container=enc.format, progress=progress)


def _tallied(make: Callable[[int], Layers], t: int, shares: dict[int, float]) -> Layers:
    """``make(t)``, its doubtful share noted in ``shares`` (on a composing thread: one key per frame)."""
    layers = make(t)
    if layers.doubt is not None:
        shares[t] = doubtful_share(layers.doubt)
    return layers


def _report_shot(progress: Progress, number: int, task: ShotTask, shares: dict[int, float],
                 kept: dict[int, dict]) -> None:
    """Once a shot's frames are written: its doubt figures, kept for the result and reported
    (``--progress json``: its ``shot`` event)."""
    kept[number] = ShotDoubt(shares).figures()
    report_shot(progress, shot=number, start=task.shot.start, stop=task.shot.stop, frames=len(task.frames),
                **kept[number])
