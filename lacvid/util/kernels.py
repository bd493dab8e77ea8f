"""Numba kernels for per-pixel work that no single OpenCV or SciPy call does.

Each kernel is private (``_name``), compiled with Numba's on-disk cache (``kernel``: ``cache=True``
wherever a cache folder is writable, see ``CACHE``) so only the first run on a machine pays for
compilation, and sits behind a public wrapper that checks shape, dtype and contiguity and raises
``ValueError`` with a clear message: a kernel fed the wrong dtype would otherwise compile a new
specialisation or read garbage.

Threads: a row kernel (``RowKernel``) splits its rows into ``threads`` chunks given as an argument
(calling ``numba.get_num_threads()`` inside a cached kernel makes it uncacheable). It is compiled
twice from one source: serially for one thread (the default, and every call lacvid makes), and
with ``parallel=True`` only when more threads are asked for, run inside ``numba_threads``, which
sets numba's pool to that many threads and restores it. The chunks, hence the results, are the
same either way; a parallel compile costs a first run about a second more per kernel (measured:
the chamfer kernel 3.7 s parallel with its in-kernel row sum, 0.4 s serial without).
Kernels avoid NumPy calls whose typing is slow to compile (``acc.sum(axis=0)`` alone cost 2.5 s):
the wrapper sums the chunks' rows in the same order instead (``sum_rows``).
"""

from __future__ import annotations

import os
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numba
import numpy as np
from numba import njit, prange

from lacvid.util.cache_home import default_cache_dir
from lacvid.util.checks import check_array, check_same_shape
from lacvid.util.cpus import thread_limit


def _probe() -> None:  # pragma: no cover  (never run: only its source file matters)
    pass


def _numba_cache() -> bool:
    """Whether lacvid's kernels can use Numba's on-disk cache, making sure they can where possible.

    Numba caches beside the source (``__pycache__``), else in ``$NUMBA_CACHE_DIR`` or its user-wide
    folder; where none is writable (a read-only install run by a user without a writable home), a
    ``cache=True`` kernel raises at import ("no locator available"). Then lacvid's own cache folder
    (``default_cache_dir()/numba``) is used; where that is not writable either, kernels compile on
    every run instead of failing.
    """
    try:
        njit(cache=True)(_probe)
        return True
    except RuntimeError:  # no locator: nowhere Numba would look is writable
        pass
    folder = Path(default_cache_dir()) / "numba"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    old = numba.config.CACHE_DIR
    numba.config.CACHE_DIR = str(folder)
    try:
        njit(cache=True)(_probe)
        return True
    except RuntimeError:
        numba.config.CACHE_DIR = old
        return False


CACHE = _numba_cache()


def kernel(**flags: Any) -> Callable:
    """``numba.njit`` with the on-disk cache wherever one is writable (``CACHE``): every lacvid kernel's decorator."""
    return njit(cache=CACHE, **flags)


class RowKernel:
    """One kernel source whose last argument is ``threads``, the chunks its rows split into, compiled
    serially for one thread and with ``parallel=True`` (on first use) for more: see the module doc."""

    def __init__(self, source: Callable, **flags: Any) -> None:
        # The serial twin is the same code under another name, so Numba caches the two apart.
        twin = types.FunctionType(source.__code__, source.__globals__, source.__name__ + "_serial",
                                  source.__defaults__, source.__closure__)
        twin.__qualname__ = source.__qualname__ + "_serial"
        self.serial = kernel(**flags)(twin)
        self.parallel = kernel(parallel=True, **flags)(source)

    def __call__(self, *args: Any, threads: int | None = None) -> Any:
        n = resolve_threads(threads)
        if n == 1:  # no thread pool to start or restore
            return self.serial(*args, 1)
        with numba_threads(n):
            return self.parallel(*args, n)


def sum_rows(acc: np.ndarray) -> np.ndarray:
    """``acc``'s rows added in order, first to last: bit for bit what a kernel's ``acc.sum(axis=0)`` gave."""
    out = acc[0].copy()
    for row in acc[1:]:
        out += row
    return out


def default_threads() -> int:
    """Threads for kernels when the caller does not say: ``LACVID_THREADS``, else 1 (never past ``--threads``).

    One, because these kernels take 0.05 ms (256 px) to 3.5 ms (1080p) on one thread, while
    waking numba's OpenMP pool on a loaded 2-core machine was measured at 17-18 ms a call; a
    caller with idle cores and large images passes ``threads`` (or sets the variable).
    """
    try:
        n = int(os.environ.get("LACVID_THREADS", "1"))
    except ValueError:
        n = 1
    return max(1, min(n, thread_limit(), numba.config.NUMBA_NUM_THREADS))


KERNEL_MIN_PIXELS = 1 << 18  # frames smaller than this (about 700x380) run a per-frame pass as NumPy


def worth_compiling(pixels: int) -> bool:
    """Whether a per-frame pass over ``pixels`` pixels runs as its Numba kernel rather than its NumPy form
    (both give the same bits). A kernel saves its NumPy form's temporaries, tens of ms a pass at 1080p but
    about a millisecond on a frame below ``KERNEL_MIN_PIXELS``, and compiling it costs 0.1-0.5 s once per
    machine: on small frames a new user's first run would spend more compiling than the kernel ever saves it.
    """
    return pixels >= KERNEL_MIN_PIXELS


def resolve_threads(threads: int | None) -> int:
    """``threads`` checked (a positive integer) and capped at numba's pool; None = ``default_threads()``."""
    if threads is None:
        threads = default_threads()
    if not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    return int(min(threads, numba.config.NUMBA_NUM_THREADS))


@contextmanager
def numba_threads(threads: int | None) -> Iterator[int]:
    """Run a parallel kernel on ``threads`` threads (see ``resolve_threads``), restoring numba's
    thread count afterwards so one caller's choice never leaks into another's."""
    n = resolve_threads(threads)
    old = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        yield n
    finally:
        numba.set_num_threads(old)


# ----------------------------------------------------------------------------- speck removal


def _remove_small_components_rows(labels, areas, min_area, threads):  # (H, W) int32, (N,) int32
    h, w = labels.shape
    out = np.zeros((h, w), np.uint8)
    step = (h + threads - 1) // threads
    for c in prange(threads):
        for y in range(c * step, min(h, (c + 1) * step)):
            for x in range(w):
                lab = labels[y, x]
                if lab > 0 and areas[lab] >= min_area:
                    out[y, x] = 1
    return out


_remove_small_components = RowKernel(_remove_small_components_rows, nogil=True)


def remove_small_components(labels: np.ndarray, areas: np.ndarray, min_area: int,
                            threads: int | None = None) -> np.ndarray:
    """Ink mask uint8 ``(H, W)`` (1 = ink) keeping components of ``labels`` with area >= ``min_area``.

    ``labels`` int32 ``(H, W)`` and ``areas`` int32 ``(N,)`` come from
    ``cv2.connectedComponentsWithStats``; label 0 is background. One pass, no temporaries.
    """
    check_array(labels, "labels", np.int32, ("H", "W"), contiguous=True)
    check_array(areas, "areas", np.int32, ("N",), contiguous=True)
    if labels.size and int(labels.max()) >= areas.shape[0]:
        raise ValueError(f"labels reach {int(labels.max())} but areas has only {areas.shape[0]} entries")
    if labels.size and int(labels.min()) < 0:
        raise ValueError("labels must be >= 0")
    return _remove_small_components(labels, areas, int(min_area), threads=threads)


# ----------------------------------------------------------------------------- chamfer distance


def _chamfer_sums_rows(mask_a, dist_a, mask_b, dist_b, dy, dx, clip, radius, threads):
    # Compare A[y, x] with B[y + dy, x + dx] over the overlap of the two frames.
    h, w = mask_a.shape
    y0, y1 = max(0, -dy), min(h, h - dy)
    x0, x1 = max(0, -dx), min(w, w - dx)
    rows = max(0, y1 - y0)
    step = (rows + threads - 1) // threads
    acc = np.zeros((threads, 6), np.float64)  # per chunk: sum d(b->a), n_b, far_b, sum d(a->b), n_a, far_a
    for c in prange(threads):
        s_ba = 0.0
        n_b = 0.0
        f_b = 0.0
        s_ab = 0.0
        n_a = 0.0
        f_a = 0.0
        for y in range(y0 + c * step, min(y1, y0 + (c + 1) * step)):
            yb = y + dy
            for x in range(x0, x1):
                xb = x + dx
                if mask_b[yb, xb]:
                    d = dist_a[y, x]
                    s_ba += d if d < clip else clip
                    n_b += 1.0
                    if d > radius:
                        f_b += 1.0
                if mask_a[y, x]:
                    d = dist_b[yb, xb]
                    s_ab += d if d < clip else clip
                    n_a += 1.0
                    if d > radius:
                        f_a += 1.0
        acc[c, 0] = s_ba
        acc[c, 1] = n_b
        acc[c, 2] = f_b
        acc[c, 3] = s_ab
        acc[c, 4] = n_a
        acc[c, 5] = f_a
    return acc  # (threads, 6): summed by the wrapper (sum_rows)


_chamfer_sums = RowKernel(_chamfer_sums_rows, nogil=True)


@dataclass(frozen=True)
class Chamfer:
    """Directed line-to-line distances between frames A and B (see ``chamfer_sums``)."""

    sum_b_to_a: float  # sum over B's ink of the distance to A's nearest ink (clipped)
    ink_b: int
    far_b: int  # B's ink pixels farther than ``radius`` from any A ink: new lines
    sum_a_to_b: float
    ink_a: int
    far_a: int  # A's ink pixels farther than ``radius`` from any B ink: vanished lines

    def mean(self) -> float:
        """Symmetric chamfer distance (px); ``inf`` when either frame has no ink."""
        if self.ink_a == 0 or self.ink_b == 0:
            return float("inf")
        return 0.5 * (self.sum_b_to_a / self.ink_b + self.sum_a_to_b / self.ink_a)

    def changed(self) -> float:
        """Edge change ratio in [0, 1]: the larger share of lines that appeared or vanished."""
        if self.ink_a == 0 or self.ink_b == 0:
            return 1.0 if self.ink_a != self.ink_b else 0.0
        return max(self.far_b / self.ink_b, self.far_a / self.ink_a)


def chamfer_sums(mask_a: np.ndarray, dist_a: np.ndarray, mask_b: np.ndarray, dist_b: np.ndarray,
                 shift: tuple[int, int] = (0, 0), clip: float = np.inf, radius: float = 2.0,
                 threads: int | None = None) -> Chamfer:
    """Both directed chamfer sums between two line masks, with B shifted by ``shift=(dy, dx)``.

    Compares ``A[y, x]`` with ``B[y + dy, x + dx]`` over the frames' overlap: for every ink pixel
    of each frame, the distance to the other frame's nearest ink, clipped at ``clip``, and
    whether it exceeds ``radius``. Masks are uint8 or bool ``(H, W)`` (non-zero = ink);
    distances float32 ``(H, W)`` to the nearest ink of the same frame
    (``lacvid.preprocess.distance.distance_transform``). The shift lets a caller cancel a camera pan;
    fusing both directions reads each image once.
    """
    check_array(mask_a, "mask_a", (np.uint8, np.bool_), ("H", "W"), contiguous=True)
    check_array(mask_b, "mask_b", (np.uint8, np.bool_), ("H", "W"), contiguous=True)
    check_array(dist_a, "dist_a", np.float32, ("H", "W"), contiguous=True)
    check_array(dist_b, "dist_b", np.float32, ("H", "W"), contiguous=True)
    check_same_shape(mask_a=mask_a, dist_a=dist_a, mask_b=mask_b, dist_b=dist_b)
    dy, dx = (int(v) for v in shift)
    r = sum_rows(_chamfer_sums(mask_a.view(np.uint8), dist_a, mask_b.view(np.uint8), dist_b, dy, dx, float(clip),
                               float(radius), threads=threads))
    return Chamfer(float(r[0]), int(r[1]), int(r[2]), float(r[3]), int(r[4]), int(r[5]))


# ----------------------------------------------------------------------------- ink over paper, per pixel


@kernel(nogil=True)
def _paper_darkness(rgb, paper):  # (H, W, 3) uint8, (H, W, 3) float32 -> (H, W) float32
    h, w = rgb.shape[:2]
    out = np.empty((h, w), np.float32)
    zero, one = np.float32(0.0), np.float32(1.0)
    for y in range(h):
        for x in range(w):
            d = zero
            for c in range(3):  # the same float32 operations, in the same order, as the numpy form
                v = (paper[y, x, c] - np.float32(rgb[y, x, c])) / paper[y, x, c]
                d = v if c == 0 else max(d, v)
            out[y, x] = min(max(d, zero), one)
    return out


def paper_darkness(rgb: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """float32 (H, W): the darkest channel's share of the paper under it, ``(paper - rgb) / paper``,
    clipped to [0, 1]; bit for bit the numpy expression, in one pass instead of five (H, W, 3) temporaries."""
    _check_colors(rgb=rgb, paper=paper)
    return _paper_darkness(rgb, paper)


@kernel(nogil=True)
def _local_darkness(rgb, local, floor, paper):  # (H, W, 3) uint8 x2, (3,) float32 x2 -> (H, W) float32
    # Every (channel, light, level) answer first, in _paper_levels's then _paper_darkness's float32 steps, each
    # clipped to [0, 1] (the clip of the largest channel is the largest clipped one): 196,608 divisions, not 3 a
    # pixel, then three lookups a pixel (a 1080p frame 10 -> 2.2 ms, the same bits).
    table = np.empty((3, 256, 256), np.float32)
    zero, one = np.float32(0.0), np.float32(1.0)
    for c in range(3):
        for light in range(256):
            p = min(max(np.float32(light), floor[c]), paper[c])
            for level in range(256):
                table[c, light, level] = min(max((p - np.float32(level)) / p, zero), one)
    h, w = rgb.shape[:2]
    out = np.empty((h, w), np.float32)
    for y in range(h):
        for x in range(w):
            d = max(table[0, local[y, x, 0], rgb[y, x, 0]], table[1, local[y, x, 1], rgb[y, x, 1]])
            out[y, x] = max(d, table[2, local[y, x, 2], rgb[y, x, 2]])
    return out


def local_darkness(rgb: np.ndarray, local: np.ndarray, floor: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """``paper_darkness(rgb, paper_levels(local, floor, paper))`` bit for bit, without the float32 (H, W, 3)
    paper levels in between (25 MB at 1080p, written and read again for every drawn frame)."""
    check_array(rgb, "rgb", np.uint8, ("H", "W", 3), contiguous=True)
    check_array(local, "local", np.uint8, ("H", "W", 3), contiguous=True)
    check_same_shape(rgb=rgb, local=local)
    for name, a in (("floor", floor), ("paper", paper)):
        check_array(a, name, np.float32, (3,), contiguous=True)
    if not worth_compiling(rgb.shape[0] * rgb.shape[1]):
        return paper_darkness(rgb, paper_levels(local, floor, paper))
    return _local_darkness(rgb, local, floor, paper)


@kernel(nogil=True)
def _ink_hysteresis(dark, weak_level, strong_level, min_area):  # (H, W) float32, float32 x2, int  # pragma: no cover
    # Each 8-connected component of weak pixels (dark >= weak_level) flooded once, breadth first, from its first
    # pixel in raster order; kept when it holds a strong pixel (dark >= strong_level) or min_area pixels.
    h, w = dark.shape
    state = np.zeros((h, w), np.uint8)  # 0 not weak, 1 weak and not reached, 2 kept, 3 dropped
    weak = 0
    for y in range(h):
        for x in range(w):
            if dark[y, x] >= weak_level:
                state[y, x] = 1
                weak += 1
    queue = np.empty(weak, np.int64)
    for y0 in range(h):
        for x0 in range(w):
            if state[y0, x0] != 1:
                continue
            state[y0, x0] = 3
            queue[0] = y0 * w + x0
            head, tail, strong = 0, 1, False
            while head < tail:
                p = queue[head]
                head += 1
                y, x = p // w, p % w
                if dark[y, x] >= strong_level:
                    strong = True
                for yy in range(max(y - 1, 0), min(y + 2, h)):
                    for xx in range(max(x - 1, 0), min(x + 2, w)):
                        if state[yy, xx] == 1:
                            state[yy, xx] = 3
                            queue[tail] = yy * w + xx
                            tail += 1
            if strong or tail >= min_area:
                for i in range(tail):
                    state[queue[i] // w, queue[i] % w] = 2
    out = np.empty((h, w), np.bool_)
    for y in range(h):
        for x in range(w):
            out[y, x] = state[y, x] == 2
    return out


def ink_hysteresis(dark: np.ndarray, weak_level: float, strong_level: float, min_area: int) -> np.ndarray:
    """bool (H, W): the pixels of ``dark`` (float32 (H, W)) at or above ``weak_level`` whose 8-connected
    component of such pixels holds one at or above ``strong_level`` or at least ``min_area`` pixels: a faint
    stroke kept where it touches confident ink or runs long on its own, a speck of paper grain dropped.

    The same set as labelling the weak pixels (``cv2.connectedComponentsWithStats``) and keeping labels by
    their statistics, without a label image: each component is flooded once (a 1080p drawing: about 4 ms
    against 14 for the labelling alone, its ink being a few percent of the frame)."""
    check_array(dark, "dark", np.float32, ("H", "W"), contiguous=True)
    if not worth_compiling(dark.size):
        weak = (dark >= np.float32(weak_level)).astype(np.uint8)                     # (H, W)
        n, lab, stats, _ = cv2.connectedComponentsWithStats(weak, connectivity=8)
        keep = np.zeros(n, bool)
        keep[lab[(dark >= np.float32(strong_level)) & (weak > 0)]] = True
        keep |= stats[:, cv2.CC_STAT_AREA] >= min_area
        keep[0] = False
        return keep[lab]
    return _ink_hysteresis(dark, np.float32(weak_level), np.float32(strong_level), int(min_area))


@kernel(nogil=True)
def _paper_levels(local, floor, paper):  # (H, W, 3) uint8, (3,) float32 x2 -> (H, W, 3) float32
    h, w = local.shape[:2]
    out = np.empty((h, w, 3), np.float32)
    for y in range(h):
        for x in range(w):
            for c in range(3):
                v = max(np.float32(local[y, x, c]), floor[c])
                out[y, x, c] = min(v, paper[c])
    return out


def paper_levels(local: np.ndarray, floor: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """float32 (H, W, 3): uint8 ``local`` paper levels clamped per channel to [``floor``, ``paper``] (float32 (3,)
    each), bit for bit ``np.minimum(np.maximum(local.astype(np.float32), floor), paper)``; one pass instead of
    three, whose broadcast over a last axis of 3 cost about 15 ms at 1080p. Frames under ``KERNEL_MIN_PIXELS``
    take the NumPy form."""
    check_array(local, "local", np.uint8, ("H", "W", 3), contiguous=True)
    for name, a in (("floor", floor), ("paper", paper)):
        check_array(a, name, np.float32, (3,), contiguous=True)
    if not worth_compiling(local.shape[0] * local.shape[1]):
        out = local.astype(np.float32)
        np.maximum(out, floor, out=out)
        return np.minimum(out, paper, out=out)
    return _paper_levels(local, floor, paper)


@kernel(nogil=True)
def _line_art_levels(dark, mask, stroke, ink_level):  # (H, W) float32, bool; float32 x2 -> (H, W) uint8
    h, w = dark.shape
    out = np.empty((h, w), np.uint8)
    zero, one = np.float32(0.0), np.float32(1.0)
    for y in range(h):
        for x in range(w):
            if mask[y, x]:
                v = min(max(dark[y, x] / stroke, zero), one)
                out[y, x] = np.uint8(np.rint(ink_level * (one - v)))
            else:
                out[y, x] = 255
    return out


def line_art_levels(dark: np.ndarray, mask: np.ndarray, stroke: float, ink_level: float) -> np.ndarray:
    """uint8 (H, W): 255 off ``mask``, on it ``ink_level`` times one minus the darkness's share of ``stroke``,
    rounded; bit for bit the float32 NumPy expression (``preprocess.ink.InkModel.line_art``), in one pass instead
    of six (H, W) temporaries. Frames under ``KERNEL_MIN_PIXELS`` take the NumPy form."""
    check_array(dark, "dark", np.float32, ("H", "W"), contiguous=True)
    check_array(mask, "mask", np.bool_, dark.shape, contiguous=True)
    if not worth_compiling(dark.size):
        ink = np.clip(dark / np.float32(stroke), 0.0, 1.0)
        return np.where(mask, np.rint(np.float32(ink_level) * (1.0 - ink)), 255.0).astype(np.uint8)
    return _line_art_levels(dark, mask, np.float32(stroke), np.float32(ink_level))


def _check_colors(**arrays: np.ndarray) -> None:
    """(H, W, 3) arrays of one size: ``paper`` float32, the others uint8."""
    for name, a in arrays.items():
        check_array(a, name, np.float32 if name == "paper" else np.uint8, ("H", "W", 3), contiguous=True)
    check_same_shape(**arrays)


@kernel(nogil=True)
def _ink_alpha(rgb, paper, ink_rgb, dark, min_dark):
    h, w = rgb.shape[:2]
    out = np.empty((h, w), np.float32)
    zero, one = np.float32(0.0), np.float32(1.0)
    for y in range(h):
        for x in range(w):
            s0 = paper[y, x, 0] - np.float32(ink_rgb[y, x, 0])
            s1 = paper[y, x, 1] - np.float32(ink_rgb[y, x, 1])
            s2 = paper[y, x, 2] - np.float32(ink_rgb[y, x, 2])
            num = (((paper[y, x, 0] - np.float32(rgb[y, x, 0])) * s0
                    + (paper[y, x, 1] - np.float32(rgb[y, x, 1])) * s1)
                   + (paper[y, x, 2] - np.float32(rgb[y, x, 2])) * s2)
            den = max((s0 * s0 + s1 * s1) + s2 * s2, one)
            a = min(max(num / den, zero), one)
            out[y, x] = zero if dark[y, x] < min_dark else a
    return out


def ink_alpha(rgb: np.ndarray, paper: np.ndarray, ink_rgb: np.ndarray, dark: np.ndarray,
              min_dark: float) -> np.ndarray:
    """float32 (H, W): how much of ``ink_rgb`` covers the paper at each pixel (``rgb`` projected on the
    line from ``paper`` to ``ink_rgb``, clipped to [0, 1]; 0 where ``dark`` < ``min_dark``), in float32
    exactly as the numpy form computes it."""
    _check_colors(rgb=rgb, paper=paper, ink_rgb=ink_rgb)
    check_array(dark, "dark", np.float32, ("H", "W"), contiguous=True)
    check_same_shape(rgb=rgb, dark=dark)
    return _ink_alpha(rgb, paper, ink_rgb, dark, np.float32(min_dark))


# ----------------------------------------------------------------------------- distinct colours


_BLOCK_BITS = 8  # a packed colour's low 8 bits index a block of the lookup table, its high 16 bits (R, G) which


@kernel(nogil=True)
def _color_blocks(rgb):  # (N, 3) uint8 -> (2**16,) int32 block per (R, G), -1 for none; blocks made  # pragma: no cover
    block = np.full(1 << 16, -1, np.int32)
    blocks = 0
    for i in range(rgb.shape[0]):
        hi = (np.int32(rgb[i, 0]) << 8) | np.int32(rgb[i, 1])  # the packed colour >> _BLOCK_BITS
        if block[hi] < 0:
            block[hi] = blocks
            blocks += 1
    return block, blocks


@kernel(nogil=True)
def _color_ids(rgb, block, table):  # (N, 3) uint8, (2**16,) int32, (blocks * 2**8,) int32 zeros  # pragma: no cover
    n = rgb.shape[0]                 # -> (N,) int32 ids, (U,) int32 packed colours in first-seen order
    low = (1 << _BLOCK_BITS) - 1
    ids = np.empty(n, np.int32)
    seen = np.empty(n, np.int32)
    u = 0
    for i in range(n):
        p = (np.int32(rgb[i, 0]) << 16) | (np.int32(rgb[i, 1]) << 8) | np.int32(rgb[i, 2])
        at = (block[p >> _BLOCK_BITS] << _BLOCK_BITS) | (p & low)
        j = table[at]  # 0: not seen yet, else its id + 1
        if j == 0:
            seen[u] = p
            u += 1
            table[at] = u
            j = u
        ids[i] = j - 1
    return ids, seen[:u].copy()


def distinct_colors(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct colours of uint8 (N, 3) ``rgb``, ascending as packed 0xRRGGBB, and each pixel's
    index among them: ``np.unique``'s answer on packed colours, by a lookup table instead of a sort
    of every pixel (a 1080p frame: 230 -> 15 ms)."""
    check_array(rgb, "rgb", np.uint8, ("N", 3), contiguous=True)
    # The lookup table holds only the blocks of 256 colours some pixel falls in: a whole 2**24 table (64 MB,
    # its pages zeroed as first touched) cost 15-30 ms a 1080p key of ~1000 colours where transparent huge
    # pages zero 2 MB a touch, the blocks about 2 ms. (Colours spread over every (R, G) still fill all 64 MB.)
    block, blocks = _color_blocks(rgb)                 # (2**16,), int
    table = np.zeros(blocks << _BLOCK_BITS, np.int32)  # NumPy's zeros: pages zeroed when first touched
    ids, packed = _color_ids(rgb, block, table)        # (N,), (U,) in first-seen order
    order = np.argsort(packed, kind="stable")
    rank = np.empty(len(packed), np.int32)
    rank[order] = np.arange(len(packed), dtype=np.int32)
    packed = packed[order]
    colors = np.stack([packed >> 16, (packed >> 8) & 255, packed & 255], 1).astype(np.uint8)  # (U, 3)
    return colors, rank[ids]


# ----------------------------------------------------------------------------- nearest source's value


@kernel(nogil=True)
def _gather_by_label(label, sources, values):  # (N,) int32, (N,) bool, (N, C) -> (N, C)
    n, c = values.shape
    top = 0
    for i in range(n):
        top = max(top, label[i])
    table = np.zeros((top + 1, c), values.dtype)
    for i in range(n):  # in pixel order: a label shared by two sources keeps the later's value, as numpy's
        if sources[i]:
            for k in range(c):
                table[label[i], k] = values[i, k]
    out = np.empty((n, c), values.dtype)
    for i in range(n):
        for k in range(c):
            out[i, k] = table[label[i], k]
    return out


def gather_by_label(label: np.ndarray, sources: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` ((H, W) or (H, W, C), any dtype) at every pixel taken from the ``sources`` pixel
    (bool (H, W)) that shares its ``label`` (int32 (H, W), >= 0): ``table[label[sources]] = values[sources];
    table[label]`` in numpy, bit for bit, in one pass and without the two masked (H, W) gathers
    (``preprocess.distance.nearest_values``: 44 -> 17 ms at 1080p)."""
    check_array(label, "label", np.int32, ("H", "W"), contiguous=True)
    check_array(sources, "sources", np.bool_, label.shape, contiguous=True)
    if values.shape[:2] != label.shape or values.ndim not in (2, 3):
        raise ValueError(f"values must be {label.shape} or {label.shape} + (C,), got {values.shape}")
    flat = np.ascontiguousarray(values).reshape(label.size, -1)                     # (N, C)
    out = _gather_by_label(label.reshape(-1), sources.reshape(-1), flat)            # (N, C)
    return out.reshape(values.shape)


# ----------------------------------------------------------------------------- coloured lines


@kernel(nogil=True)
def _ink_classes(rgb, strong, paper, min_chroma, min_spread, halved):  # pragma: no cover
    # (H, W, 3) uint8, (H, W) bool, (3,) float32, float32 x2, bool -> (H, W, 4) uint8, int (pixels coloured).
    # Only strong pixels are measured (a few percent of a drawing): every other pixel is its RGB and class 0,
    # copied (1080p: 1.9 ms, where measuring every pixel in a vectorised loop took 6.5).
    h, w = strong.shape
    out = np.empty((h, w, 4), np.uint8)
    tiny = np.float32(1.0 / 255.0)
    full = np.float32(255.0)
    colored = 0
    if not halved:  # each pixel on its own: a loop apart (with the neighbourhood's branch in it, 3.7 ms)
        for y in range(h):
            for x in range(w):
                r, g, b = rgb[y, x, 0], rgb[y, x, 1], rgb[y, x, 2]
                out[y, x, 0], out[y, x, 1], out[y, x, 2] = r, g, b
                c = 0
                if strong[y, x]:
                    dr = (paper[0] - np.float32(r)) / paper[0]
                    dg = (paper[1] - np.float32(g)) / paper[1]
                    db = (paper[2] - np.float32(b)) / paper[2]
                    top = max(max(dr, dg), db)
                    unequal = top - min(min(dr, dg), db)
                    if unequal * full >= min_chroma and unequal / max(top, tiny) >= min_spread:
                        c = 1
                        colored += 1
                out[y, x, 3] = c
        return out, colored
    for y in range(h):
        for x in range(w):
            out[y, x, 0], out[y, x, 1], out[y, x, 2] = rgb[y, x, 0], rgb[y, x, 1], rgb[y, x, 2]
            out[y, x, 3] = 0
            if not strong[y, x]:
                continue
            # each channel's darkening as a share of its paper
            dr = (paper[0] - np.float32(rgb[y, x, 0])) / paper[0]
            dg = (paper[1] - np.float32(rgb[y, x, 1])) / paper[1]
            db = (paper[2] - np.float32(rgb[y, x, 2])) / paper[2]
            top = max(max(dr, dg), db)
            unequal = top - min(min(dr, dg), db)
            coloured = unequal * full >= min_chroma and unequal / max(top, tiny) >= min_spread
            # Colour kept at half resolution (4:2:0 video): a thin line's share of it is spread over its 2x2
            # block and the blocks beside it, where the paper took it; summed over them it is the line's again.
            y0, x0 = y - y % 2 - 1, x - x % 2 - 1
            sr, sg, sb = np.float32(0.0), np.float32(0.0), np.float32(0.0)
            for yy in range(max(y0, 0), min(y0 + 4, h)):
                for xx in range(max(x0, 0), min(x0 + 4, w)):
                    sr += (paper[0] - np.float32(rgb[yy, xx, 0])) / paper[0]
                    sg += (paper[1] - np.float32(rgb[yy, xx, 1])) / paper[1]
                    sb += (paper[2] - np.float32(rgb[yy, xx, 2])) / paper[2]
            stop = max(max(sr, sg), sb)
            sunequal = stop - min(min(sr, sg), sb)
            if sunequal * full >= min_chroma and sunequal / max(stop, tiny) >= min_spread:
                coloured = True
                # The line's colour: its own darkness in the neighbourhood's balance.
                scale = top / max(stop, tiny)
                for c, sc in ((0, sr), (1, sg), (2, sb)):
                    v = paper[c] * (np.float32(1.0) - sc * scale)
                    out[y, x, c] = np.uint8(min(max(v + np.float32(0.5), np.float32(0.0)), full))
            if coloured:
                out[y, x, 3] = 1
                colored += 1
    return out, colored


def ink_classes(rgb: np.ndarray, strong: np.ndarray, paper: np.ndarray, min_chroma: float,
                min_spread: float, halved: bool = False) -> tuple[np.ndarray, int]:
    """uint8 (H, W, 4): each pixel's RGB and, fourth, 1 where it is strong ink of a coloured line, in one pass.

    A coloured line darkens the ``paper`` (float32 (3,), each channel >= 1) unequally across channels, as a
    share of each channel's paper: the shares differ by ``min_chroma`` / 255 or more, and by ``min_spread`` or
    more of the largest. That balance is the line's own whatever its coverage (a stroke mixed half with the
    paper darkens every channel half as much), so the anti-aliased edge of a blue-grey line is as coloured as
    its core, where a saturation test fails it; and it is the ink's, not the paper's (black ink on tinted
    paper darkens every channel by the same share). ``halved``: the drawing's colour was kept at half
    resolution (a 4:2:0 video, ``preprocess.ink.halved_chroma``), so a thin line gave most of its colour to
    the paper beside it: each strong pixel is measured again on its 4x4 neighbourhood (its 2x2 chroma block
    and a pixel of each block around it), the shares summed, where that colour lies; where the sum's balance
    passes, the pixel is coloured and its RGB is its own darkness in that balance (the line's colour before
    the video spread it). The float32 arithmetic numpy does, compared as numpy compares. Also how many pixels are
    coloured (0: the drawing's strong ink is all black or grey)."""
    check_array(rgb, "rgb", np.uint8, ("H", "W", 3), contiguous=True)
    check_array(strong, "strong", np.bool_, rgb.shape[:2], contiguous=True)
    out, colored = _ink_classes(rgb, strong, np.ascontiguousarray(paper, np.float32), np.float32(min_chroma),
                                np.float32(min_spread), bool(halved))
    return out, int(colored)
