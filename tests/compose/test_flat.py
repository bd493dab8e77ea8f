"""Flat fills: the keys' palette, per-region votes, and palette-only output inside regions."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lacvid.compose.composite import multiply_lines
from lacvid.compose.flat import palette_from_keys, region_vote, snap_indices
from lacvid.compose.fusion import fuse_regions
from lacvid.compose.regions import label_regions

RED, BLUE, CREAM, GREEN = (200, 40, 40), (40, 60, 190), (240, 230, 200), (60, 170, 80)


def cel(offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A flat cel: cream paper, a red disc and a blue box, anti-aliased black outlines.

    Returns (colour uint8 (H, W, 3) = fills * lines, as a finished cel; lines uint8 (H, W)).
    """
    h, w = 96, 128
    fills = np.empty((h, w, 3), np.uint8)
    fills[:] = CREAM
    lines = np.full((h, w), 255, np.uint8)
    cv2.circle(fills, (40 + offset, 48), 22, RED, -1)
    cv2.circle(lines, (40 + offset, 48), 22, 0, 2, lineType=cv2.LINE_AA)
    cv2.rectangle(fills, (80, 20 + offset), (115, 70 + offset), BLUE, -1)
    cv2.rectangle(lines, (80, 20 + offset), (115, 70 + offset), 0, 2, lineType=cv2.LINE_AA)
    return multiply_lines(fills, lines), lines


def test_palette_from_keys_recovers_the_fills_despite_antialiasing_and_noise() -> None:
    (a, la), (b, lb) = cel(0), cel(4)
    rng = np.random.default_rng(0)
    noisy = np.clip(b.astype(int) + rng.integers(-2, 3, b.shape), 0, 255).astype(np.uint8)  # JPEG-like jitter
    palette = palette_from_keys([a, noisy], [la, lb])
    got = {tuple(int(v) for v in c) for c in palette}
    assert got == {RED, BLUE, CREAM}


def test_flatten_recovers_exact_fills_from_a_noisy_bleeding_color() -> None:
    color, lines = cel()
    palette = np.array([RED, BLUE, CREAM, GREEN], np.uint8)
    rng = np.random.default_rng(1)
    guess = cv2.GaussianBlur(color, (7, 7), 2)  # colour bleeds across the lines
    guess = np.clip(guess.astype(int) + rng.normal(0, 12, guess.shape), 0, 255).astype(np.uint8)
    for candidates in ([guess],):
        flat = region_vote(lines, candidates, palette, fill_ink=True)
        assert tuple(flat[48, 40]) == RED and tuple(flat[45, 100]) == BLUE and tuple(flat[5, 5]) == CREAM
        np.testing.assert_array_equal(multiply_lines(flat, lines), color)


def test_flat_output_holds_only_palette_colors_inside_regions() -> None:
    color, lines = cel(2)
    palette = np.array([RED, BLUE, CREAM, GREEN], np.uint8)
    small = cv2.resize(color, (64, 48), interpolation=cv2.INTER_AREA)  # working size
    small = np.clip(small.astype(int) + 15, 0, 255).astype(np.uint8)  # the network's colour is off
    out = fuse_regions(lines, small, [], palette)
    assert out.shape == color.shape
    labels, _ = label_regions(lines)
    inside = out[(labels > 0) & (lines == 255)]  # paper untouched by ink shows the fill itself
    allowed = {tuple(int(v) for v in c) for c in palette}
    assert {tuple(int(v) for v in c) for c in np.unique(inside, axis=0)} <= allowed
    assert (out[lines == 0] == 0).all()


def test_region_vote_follows_the_heavier_candidate() -> None:
    _, lines = cel()
    palette = np.array([RED, GREEN], np.uint8)
    red = np.empty(lines.shape + (3,), np.uint8)
    red[:] = RED
    green = np.empty_like(red)
    green[:] = GREEN
    out = region_vote(lines, [red, green], palette, weights=[1.0, 2.0])
    assert (out[lines == 255] == GREEN).all()
    out = region_vote(lines, [red, green], palette, weights=[3.0, 2.0])
    assert (out[lines == 255] == RED).all()
    # A per-pixel weight map: green only counts inside the disc, so the disc turns green.
    wmap = np.zeros(lines.shape, np.float32)
    wmap[30:66, 22:58] = 5.0
    out = region_vote(lines, [red, green], palette, weights=[1.0, wmap])
    assert tuple(out[48, 40]) == GREEN and tuple(out[5, 5]) == RED


def test_snap_indices_of_a_large_frame_are_the_tables_lookup(monkeypatch) -> None:
    """At working sizes (``_snap_kernel``, one pass) every pixel's entry is the table's at its quantised colour, as
    the NumPy form (``rgb_cells``, then a gather) looks it up."""
    from lacvid.util import kernels

    rng = np.random.default_rng(2)
    color = rng.integers(0, 256, (61, 83, 3), dtype=np.uint8)
    color[0, :8] = [[0, 0, 0], [255, 255, 255], [3, 4, 5], [252, 253, 254], [128, 0, 255], [4, 8, 12], [7, 7, 7],
                    [8, 8, 8]]                                                                   # cell edges
    palette = rng.integers(0, 256, (9, 3), dtype=np.uint8)
    got = []
    for min_pixels in (0, 1 << 40):
        monkeypatch.setattr(kernels, "KERNEL_MIN_PIXELS", min_pixels)
        got.append(snap_indices(color, palette))
        rgba = np.dstack([color, rng.integers(0, 256, color.shape[:2], dtype=np.uint8)])
        got.append(snap_indices(rgba[..., :3], palette))                         # the RGB of an RGBA, as it lies
    for other in got[1:]:
        np.testing.assert_array_equal(got[0], other)
    assert got[0].dtype == np.int32 and len(np.unique(got[0])) > 3


def test_snap_indices_picks_the_perceptually_nearest_entry() -> None:
    palette = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0]], np.uint8)
    img = np.array([[[20, 20, 20], [240, 250, 245], [230, 30, 20]]], np.uint8)
    np.testing.assert_array_equal(snap_indices(img, palette), [[0, 1, 2]])


def test_bad_inputs_are_refused() -> None:
    color, lines = cel()
    with pytest.raises(ValueError, match="palette"):
        region_vote(lines, [color], np.zeros((0, 3), np.uint8))
    with pytest.raises(ValueError, match="one line-art frame per key"):
        palette_from_keys([color], [])
    with pytest.raises(ValueError, match="weight"):
        region_vote(lines, [color], np.array([RED], np.uint8), weights=[1.0, 2.0])


def test_palette_coverage_tells_flat_cel_paint_from_shaded_painting():
    """colorize --flat defaults to auto on this measure: 1.0 for cel paint, low for gradients."""
    from lacvid.compose.flat import palette_coverage
    from lacvid.synth import render_shot

    color, lines = next(iter(render_shot(3, 0, 2, 96, 96)))
    palette = palette_from_keys([color], [lines])
    assert palette_coverage([color], [lines], palette) == 1.0
    ramp = np.linspace(0, 120, 96, dtype=np.float32)[None, :, None]  # a soft shading across the frame
    shaded = np.clip(color.astype(np.float32) - ramp, 0, 255).astype(np.uint8)
    assert palette_coverage([shaded], [lines], palette_from_keys([shaded], [lines])) < 0.95


def _region_modes_by_counting(key: np.ndarray, labels: np.ndarray, use: np.ndarray) -> list[tuple[int, int]]:
    """The reference: each region's most frequent colour among ``use`` pixels, ties to the smallest."""
    from collections import Counter
    out = []
    for r in sorted(set(labels[use].tolist())):
        counts = Counter(map(tuple, key[use & (labels == r)].tolist()))
        top = max(counts.values())
        c = min(c for c, n in counts.items() if n == top)
        out.append(((c[0] << 16) | (c[1] << 8) | c[2], int((labels == r).sum())))
    return out


def test_region_fills_take_each_regions_most_frequent_colour_by_table_or_by_sort(monkeypatch) -> None:
    import lacvid.compose.flat as flat

    key, lines = cel()
    rng = np.random.default_rng(0)
    noisy = key.copy()
    specks = rng.random(key.shape[:2]) < 0.2                              # 20% of pixels one level off
    noisy[specks] = np.clip(noisy[specks].astype(int) + rng.integers(-1, 2, (int(specks.sum()), 3)), 0, 255)
    labels, n = label_regions(lines, close_gaps=2, min_area=8)
    interior = flat.vote_trust(labels) >= 2.0 / 3.0
    has_interior = np.zeros(n + 1, bool)
    has_interior[labels[interior]] = True
    use = (labels > 0) & (interior | ~has_interior[labels])
    want = _region_modes_by_counting(noisy, labels, use)
    assert {c for c, _ in want} >= {(200 << 16) | (40 << 8) | 40}       # the red disc's fill wins its vote
    assert flat._region_fills(noisy, labels, n) == want
    monkeypatch.setattr(flat, "_MODE_TABLE", 0)                           # as for a painted gradient's colours
    assert flat._region_fills(noisy, labels, n) == want


@pytest.mark.parametrize("min_pixels", [0, 1 << 40])   # the kernel, and the NumPy form small frames take
def test_region_fills_read_the_shared_colour_index_alike(monkeypatch, min_pixels: int) -> None:
    """A key's fills, areas and palette coverage are the same found from its whole-key colour index
    (``key_color_ids``, shared by the palette, its coverage and the index layer) as from the pixels each
    needs alone: thin strips voting with all their pixels, ties to the smallest colour, gradients included."""
    import lacvid.compose.flat as flat_module
    from lacvid.compose.regions import label_regions
    from lacvid.util import kernels

    monkeypatch.setattr(kernels, "KERNEL_MIN_PIXELS", min_pixels)
    rng = np.random.default_rng(2)
    lines = np.full((60, 90), 255, np.uint8)
    lines[:, 30] = lines[20, :] = lines[:, 33] = 0                  # a 2 px strip between two strokes
    key = np.zeros((60, 90, 3), np.uint8)
    key[:] = (200, 180, 120)
    key[:, 31:33] = (10, 20, 30)
    key[25:, 40:] = rng.integers(0, 256, (35, 50, 3))               # a noisy, many-coloured region
    key[:10, :10] = (1, 2, 3)                                       # two colours of 100 px each in the first
    key[:10, 10:20] = (0, 2, 3)                                     # region, beside its fill
    key[lines == 0] = (0, 0, 0)
    labels, n = label_regions(lines)
    alone = flat_module._region_fills(key, labels, n)
    shared = flat_module._region_fills(key, labels, n, flat_module.key_color_ids(key))
    assert alone == shared and len(alone) == n
    palette = palette_from_keys([key], [lines])
    assert flat_module.palette_coverage([key], [lines], palette) == flat_module.palette_coverage(
        [key], [lines], palette, colors=[flat_module.key_color_ids(key)])
    trust = flat_module.vote_trust(labels)
    use, area = flat_module._fill_voters(labels, trust, n)
    use2, area2 = flat_module._fill_voters_numpy(labels, trust, n)
    assert np.array_equal(use, use2) and np.array_equal(area, area2) and use[:, 31:33].any()
