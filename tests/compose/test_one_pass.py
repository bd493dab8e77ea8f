"""The one-pass compositing kernels against the NumPy/OpenCV chains they replaced, bit for bit.

Each ``_old_*`` below is the code the product ran before (whole-frame temporaries at full
resolution); the product's kernels must give exactly its bits on generated frames of sizes that
do and do not divide evenly, since the finished frames are cached and compared bit for bit.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lacvid.compose.doubt import _to_doubt, region_doubt
from lacvid.compose.flat import region_winners, snap_indices, vote_trust
from lacvid.compose.fusion import Candidate, FusionSettings, fuse_regions, paint_confident_regions
from lacvid.compose.layers import Layers, drawing_ink, paint_layer
from lacvid.compose.regions import (
    fill_ink_labels,
    label_regions,
    nearest_map,
    paint_regions,
    region_palette_votes,
    region_sums,
)
from lacvid.preprocess.distance import nearest_values
from lacvid.preprocess.ink import InkFrame
from lacvid.propagate.palette import FLAT_SPREAD
from lacvid.synth import render_shot

SIZES = [((36, 64), (101, 179)), ((27, 48), (108, 192)), ((40, 40), (40, 40)), ((50, 90), (37, 61))]


def _up(image: np.ndarray, size: tuple[int, int], interpolation: int) -> np.ndarray:
    H, W = size
    return image if image.shape[:2] == (H, W) else cv2.resize(image, (W, H), interpolation=interpolation)


def _old_region_winners(labels, indices, weights, n_palette):
    lab_map, n = labels
    trust = vote_trust(lab_map)
    votes = np.zeros((n + 1, n_palette), np.float64)
    for idx, w in zip(indices, weights):
        idx = _up(idx, lab_map.shape, cv2.INTER_NEAREST)
        if np.ndim(w) == 2:
            w = _up(w, lab_map.shape, cv2.INTER_NEAREST)
        wmap = np.ascontiguousarray(trust * np.asarray(w, np.float32), dtype=np.float32)
        votes += region_palette_votes(lab_map, np.ascontiguousarray(idx), wmap, n, n_palette)
    return votes.argmax(1)


def _old_fuse_regions(lines_full, network, warped, palette, settings, labels):
    size = lines_full.shape
    indices = [_up(snap_indices(network, palette), size, cv2.INTER_NEAREST)]
    best = np.max([np.clip(c.weight, 0, 1) for c in warped], axis=0) if warped else 0.0
    network_weight = np.float32(settings.network_weight) * (1.0 - best)
    weights = [_up(np.asarray(network_weight, np.float32), size, cv2.INTER_LINEAR)
               if warped else np.float32(settings.network_weight)]
    for c in warped:
        indices.append(_up(snap_indices(c.color, palette), size, cv2.INTER_NEAREST))
        weights.append(_up(c.weight, size, cv2.INTER_LINEAR))
    winner = _old_region_winners(labels, indices, weights, len(palette))
    return palette[winner][fill_ink_labels(labels[0])]


def _old_region_doubt(labels, confidence):
    lab_map, n = labels
    H, W = lab_map.shape
    conf = _up(confidence, (H, W), cv2.INTER_NEAREST)
    inside = lab_map > 0
    total = np.bincount(lab_map[inside], weights=conf[inside], minlength=n + 1)
    area = np.bincount(lab_map[inside], minlength=n + 1)
    per_region = _to_doubt(total / np.maximum(area, 1))
    per_region[area == 0] = 255
    return per_region[fill_ink_labels(np.ascontiguousarray(lab_map))]


def _old_paint_confident(fill, labels, propagated, confidence, palette, flat_colors, min_confidence=1 / 255):
    lab_map, n = labels
    size = lab_map.shape
    index = _up(snap_indices(propagated, palette), size, cv2.INTER_NEAREST)
    conf = _up(confidence, size, cv2.INTER_NEAREST)
    winner = _old_region_winners(labels, [index], [conf], len(palette))
    inside = lab_map > 0
    mean = np.bincount(lab_map[inside], weights=conf[inside], minlength=n + 1) / \
        np.maximum(np.bincount(lab_map[inside], minlength=n + 1), 1)
    flat = (mean >= min_confidence) & flat_colors[winner]
    flat[0] = False
    full = fill_ink_labels(lab_map)
    colour = palette[winner][full]
    region = flat[full]
    out = fill.copy()
    spread = np.full(len(palette), FLAT_SPREAD, np.float32)[winner][full][..., None]
    shade = fill.astype(np.float32) - colour
    within = region & (np.abs(shade).max(-1) <= spread[..., 0])
    sigma = max(1.0, min(size) / 100)
    weight = cv2.GaussianBlur(within.astype(np.float32), (0, 0), sigma)
    smooth = cv2.GaussianBlur(shade * within[..., None], (0, 0), sigma)
    shade = np.clip(smooth / np.maximum(weight, 1e-6)[..., None], -spread, spread)
    painted = np.clip(np.rint(colour + shade), 0, 255).astype(np.uint8)
    out[region] = painted[region]
    return out


def _old_nearest_values(values, sources):
    _, label = cv2.distanceTransformWithLabels((~sources).view(np.uint8), cv2.DIST_L2, 5,
                                               labelType=cv2.DIST_LABEL_PIXEL)
    table = np.zeros((int(label.max()) + 1,) + values.shape[2:], values.dtype)
    table[label[sources]] = values[sources]
    return table[label]


def _frame(size: tuple[int, int], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A generated cel frame (colour, line art) at ``size`` (H, W)."""
    color, lines = next(iter(render_shot(seed, 0, 1, *size)))
    return color, lines


@pytest.mark.parametrize("small,full", SIZES)
def test_nearest_map_is_opencvs_own(small, full) -> None:
    image = np.random.default_rng(0).integers(0, 1 << 20, small, dtype=np.int32)
    want = cv2.resize(image, full[::-1], interpolation=cv2.INTER_NEAREST)                 # (H, W)
    ys, xs = nearest_map(small[0], full[0]), nearest_map(small[1], full[1])
    np.testing.assert_array_equal(image[ys[:, None], xs[None, :]], want)


@pytest.mark.parametrize("small,full", SIZES)
def test_fuse_regions_equals_the_upsampling_chain(small, full) -> None:
    rng = np.random.default_rng(1)
    color, lines = _frame(full)
    palette = np.unique(color.reshape(-1, 3), axis=0)[:12]                                 # (P, 3)
    network = cv2.resize(color, small[::-1], interpolation=cv2.INTER_AREA)               # (h, w, 3)
    noisy = np.clip(network.astype(int) + rng.integers(-40, 40, network.shape), 0, 255).astype(np.uint8)
    warped = [Candidate(noisy, rng.random(small).astype(np.float32)),
              Candidate(network[::-1].copy(), rng.random(small).astype(np.float32))]
    labels = label_regions(lines)
    for cands in ([], warped):
        want = _old_fuse_regions(lines, noisy, cands, palette, FusionSettings(), labels)
        got = fuse_regions(lines, noisy, cands, palette, FusionSettings(), labels=labels, with_ink=False)
        np.testing.assert_array_equal(got, want)
        full_labels = fill_ink_labels(labels[0])
        np.testing.assert_array_equal(fuse_regions(lines, noisy, cands, palette, labels=labels, with_ink=False,
                                                   full=full_labels), want)


@pytest.mark.parametrize("small,full", SIZES)
def test_region_winners_sample_small_inputs_as_upsampled_ones(small, full) -> None:
    rng = np.random.default_rng(2)
    _, lines = _frame(full, seed=3)
    labels = label_regions(lines)
    index = rng.integers(0, 5, small, dtype=np.int32)
    weight = rng.random(small).astype(np.float32)
    want = _old_region_winners(labels, [index, index[::-1].copy()], [weight, 0.3], 5)
    np.testing.assert_array_equal(region_winners(labels, [index, index[::-1].copy()], [weight, 0.3], 5), want)


@pytest.mark.parametrize("small,full", SIZES)
def test_region_doubt_and_confident_regions_equal_the_chain(small, full) -> None:
    rng = np.random.default_rng(4)
    color, lines = _frame(full, seed=5)
    labels = label_regions(lines)
    conf = (rng.integers(0, 256, small).astype(np.float32) / 255.0)                      # (h, w) float32
    np.testing.assert_array_equal(region_doubt(labels, conf), _old_region_doubt(labels, conf))
    palette = np.unique(color.reshape(-1, 3), axis=0)[:8]
    propagated = palette[rng.integers(0, len(palette), small)]                           # (h, w, 3)
    flat = rng.random(len(palette)) > 0.3
    want = _old_paint_confident(color, labels, propagated, conf, palette, flat)
    np.testing.assert_array_equal(paint_confident_regions(color, labels, propagated, conf, palette, flat), want)


def test_region_sums_and_paint_regions_equal_bincount_and_indexing() -> None:
    rng = np.random.default_rng(6)
    labels = rng.integers(0, 7, (45, 70), dtype=np.int32)
    values = rng.random((45, 70)).astype(np.float32)
    total, count = region_sums(labels, 6, values)
    inside = labels > 0
    np.testing.assert_array_equal(total, np.bincount(labels[inside], weights=values[inside], minlength=7))
    np.testing.assert_array_equal(count, np.bincount(labels[inside], minlength=7))
    table = rng.integers(0, 256, (7, 3), dtype=np.uint8)
    np.testing.assert_array_equal(paint_regions(table, labels), table[labels])
    np.testing.assert_array_equal(paint_regions(table[:, 0].copy(), labels), table[:, 0][labels])
    with pytest.raises(ValueError, match="labels must lie"):
        paint_regions(table[:3], labels)
    with pytest.raises(ValueError, match="labels must lie"):
        region_sums(labels, 3, values)


def test_layers_kernels_equal_the_numpy_forms() -> None:
    rng = np.random.default_rng(7)
    fill = rng.integers(250, 256, (33, 47, 3), dtype=np.uint8)                           # many pure white pixels
    alpha = 255 - cv2.inRange(fill, (255, 255, 255), (255, 255, 255))
    np.testing.assert_array_equal(paint_layer(fill), cv2.merge([fill, alpha]))
    colored = rng.random((33, 47)) > 0.5
    ink = InkFrame(rng.random((33, 47)).astype(np.float32), colored.copy(), colored,
                   rng.integers(0, 256, (33, 47, 3), dtype=np.uint8), rng.random((33, 47)).astype(np.float32))
    ink.alpha[0, :4] = [0.5 / 255, 1.5 / 255, 1.0, 0.0]                                   # halves round to even
    rgb = np.where(ink.colored[..., None], ink.ink_rgb, 0).astype(np.uint8)
    a = np.rint(255 * np.where(ink.colored, ink.alpha, ink.strength)).astype(np.uint8)
    np.testing.assert_array_equal(drawing_ink(ink), cv2.merge([rgb, a]))
    with pytest.raises(ValueError, match="alpha"):
        drawing_ink(InkFrame(ink.strength, ink.mask, ink.colored, ink.ink_rgb, ink.alpha.astype(np.float64)))


@pytest.mark.parametrize("channels", [(), (4,)])
def test_nearest_values_equals_the_table_gather(channels) -> None:
    rng = np.random.default_rng(8)
    sources = rng.random((61, 83)) > 0.7
    values = rng.integers(0, 255, (61, 83) + channels).astype(np.uint8)
    np.testing.assert_array_equal(nearest_values(values, sources), _old_nearest_values(values, sources))
    labels = rng.integers(0, 50, (61, 83), dtype=np.int32)
    np.testing.assert_array_equal(nearest_values(labels, sources), _old_nearest_values(labels, sources))


def _old_flatten(layers: Layers) -> np.ndarray:
    def alpha3(rgba):
        return cv2.cvtColor(np.ascontiguousarray(rgba[..., 3]), cv2.COLOR_GRAY2RGB)

    a_paint = alpha3(layers.paint)
    on_paper = cv2.add(cv2.multiply(np.ascontiguousarray(layers.paint[..., :3]), a_paint, scale=1 / 255),
                       cv2.bitwise_not(a_paint))
    a_ink = alpha3(layers.neutral_ink() if layers.trace_painted else layers.ink)
    return cv2.add(cv2.multiply(on_paper, cv2.bitwise_not(a_ink), scale=1 / 255),
                   cv2.multiply(np.ascontiguousarray(layers.ink[..., :3]), a_ink, scale=1 / 255))


@pytest.mark.parametrize("width", [1, 17, 33, 259, 460])
@pytest.mark.parametrize("trace_painted", [False, True])
def test_flatten_equals_the_cv2_chain(width, trace_painted) -> None:
    rng = np.random.default_rng(width)
    paint = rng.integers(0, 256, (13, width, 4), dtype=np.uint8)
    ink = rng.integers(0, 256, (13, width, 4), dtype=np.uint8)
    ink[::2, ::3, :3] = 0                                                                 # neutral (black) ink
    paint[1, :, 3], ink[2, :, 3] = 0, 255
    paint[3:, ::2, 3], paint[3:, 1::4, 3] = 255, 0                                       # opaque paint, bare paper
    ink[4:, ::3, 3], ink[5:, 1::2, :3] = 0, 0                                            # no ink, neutral ink
    layers = Layers(paint, ink, trace_painted=trace_painted)
    np.testing.assert_array_equal(layers.flatten(), _old_flatten(layers))


def test_ink_classes_equal_the_numpy_spread_test() -> None:
    from lacvid.util.kernels import ink_classes

    rng = np.random.default_rng(9)
    rgb = rng.integers(0, 256, (29, 51, 3), dtype=np.uint8)
    rgb[0, :3] = [[250, 240, 235], [255, 209, 209], [100, 100, 125]]                 # above paper, edges
    strong = rng.random((29, 51)) > 0.2
    for paper in (np.float32([255, 255, 255]), np.float32([236, 233.5, 224])):
        d = (paper - rgb.astype(np.float32)) / paper                                  # (H, W, 3) darkening share
        top, low = d.max(-1), d.min(-1)
        chroma = (top - low) * np.float32(255.0)
        spread = (top - low) / np.maximum(top, np.float32(1.0 / 255.0))
        for min_chroma, min_spread in ((10.0, 0.15), (46.0, 0.22), (0.5, 0.05)):
            want = (chroma >= min_chroma) & (spread >= min_spread) & strong
            got, colored = ink_classes(rgb, strong, paper, min_chroma, min_spread)
            np.testing.assert_array_equal(got[..., :3], rgb)
            np.testing.assert_array_equal(got[..., 3], want.view(np.uint8))
            assert colored == want.sum()
            # Colour at half resolution: every strong pixel is measured again on the shares summed over its 4x4
            # neighbourhood (its 2x2 block and one pixel of each block around it, in row order); where that
            # balance passes it is coloured, and its colour is its own darkness in that balance.
            halved, colors = want.copy(), rgb.copy()
            for y, x in zip(*np.nonzero(strong)):
                y0, x0 = y - y % 2 - 1, x - x % 2 - 1
                total = np.zeros(3, np.float32)
                for yy in range(max(y0, 0), min(y0 + 4, rgb.shape[0])):
                    for xx in range(max(x0, 0), min(x0 + 4, rgb.shape[1])):
                        total += d[yy, xx]
                unequal = total.max() - total.min()
                if (unequal * np.float32(255.0) >= min_chroma
                        and unequal / max(total.max(), np.float32(1.0 / 255.0)) >= min_spread):
                    halved[y, x] = True
                    scale = top[y, x] / max(total.max(), np.float32(1.0 / 255.0))
                    v = paper * (np.float32(1.0) - total * scale) + np.float32(0.5)
                    colors[y, x] = np.minimum(np.maximum(v, np.float32(0.0)), np.float32(255.0)).astype(np.uint8)
            got, colored = ink_classes(rgb, strong, paper, min_chroma, min_spread, halved=True)
            np.testing.assert_array_equal(got[..., 3], halved.view(np.uint8))
            assert colored == halved.sum()
            np.testing.assert_array_equal(got[..., :3], colors)
            assert (halved & ~want).any()  # the neighbourhood changes some pixels' class here


def _old_label_regions(lines, close_gaps=2, min_area=8):
    from lacvid.compose.regions import _nearest_fill, grow_labels, ink_mask

    def relabel(labels):
        present = np.bincount(labels.ravel()) > 0
        present[0] = False
        lut = np.cumsum(present).astype(np.int32)
        lut[0] = 0
        return lut[labels]

    paper = np.ascontiguousarray(~ink_mask(lines))
    n0, base = cv2.connectedComponents(paper.view(np.uint8), connectivity=4, ltype=cv2.CV_32S)
    labels = base
    if close_gaps > 0 and n0 > 1:
        r = (int(close_gaps) + 1) // 2
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        ns, seeds = cv2.connectedComponents(cv2.erode(paper.view(np.uint8), disc), connectivity=4, ltype=cv2.CV_32S)
        if ns > 1:
            seeded = np.zeros(n0, bool)
            seeded[base[seeds > 0]] = True
            orphan = ~seeded[base] & paper
            seeds[orphan] = base[orphan] + ns
            labels = grow_labels(seeds, paper)
    labels = relabel(labels)
    if min_area > 1:
        counts = np.bincount(labels.ravel())
        small = counts < min_area
        small[0] = False
        if small.any() and not small[1:].all():
            labels[small[labels]] = 0
            labels = grow_labels(labels, paper)
            lost = paper & (labels == 0)
            if lost.any():
                labels = np.where(paper, _nearest_fill(labels, labels > 0), 0).astype(np.int32)
            labels = relabel(labels)
    return np.ascontiguousarray(labels, dtype=np.int32), int(labels.max())


@pytest.mark.parametrize("style", ["clean", "stress"])
@pytest.mark.parametrize("close_gaps,min_area", [(2, 8), (0, 8), (4, 30), (2, 1)])
def test_label_regions_equal_the_numpy_relabelling(style, close_gaps, min_area) -> None:
    from lacvid.preprocess.ink import InkModel

    for seed, size in ((0, (90, 160)), (1, (137, 241))):
        _, drawn = next(iter(render_shot(seed, 2, 1, *size, style=style)))
        lines = drawn if drawn.ndim == 2 else InkModel.fit([drawn]).line_art(drawn)
        got, n = label_regions(lines, close_gaps=close_gaps, min_area=min_area)
        want, m = _old_label_regions(lines, close_gaps, min_area)
        assert n == m and got.dtype == np.int32
        np.testing.assert_array_equal(got, want)
    blank = np.full((20, 30), 255, np.uint8)
    for lines in (blank, np.zeros((20, 30), np.uint8)):
        got, n = label_regions(lines, close_gaps=close_gaps, min_area=min_area)
        want, m = _old_label_regions(lines, close_gaps, min_area)
        assert n == m
        np.testing.assert_array_equal(got, want)


def test_vote_trust_of_a_large_frame_is_opencvs_transform_within_the_band(monkeypatch) -> None:
    """``_trust_kernel`` (the distance measured only near ink) gives OpenCV's 3x3 chamfer over 3 px, clipped, bit
    for bit: drawn regions, random ink at several densities (specks, strokes, nearly all ink), no ink, all ink."""
    from lacvid.compose.regions import label_regions
    from lacvid.util import kernels

    def opencv(labels: np.ndarray) -> np.ndarray:
        dist = cv2.distanceTransform((labels > 0).view(np.uint8), cv2.DIST_L2, 3)
        return np.clip(dist / np.float32(3.0), 0.2, 1.0)

    rng = np.random.default_rng(12)
    lines = np.full((120, 170), 255, np.uint8)
    for _ in range(12):
        a, b = rng.integers(0, [170, 120], 2), rng.integers(0, [170, 120], 2)
        cv2.line(lines, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), 0, int(rng.integers(1, 4)), cv2.LINE_AA)
    cases = [label_regions(lines)[0]]
    cases += [(rng.random((97, 133)) > p).astype(np.int32) for p in (0.001, 0.02, 0.3, 0.9, 0.999)]
    cases += [np.ones((40, 50), np.int32), np.zeros((40, 50), np.int32), -np.ones((3, 4), np.int32)]
    monkeypatch.setattr(kernels, "KERNEL_MIN_PIXELS", 0)
    for labels in cases:
        got = vote_trust(labels)
        assert got.dtype == np.float32 and got.tobytes() == opencv(labels).tobytes()
