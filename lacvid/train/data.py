"""Training data: the dataset layout and the Zarr cache of preprocessed frames.

Layout ``lacvid train DATASET`` reads (both may be mixed in one folder):

- ``DATASET/<shot>/color/*.png`` (one folder per shot, frames in natural order) with optional
  ``DATASET/<shot>/lines/*.png`` of the same names; without ``lines/`` the line art is extracted
  from the colour (``extract_lines(mode="color")``), as at inference on painted footage;
- video files ``DATASET/*.mp4`` (any FFmpeg container), cut into shots by ``lacvid.shots.detect``.

Preprocessing is ``lacvid.preprocess.frame``, the very code colorize runs: line art at full
resolution (given lines through ``extract_lines(mode="lines")``), area-resized with the colour
to the working size (``working_size``: short side ``scale``, never upscaled, multiples of 4),
then ``normalized_distance`` at that size. The result lives in one Zarr store per dataset
(``CACHE/train/<dataset id>.zarr`` by default, never inside the dataset): one group per clip with ``color`` (F, H, W, 3)
uint8, ``lines`` (F, H, W) uint8 and ``dist`` (F, H, W) float16, one chunk per frame, and the
clip's shots as ``[[start, stop], ...]`` in its attributes. The root's ``fingerprint``
attribute hashes the source files (names, sizes, mtimes) and the preprocessing settings;
``complete`` is written last (``lacvid.util.store``), so a build that crashed is rebuilt, never read.

Too-short shots: a sample needs a target frame strictly between two references, so a shot
needs at least ``MIN_SHOT_FRAMES = 3`` frames. A frame folder with fewer is an error (the user
made it and can fix it); a detected video shot with fewer is skipped with a message (a flash
or a cut detected twice is not the user's fault).

Sampling from the cache is ``lacvid.train.sampling``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from lacvid.errors import DatasetError, InputError
from lacvid.media import IMAGE_SUFFIXES, natural_key, read_frames, read_image
from lacvid.preprocess.distance import DEFAULT_SCALE
from lacvid.preprocess.frame import ClipLineMode, LineReader, prepare_frame, resize_to, working_size
from lacvid.preprocess.lines import INK_THRESHOLD, LineSettings
from lacvid.progress import NULL_PROGRESS, Progress
from lacvid.util.cache_home import default_cache_dir
from lacvid.util.hashing import file_stats, fingerprint
from lacvid.util.store import is_complete as group_is_complete
from lacvid.util.store import mark_complete, mark_incomplete

# 2: lacvid.preprocess.frame.working_size (never upscaled, multiples of 4); 3: lacvid.preprocess.ink per shot
CACHE_VERSION = 3
MIN_SHOT_FRAMES = 3
VIDEO_SUFFIXES = frozenset({".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".gif"})


# --------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClipSource:
    """One clip to cache: a shot folder (``color`` + optional ``lines`` files) or a video file."""

    name: str
    kind: str  # "frames" | "video"
    color: tuple[Path, ...] = ()
    lines: tuple[Path, ...] | None = None
    video: Path | None = None

    def files(self) -> list[Path]:
        if self.kind == "video":
            assert self.video is not None
            return [self.video]
        return [*self.color, *(self.lines or ())]


def _images(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
                  key=lambda p: natural_key(p.name))


def discover(root: Path | str) -> list[ClipSource]:
    """The clips of a dataset folder; ``DatasetError`` naming the path for anything unusable."""
    root = Path(root)
    if not root.exists():
        raise DatasetError(f"dataset {root} does not exist; pass a folder of <shot>/color/*.png or video files")
    if not root.is_dir():
        raise DatasetError(f"dataset {root} is not a folder; pass a folder of <shot>/color/*.png or video files")
    clips: list[ClipSource] = []
    for entry in sorted(root.iterdir(), key=lambda p: natural_key(p.name)):
        if entry.name.startswith("."):
            continue  # the cache, editor files
        if entry.is_file() and entry.suffix.lower() in VIDEO_SUFFIXES:
            clips.append(ClipSource(entry.name, "video", video=entry))
        elif entry.is_dir() and (entry / "color").is_dir():
            color = _images(entry / "color")
            if not color:
                raise DatasetError(f"shot folder {entry / 'color'} holds no images; add frames or remove {entry}")
            if len(color) < MIN_SHOT_FRAMES:
                raise DatasetError(f"shot {entry} has {len(color)} frame(s) but a training sample needs at least "
                                   f"{MIN_SHOT_FRAMES} (two references and a frame between them); add frames or "
                                   "remove the folder")
            lines = None
            if (entry / "lines").is_dir():
                line_files = _images(entry / "lines")
                by_stem = {p.stem: p for p in line_files}
                missing = [p.name for p in color if p.stem not in by_stem]
                extra = sorted(set(by_stem) - {p.stem for p in color})
                if missing:
                    raise DatasetError(f"{entry / 'lines'} has no line art for {entry / 'color' / missing[0]}; "
                                       "lines/ and color/ must hold the same file names (or remove lines/)")
                if extra:
                    raise DatasetError(f"{entry / 'lines' / by_stem[extra[0]].name} has no colour frame in "
                                       f"{entry / 'color'}; lines/ and color/ must hold the same file names")
                lines = tuple(by_stem[p.stem] for p in color)
            clips.append(ClipSource(entry.name, "frames", color=tuple(color), lines=lines))
    if not clips:
        raise DatasetError(f"dataset {root} holds no shots; expected {root}/<shot>/color/*.png (optional lines/) "
                           f"or video files ({', '.join(sorted(VIDEO_SUFFIXES))})")
    return clips


# --------------------------------------------------------------------------------------------
# Preprocessing and the Zarr cache
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Preprocess:
    """Settings that change the cached arrays (part of the fingerprint)."""

    scale: int = 256  # short side of cached frames, px: the working size the networks see

    def __post_init__(self) -> None:
        if self.scale < 8:
            raise InputError(f"the preprocessing scale must be at least 8 px, got {self.scale}")

    def frame(self, color: np.ndarray, lines: np.ndarray | None,
              reader: LineReader | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """RGB (H, W, 3) and optional drawn lines -> (color (h, w, 3), lines (h, w), dist (h, w) float16).

        ``reader``: the shot's ``LineReader`` for drawn lines (one ink model per shot, as colorize
        reads a clip); without one, drawn lines are read on their own.
        """
        work_size = working_size(*color.shape[:2], self.scale)
        how = reader or ("color" if lines is None else "lines")
        prepared = prepare_frame(color if lines is None else lines, how, work_size)
        return resize_to(color, work_size), prepared.lines, prepared.dist  # (h, w, 3), (h, w), (h, w)


def default_cache_path(root: Path) -> Path:
    """Where a dataset's preprocessed frames are kept: under lacvid's cache folder
    (``util.cache_home``), one store per dataset folder, rebuilt when its files change. Never
    inside the dataset, which may be read-only or shared."""
    return default_cache_dir() / "train" / f"{fingerprint('train', str(Path(root).resolve()))}.zarr"


def cache_fingerprint(clips: list[ClipSource], pre: Preprocess, root: Path) -> str:
    """Hash of source names, sizes, mtimes and every setting the cached arrays depend on."""
    settings = {"version": CACHE_VERSION, "pre": asdict(pre), "distance_scale": DEFAULT_SCALE,
                "ink": INK_THRESHOLD, "lines": asdict(LineSettings())}
    try:
        stats = file_stats((f for clip in clips for f in clip.files()), relative_to=root)
    except OSError as exc:
        raise DatasetError(f"cannot read {exc.filename} ({exc.strerror}); check the dataset's permissions") from exc
    return fingerprint(settings, stats)


@dataclass(frozen=True)
class CachedShot:
    """Frames ``start <= i < stop`` of clip group ``clip`` in the cache."""

    clip: str
    start: int
    stop: int

    def __len__(self) -> int:
        return self.stop - self.start


def _read_rgb(path: Path) -> np.ndarray:
    try:
        return read_image(path)
    except InputError as exc:  # MediaError: corrupt or unreadable; one line naming the file
        raise DatasetError(str(exc)) from exc


def _new_arrays(group: Any, h: int, w: int, n: int) -> tuple[Any, Any, Any]:
    color = group.create_array("color", shape=(n, h, w, 3), chunks=(1, h, w, 3), dtype="uint8")
    lines = group.create_array("lines", shape=(n, h, w), chunks=(1, h, w), dtype="uint8")
    dist = group.create_array("dist", shape=(n, h, w), chunks=(1, h, w), dtype="float16")
    return color, lines, dist


def _build_frames(group: Any, clip: ClipSource, pre: Preprocess, task: Any) -> list[list[int]]:
    arrays = None
    size = None
    read_lines = ClipLineMode("lines")  # one ink model per shot, fitted on its first drawing
    for i, cpath in enumerate(clip.color):
        color = _read_rgb(cpath)
        if size is None:
            size = color.shape[:2]
        elif color.shape[:2] != size:
            raise DatasetError(f"{cpath} is {color.shape[1]}x{color.shape[0]} but the shot's first frame is "
                               f"{size[1]}x{size[0]}; all frames of a shot must have one size")
        lines = None
        if clip.lines is not None:
            lines = _read_rgb(clip.lines[i])  # RGB: coloured lines are ink too
            if lines.shape[:2] != size:
                raise DatasetError(f"{clip.lines[i]} is {lines.shape[1]}x{lines.shape[0]} but its colour frame "
                                   f"{cpath} is {size[1]}x{size[0]}; line art and colour must match")
        c, ln, d = pre.frame(color, lines, None if lines is None else read_lines(lines))
        if arrays is None:
            arrays = _new_arrays(group, *ln.shape, len(clip.color))
        arrays[0][i], arrays[1][i], arrays[2][i] = c, ln, d
        task.advance()
    return [[0, len(clip.color)]]


def _build_video(group: Any, clip: ClipSource, pre: Preprocess, task: Any, progress: Progress) -> list[list[int]]:
    from lacvid.shots.detect import ShotDetector  # imported late: only video datasets need it

    assert clip.video is not None
    detector = ShotDetector()
    arrays = None
    n = 0
    for frame in read_frames(clip.video):
        detector.push(frame)
        c, ln, d = pre.frame(frame.image, None)
        if arrays is None:
            arrays = _new_arrays(group, *ln.shape, 0)
        if n >= arrays[0].shape[0]:  # grow in steps: frame counts are not always known up front
            for a in arrays:
                a.resize((n + 64, *a.shape[1:]))
        arrays[0][n], arrays[1][n], arrays[2][n] = c, ln, d
        n += 1
        task.advance()
    detector.finish()
    if arrays is None:
        raise DatasetError(f"video {clip.video} has no frames; remove it from the dataset")
    for a in arrays:
        a.resize((n, *a.shape[1:]))
    shots = [[s.start, s.stop] for s in detector.shots()]
    short = [s for s in shots if s[1] - s[0] < MIN_SHOT_FRAMES]
    if short:
        progress.log(f"{clip.video}: skipping {len(short)} shot(s) shorter than {MIN_SHOT_FRAMES} frames")
    return [s for s in shots if s[1] - s[0] >= MIN_SHOT_FRAMES]


class FrameCache:
    """A complete, fingerprinted Zarr store of preprocessed clips; open with ``FrameCache.build``."""

    def __init__(self, path: Path, shots: list[CachedShot], sizes: dict[str, tuple[int, int]]) -> None:
        self.path = path
        self.shots = shots
        self.sizes = sizes  # clip -> (h, w)
        self._root: Any = None
        self._pid = -1

    @staticmethod
    def is_complete(path: Path, fp: str | None = None) -> bool:
        """True when ``path`` holds a finished build (of fingerprint ``fp`` when given)."""
        if not (path / "zarr.json").is_file():
            return False
        try:
            return group_is_complete(zarr.open_group(str(path), mode="r"), fp)
        except Exception:  # noqa: BLE001 - any unreadable store is simply not a finished one
            return False

    @classmethod
    def build(cls, root: Path | str, pre: Preprocess = Preprocess(), cache_path: Path | str | None = None,
              progress: Progress = NULL_PROGRESS) -> FrameCache:
        """Reuse the store when its fingerprint matches and it is complete; otherwise (re)build it."""
        root = Path(root)
        clips = discover(root)
        path = Path(cache_path) if cache_path is not None else default_cache_path(root)
        fp = cache_fingerprint(clips, pre, root)
        if not cls.is_complete(path, fp):
            if path.exists():
                progress.log(f"rebuilding the stale or unfinished cache {path}")
                shutil.rmtree(path)
            cls._write(path, clips, pre, fp, progress)
        return cls.open(path)

    @staticmethod
    def _write(path: Path, clips: list[ClipSource], pre: Preprocess, fp: str, progress: Progress) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            store = zarr.open_group(str(path), mode="w")
        except OSError as exc:
            raise DatasetError(f"cannot write the training cache {path} ({exc.strerror or exc}); make that folder "
                               "writable, or pass --cache PATH (or set LACVID_CACHE)") from exc
        mark_incomplete(store, fp, preprocess=asdict(pre))
        total = sum(len(c.color) for c in clips if c.kind == "frames") or None
        task = progress.task("caching frames", total=total, unit="frames")
        index = []
        try:
            for i, clip in enumerate(clips):
                name = f"clip{i:05d}"
                group = store.create_group(name)
                if clip.kind == "frames":
                    shots = _build_frames(group, clip, pre, task)
                else:
                    shots = _build_video(group, clip, pre, task, progress)
                group.attrs.update({"source": clip.name, "shots": shots})
                index.append(name)
        finally:
            task.close()
        mark_complete(store, clips=index)  # last: a crash before this line leaves an unfinished store

    @classmethod
    def open(cls, path: Path | str) -> FrameCache:
        """Open a complete store (``DatasetError`` when unfinished or without usable shots)."""
        path = Path(path)
        if not cls.is_complete(path):
            raise DatasetError(f"training cache {path} is unfinished or damaged; delete it and train again")
        root = zarr.open_group(str(path), mode="r")
        shots: list[CachedShot] = []
        sizes: dict[str, tuple[int, int]] = {}
        for name in root.attrs["clips"]:
            group = root[name]
            sizes[name] = tuple(group["lines"].shape[1:3])  # type: ignore[assignment]
            shots += [CachedShot(name, int(a), int(b)) for a, b in group.attrs["shots"]]
        if not shots:
            raise DatasetError(f"the dataset cached in {path} has no shot of at least {MIN_SHOT_FRAMES} frames; "
                               "add longer shots")
        return cls(path, shots, sizes)

    def group(self, clip: str) -> Any:
        """The clip's Zarr group, opened once per process (DataLoader workers fork or spawn)."""
        if self._root is None or self._pid != os.getpid():
            self._root = zarr.open_group(str(self.path), mode="r")
            self._pid = os.getpid()
        return self._root[clip]

    def __getstate__(self) -> dict[str, Any]:  # workers re-open the store themselves
        state = self.__dict__.copy()
        state["_root"], state["_pid"] = None, -1
        return state

    @property
    def frame_count(self) -> int:
        return sum(len(s) for s in self.shots)
