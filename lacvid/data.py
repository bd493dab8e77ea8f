"""Training data: the dataset layout, the Zarr cache of preprocessed frames, triplet sampling.

Layout ``lacvid train DATASET`` reads (both may be mixed in one folder):

- ``DATASET/<shot>/color/*.png`` (one folder per shot, frames in natural order) with optional
  ``DATASET/<shot>/lines/*.png`` of the same names; without ``lines/`` the line art is extracted
  from the colour (``extract_lines(mode="color")``), as at inference on painted footage;
- video files ``DATASET/*.mp4`` (any FFmpeg container), cut into shots by ``lacvid.shots``.

Preprocessing mirrors ``lacvid.pipeline``: line art at full resolution (given lines through
``extract_lines(mode="lines")``), then both line art and colour area-resized to the working
size (short side ``scale``), then ``normalized_distance`` at that size. The result lives in one
Zarr store per dataset (``DATASET/.lacvid-cache.zarr`` by default): one group per clip with
``color`` (F, H, W, 3) uint8, ``lines`` (F, H, W) uint8 and ``dist`` (F, H, W) float16, one chunk
per frame, and the clip's shots as ``[[start, stop], ...]`` in its attributes. The root's
``fingerprint`` attribute hashes the source files (names, sizes, mtimes) and the preprocessing
settings; ``complete`` is written last, so a build that crashed is rebuilt, never read.

Too-short shots: a sample needs a target frame strictly between two references, so a shot
needs at least ``MIN_SHOT_FRAMES = 3`` frames. A frame folder with fewer is an error (the user
made it and can fix it); a detected video shot with fewer is skipped with a message (a flash
or a cut detected twice is not the user's fault).

Sampling is a pure function of ``(seed, step, slot)``: resuming at a step reproduces the same
batches without saving any sampler state, and DataLoader workers need no coordination.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import zarr
from torch.utils.data import Dataset, Sampler

from lacvid.distance import DEFAULT_SCALE, normalized_distance
from lacvid.errors import DatasetError, InputError
from lacvid.lines import INK_THRESHOLD, LineSettings, extract_lines
from lacvid.media import IMAGE_SUFFIXES, natural_key, read_frames, read_image
from lacvid.progress import NULL_PROGRESS, Progress

CACHE_NAME = ".lacvid-cache.zarr"
CACHE_VERSION = 1
MIN_SHOT_FRAMES = 3
VIDEO_SUFFIXES = frozenset({".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".gif"})
K_CHOICES = (1, 2, 3)
K_PROBS = (0.2, 0.6, 0.2)  # K = 2 as in the paper most of the time; 1 and 3 so any K works


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

    def size_for(self, h: int, w: int) -> tuple[int, int]:
        """(h, w) with the short side at ``scale``, aspect kept."""
        s = self.scale / min(h, w)
        return max(self.scale, int(round(h * s))), max(self.scale, int(round(w * s)))

    def frame(self, color: np.ndarray, lines: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """RGB (H, W, 3) and optional drawn lines -> (colour (h, w, 3), lines (h, w), dist (h, w) float16)."""
        h, w = self.size_for(*color.shape[:2])
        full = extract_lines(color, mode="color") if lines is None else extract_lines(lines, mode="lines")
        interp = cv2.INTER_AREA if h <= color.shape[0] else cv2.INTER_LINEAR
        small_lines = cv2.resize(full, (w, h), interpolation=interp)  # (h, w) uint8
        small_color = cv2.resize(color, (w, h), interpolation=interp)  # (h, w, 3) uint8
        dist = normalized_distance(small_lines).astype(np.float16)  # (h, w) in [0, 1]
        return small_color, small_lines, dist


def fingerprint(clips: list[ClipSource], pre: Preprocess, root: Path) -> str:
    """Hash of source names, sizes, mtimes and every setting the cached arrays depend on."""
    h = hashlib.sha256()
    settings = {"version": CACHE_VERSION, "pre": asdict(pre), "distance_scale": DEFAULT_SCALE,
                "ink": INK_THRESHOLD, "lines": asdict(LineSettings())}
    h.update(json.dumps(settings, sort_keys=True).encode())
    for clip in clips:
        for f in clip.files():
            try:
                st = f.stat()
            except OSError as exc:
                raise DatasetError(f"cannot read {f} ({exc.strerror}); check the dataset's permissions") from exc
            h.update(f"{f.relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


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


def _gray(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all() \
        else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _new_arrays(group: Any, h: int, w: int, n: int) -> tuple[Any, Any, Any]:
    color = group.create_array("color", shape=(n, h, w, 3), chunks=(1, h, w, 3), dtype="uint8")
    lines = group.create_array("lines", shape=(n, h, w), chunks=(1, h, w), dtype="uint8")
    dist = group.create_array("dist", shape=(n, h, w), chunks=(1, h, w), dtype="float16")
    return color, lines, dist


def _build_frames(group: Any, clip: ClipSource, pre: Preprocess, task: Any) -> list[list[int]]:
    arrays = None
    size = None
    for i, cpath in enumerate(clip.color):
        color = _read_rgb(cpath)
        if size is None:
            size = color.shape[:2]
        elif color.shape[:2] != size:
            raise DatasetError(f"{cpath} is {color.shape[1]}x{color.shape[0]} but the shot's first frame is "
                               f"{size[1]}x{size[0]}; all frames of a shot must have one size")
        lines = None
        if clip.lines is not None:
            lines = _gray(_read_rgb(clip.lines[i]))
            if lines.shape != size:
                raise DatasetError(f"{clip.lines[i]} is {lines.shape[1]}x{lines.shape[0]} but its colour frame "
                                   f"{cpath} is {size[1]}x{size[0]}; line art and colour must match")
        c, ln, d = pre.frame(color, lines)
        if arrays is None:
            arrays = _new_arrays(group, *ln.shape, len(clip.color))
        arrays[0][i], arrays[1][i], arrays[2][i] = c, ln, d
        task.advance()
    return [[0, len(clip.color)]]


def _build_video(group: Any, clip: ClipSource, pre: Preprocess, task: Any, progress: Progress) -> list[list[int]]:
    from lacvid.shots import ShotDetector  # imported late: only video datasets need it

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
            attrs = dict(zarr.open_group(str(path), mode="r").attrs)
        except Exception:  # noqa: BLE001 - any unreadable store is simply not a finished one
            return False
        return attrs.get("complete") is True and (fp is None or attrs.get("fingerprint") == fp)

    @classmethod
    def build(cls, root: Path | str, pre: Preprocess = Preprocess(), cache_path: Path | str | None = None,
              progress: Progress = NULL_PROGRESS) -> FrameCache:
        """Reuse the store when its fingerprint matches and it is complete; otherwise (re)build it."""
        root = Path(root)
        clips = discover(root)
        path = Path(cache_path) if cache_path is not None else root / CACHE_NAME
        fp = fingerprint(clips, pre, root)
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
            raise DatasetError(f"cannot write the training cache {path} ({exc.strerror or exc}); make the dataset "
                               "folder writable or pass --cache PATH") from exc
        store.attrs.update({"fingerprint": fp, "complete": False, "preprocess": asdict(pre)})
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
        store.attrs["clips"] = index
        store.attrs["complete"] = True  # last: a crash before this line leaves an unfinished store

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


# --------------------------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SampleSettings:
    """How training samples are drawn."""

    size: int = 256  # square crop, px
    window: int = 1  # target frames: 1 (colour stage) or 3 (temporal stage: t-1, t, t+1)
    max_span: int = 8  # largest distance between the two outer references, frames
    flip: bool = True
    fixed_k: int | None = None  # None: K in K_CHOICES with K_PROBS
    seed: int = 0


def batch_k(seed: int, step: int, fixed: int | None = None) -> int:
    """The number of references of every sample of batch ``step`` (one K per batch, so it stacks)."""
    if fixed is not None:
        return fixed
    rng = np.random.default_rng([seed, step, 7])
    return int(rng.choice(K_CHOICES, p=K_PROBS))


def pick_frames(rng: np.random.Generator, n: int, k: int, window: int, max_span: int
                ) -> tuple[list[int], list[int]]:
    """(target frames, reference frames) inside a shot of ``n`` frames; refs bracket the targets."""
    if n < MIN_SHOT_FRAMES:
        raise ValueError(f"a shot needs at least {MIN_SHOT_FRAMES} frames, got {n}")
    half = window // 2
    if window == 1:
        span = int(rng.integers(2, max(2, min(max_span, n - 1)) + 1))  # q - p >= 2 leaves a frame between
        p = int(rng.integers(0, n - span))
        q = p + span
        t = int(rng.integers(p + 1, q))
        targets = [t]
    else:
        t = int(rng.integers(half, n - half))
        targets = list(range(t - half, t + half + 1))
        room = max(0, max_span - window - 1)
        p = max(0, targets[0] - int(rng.integers(0, room // 2 + 1)))
        q = min(n - 1, targets[-1] + int(rng.integers(0, room // 2 + 1)))
        if window == 3 and n >= 5 and rng.random() < 0.5:  # often keep the keys off the window itself
            p, q = max(0, min(p, targets[0] - 1)), min(n - 1, max(q, targets[-1] + 1))
    if k == 1:
        refs = [p if rng.random() < 0.5 else q]
    else:
        refs = [p, q]
        if k == 3:
            others = [i for i in range(n) if i not in (p, q, *targets)]
            refs.append(int(rng.choice(others)) if others else p)
    return targets, refs


class TripletDataset(Dataset):
    """Samples for the trainer, indexed by ``(step, slot)`` (see ``StepSampler``).

    Each item: ``lines`` (T, 1, S, S), ``dist`` (T, 1, S, S), ``color`` (T, 3, S, S) for the
    target frames (T = window) and ``ref_lines`` (K, 1, S, S), ``ref_colors`` (K, 3, S, S),
    ``ref_dists`` (K, 1, S, S); float32 in [0, 1].
    """

    def __init__(self, cache: FrameCache, settings: SampleSettings) -> None:
        self.cache, self.settings = cache, settings
        small = [c for c, (h, w) in cache.sizes.items() if min(h, w) < settings.size]
        if small:
            h, w = cache.sizes[small[0]]
            raise DatasetError(f"cached frames of {cache.path} are {w}x{h}, smaller than the crop size "
                               f"{settings.size}; lower --size or raise --scale")
        usable = [s for s in cache.shots if len(s) >= max(MIN_SHOT_FRAMES, settings.window)]
        if not usable:
            raise DatasetError(f"no shot in {cache.path} has the {settings.window} frames a sample needs")
        self.shots = usable
        lengths = np.array([len(s) for s in usable], np.float64)
        self._p = lengths / lengths.sum()  # longer shots hold more distinct samples

    def __len__(self) -> int:  # nominal: the sampler is infinite
        return 1 << 62

    def __getitem__(self, key: tuple[int, int]) -> dict[str, torch.Tensor]:
        step, slot = key
        s = self.settings
        rng = np.random.default_rng([s.seed, step, slot])
        k = batch_k(s.seed, step, s.fixed_k)
        shot = self.shots[int(rng.choice(len(self.shots), p=self._p))]
        targets, refs = pick_frames(rng, len(shot), k, s.window, s.max_span)
        if s.window > 1 and rng.random() < 0.5:
            targets = targets[::-1]  # time runs either way in a window
        h, w = self.cache.sizes[shot.clip]
        y0, x0 = int(rng.integers(0, h - s.size + 1)), int(rng.integers(0, w - s.size + 1))
        flip = s.flip and rng.random() < 0.5
        group = self.cache.group(shot.clip)
        frames = [shot.start + i for i in (*targets, *refs)]
        crop = (slice(y0, y0 + s.size), slice(x0, x0 + s.size))
        color = np.stack([group["color"][(f, *crop)] for f in frames])  # (N, S, S, 3) uint8
        lines = np.stack([group["lines"][(f, *crop)] for f in frames])  # (N, S, S) uint8
        dist = np.stack([group["dist"][(f, *crop)] for f in frames])  # (N, S, S) float16
        if flip:
            color, lines, dist = color[:, :, ::-1], lines[:, :, ::-1], dist[:, :, ::-1]
        color_t = torch.from_numpy(np.ascontiguousarray(color)).permute(0, 3, 1, 2).float() / 255  # (N, 3, S, S)
        lines_t = torch.from_numpy(np.ascontiguousarray(lines))[:, None].float() / 255  # (N, 1, S, S)
        dist_t = torch.from_numpy(np.ascontiguousarray(dist).astype(np.float32))[:, None]  # (N, 1, S, S)
        n = len(targets)
        return {"lines": lines_t[:n], "dist": dist_t[:n], "color": color_t[:n],
                "ref_lines": lines_t[n:], "ref_colors": color_t[n:], "ref_dists": dist_t[n:]}


class StepSampler(Sampler):
    """Yields ``(step, slot)`` keys forever from ``start_step``: rank ``r`` gets slots r*B .. r*B+B-1.

    Batches are a function of the step alone, so ``--resume`` needs only the step, and the
    ranks of a DDP run draw disjoint samples.
    """

    def __init__(self, batch: int, start_step: int = 0, rank: int = 0) -> None:
        self.batch, self.start, self.rank = batch, start_step, rank

    def __iter__(self) -> Iterator[tuple[int, int]]:
        step = self.start
        while True:
            for i in range(self.batch):
                yield step, self.rank * self.batch + i
            step += 1


def loader(dataset: TripletDataset, batch: int, start_step: int = 0, rank: int = 0,
           workers: int = 0) -> torch.utils.data.DataLoader:
    """An infinite DataLoader of batches, step ``start_step`` first."""
    return torch.utils.data.DataLoader(
        dataset, batch_size=batch, sampler=StepSampler(batch, start_step, rank), num_workers=workers,
        persistent_workers=False, prefetch_factor=4 if workers else None, pin_memory=False)
