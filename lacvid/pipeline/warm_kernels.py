"""A first run's Numba kernels compiled on a second core while the first core scans the clip.

A new user's first ``colorize`` of a small clip is mostly Numba compiling: about 22 kernels, one
after another, 0.2-0.6 s each on one core (``benchmarks/first_run.py``), each cached on disk for
every later run. The kernels are met in pipeline order (the scan's first, compositing's last), so
a second process that compiles them in the *reverse* order into the same on-disk cache meets the
run in the middle: when the run reaches a kernel the helper has saved, Numba loads it (a few ms)
instead of compiling it. Numba writes its cache files by atomic rename, so the two processes never
see half a file; at worst both compile one kernel.

``KERNELS`` lists each kernel with the argument types a drawing's colorize calls it with;
``tests/pipeline/test_warm_kernels.py`` colours a clip after the helper and fails when a kernel
or a signature is missing here (a new kernel belongs in this list). The helper starts only where
it can help: some kernel of the list is not in the on-disk cache, the cache is on, and a second
CPU is there (``start``); ``LACVID_WARM=0`` turns it off.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from numba import types

from lacvid.compose import flat, held, layers, regions
from lacvid.preprocess import distance
from lacvid.propagate import evidence, palette, segments
from lacvid.util import kernels, store
from lacvid.util.cpus import thread_limit


def _variant(row_kernel: kernels.RowKernel) -> Any:
    """The twin of a row kernel that calls without ``threads`` run: serial for one thread (the default),
    parallel where ``LACVID_THREADS`` asks for more (the helper inherits the run's environment)."""
    return row_kernel.serial if kernels.resolve_threads(None) == 1 else row_kernel.parallel


def _c(dtype: types.Type, ndim: int) -> types.Array:
    return types.Array(dtype, ndim, "C")  # what a C-contiguous, writable NumPy array types as


U8, I32, I64, U64, F32, F64, B = (types.uint8, types.int32, types.int64, types.uint64, types.float32, types.float64,
                                   types.boolean)

# (kernel, argument types), in the reverse of the order a drawing's colorize first calls them:
# compositing's last kernels first, the scan's first kernel last.
KERNELS: list[tuple[Callable[[], Any], tuple[types.Type, ...]]] = [
    (lambda: regions._region_sums_kernel, (_c(I32, 2), _c(F32, 2), _c(I32, 1), _c(I32, 1), I64)),
    (lambda: layers._drawing_ink, (_c(B, 2), _c(U8, 3), _c(F32, 2), _c(F32, 2))),
    (lambda: layers._paint_layer, (_c(U8, 3),)),
    (lambda: kernels._ink_alpha, (_c(U8, 3), _c(F32, 3), _c(U8, 3), _c(F32, 2), F32)),
    (lambda: kernels._ink_classes, (_c(U8, 3), _c(B, 2), _c(F32, 1), F32, F32, B)),
    (lambda: kernels._gather_by_label, (_c(I32, 1), _c(B, 1), _c(U8, 2))),
    (lambda: regions._take_rows_kernel, (_c(U8, 2), _c(I32, 1))),
    (lambda: _variant(regions._sampled_votes_kernel),
     (_c(I32, 2), _c(F32, 2), _c(I32, 2), _c(I32, 1), _c(I32, 1), _c(F32, 2), _c(I32, 1), _c(I32, 1), I64, I64, I64)),
    (lambda: layers._flatten, (_c(U8, 3), _c(U8, 3), _c(U8, 2), B)),
    (lambda: kernels._color_blocks, (_c(U8, 2),)),
    (lambda: kernels._color_ids, (_c(U8, 2), _c(I32, 1), _c(I32, 1))),
    (lambda: kernels._gather_by_label, (_c(I32, 1), _c(B, 1), _c(I32, 2))),
    (lambda: regions._merge_small_kernel, (_c(I32, 2), _c(B, 2), _c(B, 1), _c(I32, 1), I64)),
    (lambda: regions._grow_kernel, (_c(I32, 2), _c(B, 2))),
    (lambda: regions._grow_regions, (_c(I32, 2), _c(B, 2), I64)),
    (lambda: kernels._paper_darkness, (_c(U8, 3), _c(F32, 3))),
    (lambda: _variant(kernels._chamfer_sums), (_c(U8, 2), _c(F32, 2), _c(U8, 2), _c(F32, 2), I64, I64, F64, F64, I64)),
]

# Kernels only frames of at least ``kernels.KERNEL_MIN_PIXELS`` run: compiled after all of the above, and
# never the reason a helper starts (a first run on a small clip never needs them; a large clip's run pays
# their compiling once, a small share of its time).
LARGE_FRAME_KERNELS: list[tuple[Callable[[], Any], tuple[types.Type, ...]]] = [
    (lambda: kernels._paper_levels, (_c(U8, 3), _c(F32, 1), _c(F32, 1))),
    (lambda: kernels._local_darkness, (_c(U8, 3), _c(U8, 3), _c(F32, 1), _c(F32, 1))),
    (lambda: kernels._ink_hysteresis, (_c(F32, 2), F32, F32, I64)),
    (lambda: kernels._line_art_levels, (_c(F32, 2), _c(B, 2), F32, F32)),
    (lambda: distance._nearest_source_kernel, (_c(B, 2), _c(I32, 2), I64)),
    (lambda: evidence._carry_sums, (_c(I32, 2), _c(F32, 2), _c(I32, 2), _c(F32, 2), _c(F32, 3), I64, I64, F32)),
    (lambda: segments._centroid_sums, (_c(I32, 2), _c(B, 2), I64)),
    (lambda: segments._compact_labels, (_c(I32, 2), _c(B, 2))),
    (lambda: segments._flood_kernel, (_c(U8, 2), _c(I32, 2))),
    (lambda: segments._seed_markers, (_c(I32, 2), _c(I32, 2), _c(I32, 1), I64, I64)),
    (lambda: flat._fill_voters, (_c(I32, 2), _c(F32, 2), I64)),
    (lambda: flat._trust_kernel, (_c(I32, 2), _c(U8, 2))),
    (lambda: flat._snap_kernel, (_c(U8, 3), _c(I32, 1), I64)),
    (lambda: flat._snap_kernel, (types.Array(U8, 3, "A"), _c(I32, 1), I64)),  # the RGB of an RGBA
    (lambda: palette._paint_offsets, (_c(U8, 3), _c(I32, 2), _c(F32, 2))),
    (lambda: held._region_counts, (_c(I32, 2), _c(B, 2), I64)),
    (lambda: held._outline_kernel, (_c(I32, 2),)),
    (lambda: held._paste_under_ink_kernel, (_c(I32, 2), _c(B, 2), _c(U8, 3), _c(B, 2))),
    (lambda: held._paste_where, (_c(U8, 3), _c(B, 2), _c(U8, 2), _c(U8, 3))),
    (lambda: held._finish_held_kernel, (_c(U8, 3), _c(B, 2), _c(U8, 3), _c(U8, 2), _c(U8, 3), _c(U8, 2), I64, I64,
                                        _c(B, 2))),
    (lambda: held._held_codes, (_c(I32, 2), _c(I32, 2), _c(B, 2), _c(I64, 1), _c(B, 1))),
    (lambda: held._match_counts,
     (_c(I32, 2), _c(I32, 2), _c(I64, 1), _c(B, 2), _c(B, 2), _c(B, 2), _c(B, 2), I64, I64)),
    (lambda: held._pair_table, (_c(I32, 2), _c(I32, 2), I64, I64, I64)),
    (lambda: store._word_hash, (_c(U64, 1), _c(U8, 1))),  # the scan's first put
]


def compile_all(parent: int | None = None) -> None:
    """Compile every kernel of ``KERNELS``, then ``LARGE_FRAME_KERNELS``, for its argument types, in order, saving each;
    ``parent``: the run's process id, whose end (killed, so never stopping its helper) ends this too."""
    for dispatcher, signature in KERNELS + LARGE_FRAME_KERNELS:
        if parent is not None and os.getppid() != parent:
            return
        dispatcher().compile(signature)


def missing() -> bool:
    """Whether some kernel of ``KERNELS`` has no on-disk cache index yet (a first run on this machine).

    Reads where Numba keeps each index (``Dispatcher._cache._cache_file``: private, so anything unexpected counts as
    cached and no helper starts)."""
    try:
        return any(not os.path.exists(dispatcher()._cache._cache_file._index_path) for dispatcher, _ in KERNELS)
    except Exception:  # Numba's internals moved: no helper rather than a failed run
        return False


class Warmer:
    """The helper process, stopped (``stop``) when the run ends: what it saved by then stays saved."""

    def __init__(self, process: subprocess.Popen | None) -> None:
        self.process = process

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Warmer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start() -> Warmer:
    """Start the helper where it can help (see the module doc); a ``Warmer`` that does nothing elsewhere."""
    if os.environ.get("LACVID_WARM", "1") == "0" or not kernels.CACHE or thread_limit() < 2 or not missing():
        return Warmer(None)
    try:
        process = subprocess.Popen([sys.executable, "-m", "lacvid.pipeline.warm_kernels", str(os.getpid())],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:  # no process to spare: the run compiles as it always did
        return Warmer(None)
    return Warmer(process)


def main(argv: list[str]) -> int:
    """The helper: below the run's priority (it only gets ahead of it), every kernel compiled in turn;
    ``argv``: the run's process id, when a run started it."""
    parent = int(argv[0]) if argv and argv[0].isdigit() else None
    try:
        os.nice(5)
    except (AttributeError, OSError):
        pass
    try:
        compile_all(parent)
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: the run says what happened
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
