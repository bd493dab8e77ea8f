"""``lacvid repalette``: a coloured run recomposed with some palette colours replaced.

It reads what ``colorize --layers`` wrote (``pipeline.layer_files``): per frame the index, paint
and ink layers, and ``palette.json``. Each frame is recomposed (``compose.palette.recompose``):
pixels painted with a replaced entry take its new colour, every other pixel is bit for bit the
original run's. No network and no propagation: it runs at the speed of decoding and encoding.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from lacvid.compose.layers import Layers
from lacvid.compose.palette import OFF_PALETTE, mapped_palettes, parse_color, recompose
from lacvid.errors import InputError
from lacvid.media import MediaInfo, open_writer, parse_fps
from lacvid.media.images import read_rgba
from lacvid.media.indexed_png import read_indexed_png
from lacvid.media.write import check_encoder
from lacvid.pipeline.layer_files import PALETTE_FILE
from lacvid.progress import NULL_PROGRESS, Progress
from lacvid.util.cpus import thread_limit
from lacvid.util.outputs import check_output_path


@dataclass(frozen=True)
class RepaletteResult:
    output: Path
    frames: int
    recolored_shots: int
    seconds: float


@dataclass(frozen=True)
class _Shot:
    number: int
    frames: list[str]
    colors: np.ndarray | None   # uint8 (P, 3): the run's palette; None: no palette
    why: str


def load_map(path: Path | str) -> dict[str, str]:
    """A ``--map`` file: a JSON object of old colour (``"#ffd0b0"``) or index (``"3"``) -> new colour."""
    path = Path(path)
    try:
        mapping = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise InputError(f"map file {path} does not exist; check the path") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read the map file {path} as JSON ({exc}); write it like "
                         '{"#ffd0b0": "#8090c0", "3": "#203040"}') from exc
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise InputError(f"map file {path} must hold one JSON object of colour (or index) to colour, like "
                         '{"#ffd0b0": "#8090c0", "3": "#203040"}')
    for value in mapping.values():
        parse_color(value)
    return mapping


def _read_manifest(layers: Path) -> tuple[dict, list[_Shot]]:
    if not layers.is_dir():
        raise InputError(f"layers folder {layers} does not exist; pass the folder lacvid colorize --layers wrote")
    path = layers / PALETTE_FILE
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise InputError(f"{layers} has no {PALETTE_FILE}, so it is not a layers folder of this lacvid; colour the "
                         "input again with lacvid colorize --layers") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read {path} ({exc}); colour the input again with lacvid colorize --layers") from exc
    shots = []
    for s in manifest.get("shots", []):
        colors = None if s["palette"] is None else \
            np.array([parse_color(e["rgb"]) for e in s["palette"]], np.uint8).reshape(-1, 3)
        shots.append(_Shot(int(s["shot"]), list(s["frames"]), colors, s.get("why", "")))
    if not any(s.frames for s in shots):
        raise InputError(f"{path} lists no frames; colour the input again with lacvid colorize --layers")
    if all(s.colors is None for s in shots):
        first = shots[0]
        raise InputError(f"{layers} has no palette: shot {first.number} has none because {first.why}; repalette "
                         "recolours only shots painted flat from their keys' palette (flat cel keys, --flat)")
    return manifest, shots


def repalette(layers: Path | str, mapping: Mapping[str, str], output: Path | str, *, overwrite: bool = False,
              fps: Fraction | str | None = None, audio_from: Path | None = None, crf: int = 18,
              preset: str = "medium", codec: str = "libx264", progress: Progress = NULL_PROGRESS,
              workers: int | None = None) -> RepaletteResult:
    """Write ``output`` (a video by suffix, else a frame folder named like colorize's output): the
    frames of the run whose layers are in ``layers``, with ``mapping``'s palette colours replaced."""
    start = time.perf_counter()
    layers, output = Path(layers), Path(output)
    manifest, shots = _read_manifest(layers)
    palettes = mapped_palettes([s.colors for s in shots], mapping, where=str(layers))
    names = [n for s in shots for n in s.frames]
    video = bool(output.suffix) and not output.is_dir()
    check_output_path(output, overwrite, inputs={"layers folder": layers, "--audio-from file": audio_from},
                      frames_folder=not video, frame_names=names)
    if video:
        check_encoder(codec, preset)
    if audio_from is not None and not Path(audio_from).exists():
        raise InputError(f"--audio-from file {audio_from} does not exist; check the path")
    rate = parse_fps(fps) if fps is not None else (parse_fps(manifest["fps"]) if manifest.get("fps") else None)
    first = read_rgba(_layer(layers, "paint", names[0]))
    like = MediaInfo(path=layers, kind="frames", width=first.shape[1], height=first.shape[0], fps=rate,
                     frame_count=len(names), time_base=None, audio_streams=0, names=names)
    trace = manifest.get("trace_lines") == "paint"
    jobs = [(name, palettes[i], trace) for i, s in enumerate(shots) for name in s.frames]
    task = progress.task("repalette", total=len(names), unit="frames")
    writer = open_writer(output, like, fps=rate, overwrite=overwrite, audio_from=audio_from,
                         codec=codec, crf=crf, preset=preset, progress=progress)
    try:
        with writer:
            for name, frame in _in_order(jobs, lambda job: _frame(layers, *job), workers or thread_limit()):
                writer.write(frame, name)
                task.advance()
    finally:
        task.close()
    return RepaletteResult(writer.path, len(names), sum(s.colors is not None for s in shots),
                           time.perf_counter() - start)


def _layer(layers: Path, kind: str, name: str) -> Path:
    return layers / kind / str(Path(name).with_suffix(".png"))


def _frame(layers: Path, name: str, colors: np.ndarray | None, trace: bool) -> tuple[str, np.ndarray]:
    """Frame ``name`` recomposed with ``colors`` (None: a shot without a palette, as it was)."""
    ink = read_rgba(_layer(layers, "ink", name))
    if colors is None:
        return name, Layers(read_rgba(_layer(layers, "paint", name)), ink, trace_painted=trace).flatten()
    index, stored = read_indexed_png(_layer(layers, "index", name))
    if len(stored) != len(colors):
        raise InputError(f"index layer {_layer(layers, 'index', name)} has {len(stored)} palette entries but "
                         f"{PALETTE_FILE} lists {len(colors)}; colour the input again with lacvid colorize --layers")
    # The paint layer is read only for the pixels whose paint is no palette colour (255).
    paint = read_rgba(_layer(layers, "paint", name)) if (index == OFF_PALETTE).any() else None
    return name, recompose(index, colors, paint, ink, trace_painted=trace, original=stored)


def _in_order(jobs: list, work: Callable, workers: int) -> Iterator:
    """``work(job)`` of each job, in order, a few at a time on threads (PNG decoding releases the GIL)."""
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="lacvid-repalette") as pool:
        pending: deque = deque()
        for job in jobs:
            pending.append(pool.submit(work, job))
            if len(pending) > 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
