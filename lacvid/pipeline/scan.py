"""Pass 1 of colorize: stream every frame once, preprocess what the cache lacks, find the shots.

Decoding runs on its own thread (PyAV releases the GIL) and preprocessing, with the writing of
each frame's results to the cache, on two more (OpenCV, zstd and the CRC do too), so the pass is as
fast as its slowest part, not their sum.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from lacvid.errors import InputError
from lacvid.media import Frame, MediaInfo, read_frames
from lacvid.pipeline.cache import PrepEntry, damaged_message
from lacvid.pipeline.options import ScanOptions
from lacvid.preprocess.frame import ClipLineMode, LineReader, prepare_frame
from lacvid.progress import Progress, warn
from lacvid.shots.detect import FrameSummary, Shot, ShotDetector
from lacvid.util.cpus import thread_limit


def prefetch(iterator: Iterator[Frame], depth: int = 8) -> Iterator[Frame]:
    """Decode on a background thread while the caller works; errors re-raised in the caller."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def producer() -> None:
        try:
            for item in iterator:
                if stop.is_set():
                    return
                q.put(item)
            q.put(done)
        except BaseException as exc:  # re-raised in the consumer, which owns error reporting
            q.put(exc)

    thread = threading.Thread(target=producer, name="lacvid-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(0.05)


def scan(info: MediaInfo, prep: PrepEntry, options: ScanOptions, work_size: tuple[int, int],
         progress: Progress) -> tuple[int, list[str], list[Shot]]:
    """Preprocess every frame not yet cached (or damaged there), and detect shots: (frame count, names, shots)."""
    bad = prep.verify()
    if bad:
        warn(progress, damaged_message(prep.frames, bad))
    if prep.scan is not None:
        return prep.scan
    prep.frames.reserve(info.frame_count)
    prep.drawn.reserve(info.frame_count)
    detector = ShotDetector()
    names: list[str] = []
    mode = ClipLineMode(options.line_mode)
    task = progress.task("scanning", total=info.frame_count)
    with ThreadPoolExecutor(max_workers=min(2, thread_limit()), thread_name_prefix="lacvid-prep") as pool:
        pending: list[Future[FrameSummary]] = []

        def drain(limit: int) -> None:  # shot detection takes the frames' summaries in order
            while len(pending) > limit:
                detector.push_summary(pending.pop(0).result())
                task.advance()

        for frame in prefetch(read_frames(info.path, progress=progress)):
            frame_mode = mode(frame.image)
            names.append(frame.name)
            # Prepared, written to the cache and summarised for shot detection on the pool's threads (at 1080p the
            # summary's downscale is most of detection's time): this one decodes and compares summaries.
            todo = None if prep.frames.is_done(frame.index) else frame_mode
            pending.append(pool.submit(_scan_frame, prep, detector, frame.index, frame.image, todo, work_size))
            drain(4)
        drain(0)
    task.close()
    if not names:
        raise InputError(f"{info.path} holds no frames; check the input")
    detector.finish()
    shots = detector.shots()
    prep.finish_scan(len(names), names, shots, mode.reader.ink if mode.reader is not None else None)
    return len(names), names, shots


def _scan_frame(prep: PrepEntry, detector: ShotDetector, index: int, image: np.ndarray, mode: LineReader | None,
                work_size: tuple[int, int]) -> FrameSummary:
    """One frame's scan on a pool thread: prepared into the cache (unless ``mode`` is None: cached already), and
    its summary for shot detection."""
    if mode is not None:
        prep.put(index, prepare_frame(image, mode, work_size))
    return detector.summarize(image)


def resolve_shots(spec: str, detected: list[Shot], n_frames: int) -> list[Shot]:
    """The shots to color: detected, one for the whole input, or read from a ``lacvid shots --json`` file."""
    if spec == "auto":
        return detected
    if spec == "single":
        return [Shot(0, n_frames)]
    path = Path(spec)
    try:
        data = json.loads(path.read_text())
        shots = [Shot(int(s["start"]), int(s["stop"])) for s in data["shots"]]
    except FileNotFoundError as exc:
        raise InputError(f"shots file {path} does not exist; pass --shots auto, single or a file written by "
                         "lacvid shots --json") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"shots file {path} is not a lacvid shots --json file ({exc}); write one with "
                         "lacvid shots IN --json > shots.json") from exc
    expected = 0
    for shot in shots:
        if shot.start != expected or shot.stop <= shot.start:
            raise InputError(f"shots in {path} must cover frames 0 to {n_frames - 1} in order without gaps; "
                             f"shot {shot.start}-{shot.stop} does not follow frame {expected}")
        expected = shot.stop
    if expected != n_frames:
        raise InputError(f"shots in {path} end at frame {expected} but the input has {n_frames} frames; "
                         "write the file again with lacvid shots")
    return shots
