"""Numba kernels against plain numpy on tiny inputs; wrappers reject bad shapes and dtypes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lacvid.preprocess.distance import distance_transform
from lacvid.util import kernels


def _masks() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return (rng.random((24, 30)) < 0.1).astype(np.uint8), (rng.random((24, 30)) < 0.1).astype(np.uint8)


@pytest.mark.parametrize("threads", [1, 2])
def test_chamfer_matches_numpy(threads: int) -> None:
    a, b = _masks()
    da, db = distance_transform(a), distance_transform(b)
    c = kernels.chamfer_sums(a, da, b, db, (0, 0), clip=3.0, radius=1.5, threads=threads)
    assert c.sum_b_to_a == pytest.approx(np.minimum(da[b == 1], 3.0).sum(), rel=1e-6)
    assert c.sum_a_to_b == pytest.approx(np.minimum(db[a == 1], 3.0).sum(), rel=1e-6)
    assert (c.ink_a, c.ink_b) == (a.sum(), b.sum())
    assert c.far_b == (da[b == 1] > 1.5).sum() and c.far_a == (db[a == 1] > 1.5).sum()


def test_chamfer_shift_cancels_a_pan() -> None:
    a, _ = _masks()
    b = np.zeros_like(a)
    b[3:, 2:] = a[:-3, :-2]  # the drawing moved 3 down, 2 right
    da, db = distance_transform(a), distance_transform(b)
    assert kernels.chamfer_sums(a, da, b, db).changed() > 0.3
    assert kernels.chamfer_sums(a, da, b, db, (3, 2)).changed() == 0.0
    assert kernels.chamfer_sums(a, da, a, da).mean() == 0.0


def test_remove_small_components() -> None:
    ink = np.zeros((10, 12), np.uint8)
    ink[1, 1] = 1  # a speck
    ink[5, 2:9] = 1  # a line of 7
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8, ltype=cv2.CV_32S)
    out = kernels.remove_small_components(labels, stats[:, cv2.CC_STAT_AREA].astype(np.int32), 3)
    assert out[1, 1] == 0 and out[5, 2:9].all() and out.sum() == 7


def test_bad_inputs_rejected() -> None:
    a, b = _masks()
    da = distance_transform(a)
    with pytest.raises(ValueError, match="float32"):
        kernels.chamfer_sums(a, da.astype(np.float64), b, da)
    with pytest.raises(ValueError, match="share"):
        kernels.chamfer_sums(a, da, b[:-1], da[:-1])
    with pytest.raises(ValueError, match="dimensions"):
        kernels.chamfer_sums(a[None], da, b, da)
    with pytest.raises(ValueError, match="contiguous"):
        kernels.chamfer_sums(np.asfortranarray(a), da, b, da)
    with pytest.raises(ValueError, match="int32"):
        kernels.remove_small_components(np.zeros((3, 3), np.int64), np.zeros(1, np.int32), 2)
    with pytest.raises(ValueError, match="areas"):
        kernels.remove_small_components(np.full((3, 3), 4, np.int32), np.zeros(2, np.int32), 2)
    with pytest.raises(ValueError, match="threads"):
        kernels.chamfer_sums(a, da, b, da, threads=0)


def test_ink_kernels_equal_the_numpy_forms_bit_for_bit() -> None:
    rng = np.random.default_rng(0)
    rgb, ink = (rng.integers(0, 256, (40, 60, 3)).astype(np.uint8) for _ in range(2))
    paper = rng.uniform(150, 255, (40, 60, 3)).astype(np.float32)
    d = (paper - rgb.astype(np.float32)) / paper
    dark = np.clip(np.maximum(np.maximum(d[..., 0], d[..., 1]), d[..., 2]), 0.0, 1.0)
    np.testing.assert_array_equal(kernels.paper_darkness(rgb, paper), dark)
    span = paper - ink.astype(np.float32)
    prod, sq = (paper - rgb.astype(np.float32)) * span, span * span
    num, den = (prod[..., 0] + prod[..., 1]) + prod[..., 2], (sq[..., 0] + sq[..., 1]) + sq[..., 2]
    alpha = np.clip(num / np.maximum(den, 1.0), 0.0, 1.0).astype(np.float32)
    alpha[dark < 0.02] = 0.0
    assert (dark < 0.02).any()
    np.testing.assert_array_equal(kernels.ink_alpha(rgb, paper, ink, dark, 0.02), alpha)
    with pytest.raises(ValueError, match="paper must be float32"):
        kernels.paper_darkness(rgb, paper.astype(np.float64))


@pytest.mark.parametrize("min_pixels", [0, 1 << 40])   # the kernel, and the NumPy form small frames take
def test_paper_levels_equal_the_numpy_clip(monkeypatch, min_pixels: int) -> None:
    monkeypatch.setattr(kernels, "KERNEL_MIN_PIXELS", min_pixels)
    local = np.random.default_rng(4).integers(0, 256, (37, 53, 3)).astype(np.uint8)
    paper = np.array([251.0, 247.5, 239.0], np.float32)
    floor = 0.8 * paper
    expected = np.minimum(np.maximum(local.astype(np.float32), floor), paper)
    got = kernels.paper_levels(local, floor, paper)
    assert got.dtype == np.float32 and got.shape == local.shape
    np.testing.assert_array_equal(got, expected)
    assert (got == floor).any() and (got == paper).any()   # both bounds met on this input


@pytest.mark.parametrize("min_pixels", [0, 1 << 40])   # the kernel, and the two-step form small frames take
def test_local_darkness_equals_darkness_over_the_clipped_paper(monkeypatch, min_pixels: int) -> None:
    """The darkness straight from the uint8 light levels, the paper clipped on the way, is the darkness over
    ``paper_levels``' float32 paper, bit for bit: below the floor, above the paper, and between."""
    monkeypatch.setattr(kernels, "KERNEL_MIN_PIXELS", min_pixels)
    rng = np.random.default_rng(5)
    rgb, local = (rng.integers(0, 256, (41, 57, 3)).astype(np.uint8) for _ in range(2))
    paper = np.array([251.0, 247.5, 239.0], np.float32)
    floor = 0.8 * paper
    levels = np.minimum(np.maximum(local.astype(np.float32), floor), paper)
    assert (levels == floor).any() and (levels == paper).any() and ((levels > floor) & (levels < paper)).any()
    d = (levels - rgb.astype(np.float32)) / levels
    expected = np.clip(np.maximum(np.maximum(d[..., 0], d[..., 1]), d[..., 2]), 0.0, 1.0)
    got = kernels.local_darkness(rgb, local, floor, paper)
    assert got.dtype == np.float32 and got.shape == rgb.shape[:2]
    np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match="local"):
        kernels.local_darkness(rgb, local[:-1], floor, paper)


@pytest.mark.parametrize("min_pixels", [0, 1 << 40])   # the flood kernel, and the labelling small frames take
def test_ink_hysteresis_keeps_what_labelling_the_weak_pixels_keeps(monkeypatch, min_pixels: int) -> None:
    """Faint components kept where they touch strong ink or run long, specks dropped: the set the labelled
    form gives (8-connected components, kept by their statistics), on strokes, specks and both borders."""
    monkeypatch.setattr(kernels, "KERNEL_MIN_PIXELS", min_pixels)
    rng = np.random.default_rng(7)
    dark = (rng.random((61, 83)) * 0.3).astype(np.float32)          # grain below and around the weak level
    dark[5, 2:40] = 0.5                                              # a long faint stroke, no strong pixel
    dark[19:24, 59:64] = 0.0
    dark[20:23, 60:63] = 0.5                                         # a faint 3x3 blob on clean paper: dropped
    dark[30, 10:14] = 0.5
    dark[31, 14] = 0.95                                              # a short stroke touching strong ink (diagonal)
    dark[0, :] = 0.5                                                 # the frame's edge is no barrier
    dark[60, 82] = 0.95                                              # a lone strong pixel in the corner
    weak_level, strong_level, min_area = 0.25, 0.9, 12
    weak = (dark >= np.float32(weak_level)).astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(weak, connectivity=8)
    keep = np.zeros(n, bool)
    keep[lab[dark >= np.float32(strong_level)]] = True
    keep |= stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False
    expected = keep[lab]
    got = kernels.ink_hysteresis(dark, weak_level, strong_level, min_area)
    assert got.dtype == np.bool_ and got.shape == dark.shape
    np.testing.assert_array_equal(got, expected)
    assert got[5, 2:40].all() and got[30, 10:14].all() and got[31, 14] and got[60, 82] and got[0].all()
    assert not got[20:23, 60:63].any()
    assert 0 < got.sum() < weak.sum()                                # some grain dropped, some ink kept


@pytest.mark.parametrize("min_pixels", [0, 1 << 40])
def test_line_art_levels_equal_the_numpy_ramp(monkeypatch, min_pixels: int) -> None:
    """Every ramp value, half-way roundings included, as the float32 NumPy expression gives them."""
    monkeypatch.setattr(kernels, "KERNEL_MIN_PIXELS", min_pixels)
    rng = np.random.default_rng(6)
    dark = np.concatenate([rng.uniform(-0.2, 1.4, 4000), np.arange(270) / 240.0]).astype(np.float32).reshape(-1, 61)
    mask = rng.random(dark.shape) < 0.8
    level = 120
    for stroke in (0.8734, 1.0):   # 1.0: 120 * (1 - k / 240) lands on halves for odd k
        ink = np.clip(dark / stroke, 0.0, 1.0)
        expected = np.where(mask, np.rint(level * (1.0 - ink)), 255.0).astype(np.uint8)
        np.testing.assert_array_equal(kernels.line_art_levels(dark, mask, stroke, level), expected)


def test_distinct_colors_equal_numpy_unique() -> None:
    rng = np.random.default_rng(1)
    few = rng.integers(0, 4, (5000, 3)).astype(np.uint8) * 60          # cel paint: a handful of colours
    many = rng.integers(0, 256, (5000, 3)).astype(np.uint8)             # noise: nearly all distinct
    # Every blue of one (red, green) block, in a shuffled order, and the corners of the colour cube.
    one_block = np.stack([np.full(256, 7), np.full(256, 255), rng.permutation(256)], 1).astype(np.uint8)
    corners = np.array([[r, g, b] for r in (0, 255) for g in (0, 255) for b in (0, 255)] * 3, np.uint8)
    for rgb in (few, many, few[:1], few[:0], one_block, corners, np.concatenate([many, one_block, corners])):
        colors, inverse = kernels.distinct_colors(rgb)
        packed = (rgb[:, 0].astype(np.int64) << 16) | (rgb[:, 1].astype(np.int64) << 8) | rgb[:, 2]
        want, want_inverse = np.unique(packed, return_inverse=True)
        got = (colors[:, 0].astype(np.int64) << 16) | (colors[:, 1].astype(np.int64) << 8) | colors[:, 2]
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(inverse, want_inverse.reshape(-1))
        np.testing.assert_array_equal(colors[inverse], rgb)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        kernels.distinct_colors(np.zeros((4, 4), np.uint8))


def test_row_kernels_serial_and_parallel_twins_agree_bit_for_bit() -> None:
    """One source compiled twice (serial for one thread, parallel for more): the same chunks, the same sums."""
    a, b = _masks()
    da, db = distance_transform(a), distance_transform(b)
    args = (a, da, b, db, 1, -2, 3.0, 1.5)
    for chunks in (1, 3):
        serial = kernels._chamfer_sums.serial(*args, chunks)
        assert serial.shape == (chunks, 6)
        np.testing.assert_array_equal(serial, kernels._chamfer_sums.parallel(*args, chunks))
    rows = np.random.default_rng(0).random((4, 5))
    assert kernels.sum_rows(rows).tobytes() == (((rows[0] + rows[1]) + rows[2]) + rows[3]).tobytes()


_CACHE_PROBE = """
import numpy as np, numba
from lacvid.util import kernels
labels = np.zeros((4, 5), np.int32); labels[1, 1] = 1
out = kernels.remove_small_components(labels, np.array([0, 1], np.int32), 1)
print(kernels.CACHE, numba.config.CACHE_DIR or "", int(out.sum()), sep="|")
"""


@pytest.mark.parametrize("lacvid_cache_writable", [True, False])
def test_kernels_import_where_numba_has_no_writable_cache(tmp_path, lacvid_cache_writable: bool) -> None:
    """A read-only install with no writable home: numba's ``cache=True`` raised at import ("no locator
    available"). lacvid's cache folder is used instead, or, where that is not writable either, the
    kernels compile in memory; the kernels import and run either way."""
    import os
    import subprocess
    import sys

    import numba

    if not hasattr(numba.config, "CACHE_LOCATOR_CLASSES"):
        pytest.skip("this numba cannot be told to skip the in-tree cache (NUMBA_CACHE_LOCATOR_CLASSES)")
    blocked = tmp_path / "file"  # a path under a file: no folder can be made there, even by root
    blocked.write_text("")
    lacvid_cache = tmp_path / "lacvid-cache" if lacvid_cache_writable else blocked / "lacvid"
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    # Beside the source counts as read-only here: only $NUMBA_CACHE_DIR's locator and the user-wide one.
    env.update(NUMBA_CACHE_LOCATOR_CLASSES="UserProvidedCacheLocator,UserWideCacheLocator",
               HOME=str(blocked / "home"), XDG_CACHE_HOME=str(blocked / "xdg"), LACVID_CACHE=str(lacvid_cache))
    done = subprocess.run([sys.executable, "-c", _CACHE_PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    cached, folder, ink = done.stdout.strip().splitlines()[-1].split("|")
    assert ink == "1"  # the kernel ran
    if lacvid_cache_writable:
        assert (cached, folder) == ("True", str(lacvid_cache / "numba"))
        assert list((lacvid_cache / "numba").rglob("*.nbi"))  # the kernel's cache index was written there
    else:
        assert cached == "False"


def _lacvid_kernels() -> list[tuple[str, object]]:
    """Every Numba dispatcher defined in a lacvid module (a ``RowKernel``'s two twins included)."""
    import importlib
    import pkgutil

    from numba.core.registry import CPUDispatcher

    import lacvid

    found = []
    for info in pkgutil.walk_packages(lacvid.__path__, "lacvid."):
        if ".cli" in info.name or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            twins = [value.serial, value.parallel] if isinstance(value, kernels.RowKernel) else [value]
            found += [(f"{info.name}.{name}", d) for d in twins
                      if isinstance(d, CPUDispatcher) and getattr(d, "__module__", info.name) == info.name]
    return found


def test_every_kernel_releases_the_gil() -> None:
    # Frames compose on a thread per core beside the propagation's chains; a kernel that keeps the GIL
    # stalls every other thread's Python for as long as it runs (three of them did: the region growing and
    # both palette-vote kernels).
    found = _lacvid_kernels()
    assert len(found) > 30  # the walk found the kernels, not an empty list
    holding = [name for name, d in found if not d.targetoptions.get("nogil")]
    assert not holding, f"kernels compiled without nogil=True: {holding}"
