"""Line-enclosed regions of a line-art frame, and per-region statistics.

A cel painter fills each area enclosed by lines with one colour; ``--flat`` and the
region-voting colouriser work on exactly those areas. Drawn lines rarely close perfectly,
so small gaps are bridged before labelling, without losing thin regions (see
``label_regions``).

The per-region statistics no OpenCV call provides (weighted votes over palette entries,
per-channel medians) are Numba kernels, each behind a public wrapper that checks shape,
dtype and contiguity, because a Numba kernel given the wrong array crashes or silently
computes nonsense.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
from numba import prange

from lacvid.preprocess.distance import nearest_values
from lacvid.preprocess.lines import INK_THRESHOLD, line_mask
from lacvid.util.checks import check_array
from lacvid.util.kernels import RowKernel, kernel, sum_rows

__all__ = [
    "ink_mask",
    "label_regions",
    "fill_ink_labels",
    "grow_labels",
    "region_palette_votes",
]

def ink_mask(lines: np.ndarray, threshold: int = INK_THRESHOLD) -> np.ndarray:
    """True where ``lines`` (uint8 (H, W), 255 = paper) is ink: the pixels regions exclude."""
    check_array(lines, "lines", np.uint8, ("H", "W"))
    return line_mask(lines, threshold)  # (H, W) bool


def _nearest_fill(labels: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Copy to every pixel the label of the nearest pixel where ``known`` is True."""
    if known.all() or not known.any():
        return labels
    return nearest_values(labels, known)  # (H, W)


def label_regions(
    lines: np.ndarray,
    close_gaps: int = 2,
    min_area: int = 8,
    threshold: int = INK_THRESHOLD,
) -> tuple[np.ndarray, int]:
    """Label the non-ink areas enclosed by lines.

    Returns ``(labels, n)``: int32 (H, W) with 0 on ink and 1..n on regions.

    Gaps up to ``close_gaps`` px wide (rounded up to even) are closed: the ink is dilated by
    a disc so that such gaps are bridged, the paper left over gives one seed per region, and
    the seeds grow back over the paper (never across ink) until every paper pixel belongs
    to one. An area that disappears entirely under the dilation (a strip thinner than the
    gap size) is kept as a region of its own rather than swallowed, so closing gaps never
    erases thin painted areas. Regions smaller than ``min_area`` px (specks between crossing strokes, leftovers
    of anti-aliasing) are merged into a neighbour. Paper is 4-connected, so an 8-connected
    stroke separates. The price of closing: a region pinched to a neck narrower than the
    gap size is cut in two there, as a painter's gap-closing fill tool would.
    """
    ink = ink_mask(lines, threshold)  # (H, W) bool
    paper = np.ascontiguousarray(~ink)  # (H, W) bool
    seeds, ns = np.zeros(paper.shape, np.int32), 1
    if close_gaps > 0 and paper.any():
        r = (int(close_gaps) + 1) // 2  # a (2r+1) disc bridges gaps up to 2r px
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        seed_paper = cv2.erode(paper.view(np.uint8), disc)  # paper minus the dilated ink
        ns, seeds = cv2.connectedComponents(seed_paper, connectivity=4, ltype=cv2.CV_32S)
    # The seeds grown over the paper; paper no seed reaches (a strip thinner than the gap size: a component
    # with no seed) keeps a region of its own, numbered after the seeds as OpenCV numbers components.
    counts = _grow_regions(seeds, paper, ns)
    labels = seeds
    if min_area > 1:
        small = counts < min_area
        small[0] = False
        if small.any() and not small[1:].all():
            # Their pixels go to the neighbour that reaches them first, as ``grow_labels`` would grow them, the
            # others renumbered 1..n in their order: in one pass and a growth around the dropped pixels.
            keep = ~small
            lut = (np.cumsum(keep) - 1).astype(np.int32)                                  # old -> new label
            lost = _merge_small_kernel(labels, paper, small, lut, int(counts[small].sum()))
            if len(lost):  # specks walled in by ink: the nearest region instead
                _fill_walled_in(labels, *np.divmod(lost, labels.shape[1]))
            return labels, int(keep[1:].sum())
    return labels, len(counts) - 1


WALLED_TILE = 64         # px: specks are filled a tile of the frame at a time, from a crop around the tile
WALLED_MARGIN = 16       # px the crop first reaches beyond its tile (grown as a speck's distance needs)
WALLED_MAX_PIXELS = 1 << 14  # more walled-in pixels than this: the whole frame's transform at once


def _fill_walled_in(labels: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> None:
    """Give every pixel at (``ys``, ``xs``) (int arrays: paper no region grew into, specks walled in by ink) the label
    of its nearest labelled pixel, in place: ``nearest_values(labels, labels > 0)`` at those pixels, bit for bit.

    The specks are filled a tile at a time from a crop around the tile: a frame's few specks cost a few small
    transforms instead of two raster passes over the whole frame and a full-size ``np.where`` (~10 ms a 1080p
    frame). A crop reaches at least four times its specks' farthest distance to their nearest labelled pixel
    beyond the tile: it holds every labelled pixel that could be their nearest and every path the transform
    could bring one along, and whatever would have to come from outside is strictly farther than what is
    inside, so it can neither win nor tie (the transform's chamfer steps are within 2% of a path's length)."""
    h, w = labels.shape
    if len(ys) > WALLED_MAX_PIXELS:
        labels[ys, xs] = _nearest_fill(labels, labels > 0)[ys, xs]
        return
    columns = -(-w // WALLED_TILE)
    tiles = (ys // WALLED_TILE) * columns + xs // WALLED_TILE
    order = np.argsort(tiles, kind="stable")
    starts = np.flatnonzero(np.diff(tiles[order], prepend=-1))                        # each tile's first pixel
    fills = []
    for first, stop in zip(starts, [*starts[1:], len(order)]):  # each tile from the labels as they were
        ty, tx = divmod(int(tiles[order[first]]), columns)
        top, left = ty * WALLED_TILE, tx * WALLED_TILE
        bottom, right = min(h, top + WALLED_TILE), min(w, left + WALLED_TILE)
        py, px = ys[order[first:stop]], xs[order[first:stop]]                          # the tile's specks
        margin = WALLED_MARGIN
        while True:
            y0, y1 = max(0, top - margin), min(h, bottom + margin)
            x0, x1 = max(0, left - margin), min(w, right + margin)
            crop = np.ascontiguousarray(labels[y0:y1, x0:x1])                            # (h', w') int32
            known = crop > 0
            whole = (y0, y1, x0, x1) == (0, h, 0, w)
            if known.any():
                far = cv2.distanceTransform((~known).view(np.uint8), cv2.DIST_L2, 5)       # to the nearest label
                needed = int(np.ceil(4 * float(far[py - y0, px - x0].max()))) + 4
                if whole or margin >= needed:
                    fills.append((py, px, _nearest_fill(crop, known)[py - y0, px - x0]))
                    break
                margin = needed
            elif whole:  # no region anywhere: nothing to take
                break
            else:
                margin *= 2
    for py, px, values in fills:
        labels[py, px] = values


@kernel(nogil=True)
def _merge_small_kernel(labels, paper, small, lut, dropped_count):  # pragma: no cover
    # (H, W) int32 in place, bool, (n + 1,) bool, (n + 1,) int32, int -> (k,) int64 flat indices left unlabelled.
    # Every pixel renumbered by ``lut``, a small region's to 0; then those grow back from the pixels bordering
    # them, as ``_grow_kernel`` grows a frame where only they are unlabelled paper: its queue starts with every
    # labelled pixel that borders one, in raster order, and goes breadth first, so each takes the label that
    # reaches it first, the same one.
    h, w = labels.shape
    dropped = np.empty(dropped_count, np.int64)
    k = 0
    for y in range(h):
        for x in range(w):
            v = labels[y, x]
            if small[v]:
                labels[y, x] = 0
                dropped[k] = y * w + x
                k += 1
            else:
                labels[y, x] = lut[v]
    border = np.empty(4 * k, np.int64)
    m = 0
    for i in range(k):
        p = dropped[i]
        y = p // w
        x = p - y * w
        if y > 0 and labels[y - 1, x] > 0:
            border[m] = p - w
            m += 1
        if y < h - 1 and labels[y + 1, x] > 0:
            border[m] = p + w
            m += 1
        if x > 0 and labels[y, x - 1] > 0:
            border[m] = p - 1
            m += 1
        if x < w - 1 and labels[y, x + 1] > 0:
            border[m] = p + 1
            m += 1
    border = np.sort(border[:m])
    queue = np.empty(m + k, np.int64)
    tail = 0
    for i in range(m):
        if i == 0 or border[i] != border[i - 1]:
            queue[tail] = border[i]
            tail += 1
    _breadth_first(labels, paper, queue, tail)
    lost = np.empty(k, np.int64)
    j = 0
    for i in range(k):
        p = dropped[i]
        if labels[p // w, p % w] == 0:
            lost[j] = p
            j += 1
    return lost[:j].copy()


@kernel(nogil=True)
def _queue_frontier(labels, allowed, queue):  # pragma: no cover
    # Every labelled pixel with an unlabelled allowed 4-neighbour, in raster order, into ``queue``: how many.
    # Found from the unlabelled allowed pixels (a few per cent of a frame: each marks its labelled neighbours),
    # then the marks read in raster order, rather than four neighbours looked at for every labelled pixel.
    h, w = labels.shape
    mark = np.zeros((h, w), np.bool_)
    for y in range(h):
        for x in range(w):
            if labels[y, x] == 0 and allowed[y, x]:
                if y > 0 and labels[y - 1, x] > 0:
                    mark[y - 1, x] = True
                if y < h - 1 and labels[y + 1, x] > 0:
                    mark[y + 1, x] = True
                if x > 0 and labels[y, x - 1] > 0:
                    mark[y, x - 1] = True
                if x < w - 1 and labels[y, x + 1] > 0:
                    mark[y, x + 1] = True
    tail = 0
    for y in range(h):
        for x in range(w):
            if mark[y, x]:
                queue[tail] = y * w + x
                tail += 1
    return tail


@kernel(nogil=True)
def _breadth_first(labels, allowed, queue, tail):  # pragma: no cover
    # Grow the labels of the queued pixels (``queue[:tail]``, flat indices) over unlabelled allowed pixels, in
    # place, breadth first: each pixel joins the geodesically nearest queued pixel, the earlier queued of a tie.
    h, w = labels.shape
    head = 0
    while head < tail:
        p = queue[head]
        head += 1
        y = p // w
        x = p - y * w
        lab = labels[y, x]
        for k in range(4):
            yy = y + (1 if k == 0 else (-1 if k == 1 else 0))
            xx = x + (1 if k == 2 else (-1 if k == 3 else 0))
            if 0 <= yy < h and 0 <= xx < w and allowed[yy, xx] and labels[yy, xx] == 0:
                labels[yy, xx] = lab
                queue[tail] = yy * w + xx
                tail += 1


@kernel(nogil=True)
def _grow_regions(labels, paper, ns):  # pragma: no cover
    # (H, W) int32 seeds 1..ns-1 in place, bool -> (n + 1,) int64 pixels per label. The seeds grow over the paper
    # as ``_grow_kernel`` grows them; then each paper component no seed reached takes the next label, in the
    # raster order of its first pixel (as ``cv2.connectedComponents`` numbers components), flooded 4-connected.
    h, w = labels.shape
    queue = np.empty(h * w, np.int64)
    _breadth_first(labels, paper, queue, _queue_frontier(labels, paper, queue))
    nxt = ns
    for y in range(h):
        for x in range(w):
            if paper[y, x] and labels[y, x] == 0:
                labels[y, x] = nxt
                queue[0] = y * w + x
                _breadth_first(labels, paper, queue, 1)
                nxt += 1
    counts = np.zeros(nxt, np.int64)
    for y in range(h):  # a row is long runs of one label: each run counted in a register, added when it ends
        current, run = labels[y, 0], 0
        for x in range(w):
            lab = labels[y, x]
            if lab != current:
                counts[current] += run
                current, run = lab, 0
            run += 1
        counts[current] += run
    return counts


@kernel(nogil=True)
def _grow_kernel(labels, allowed):  # pragma: no cover
    out = labels.copy()
    queue = np.empty(labels.size, np.int64)
    _breadth_first(out, allowed, queue, _queue_frontier(out, allowed, queue))
    return out


def grow_labels(seeds: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Grow labelled seeds (int32 (H, W), 0 = unlabelled) over ``allowed`` pixels (bool (H, W)).

    4-connected breadth-first growth: a pixel takes the label of the seed it is reached
    from first, and growth never crosses a pixel that is not allowed (ink), which is what
    keeps a region's colour on its side of a line. Unreachable pixels stay 0.
    """
    check_array(seeds, "seeds", np.int32, ("H", "W"), contiguous=True)
    check_array(allowed, "allowed", np.bool_, seeds.shape, contiguous=True)
    return _grow_kernel(seeds, allowed)


def fill_ink_labels(labels: np.ndarray) -> np.ndarray:
    """Give every ink pixel (label 0) the label of the nearest region.

    Used before compositing: an anti-aliased ink pixel multiplies the colour beneath it,
    so the colour beneath must be that of the region it borders, not an undefined one.
    """
    check_array(labels, "labels", np.int32, ("H", "W"), contiguous=True)
    return _nearest_fill(labels, labels > 0).astype(np.int32)


# --------------------------------------------------------------------------- kernels


def _palette_votes_rows(labels, index, weights, n_regions, n_palette, n_chunks):  # pragma: no cover
    h, w = labels.shape
    acc = np.zeros((n_chunks, n_regions + 1, n_palette), np.float64)
    rows = (h + n_chunks - 1) // n_chunks
    for c in prange(n_chunks):  # one private accumulator per chunk of rows: no races
        for y in range(c * rows, min(h, (c + 1) * rows)):
            for x in range(w):
                lab = labels[y, x]
                if lab > 0:
                    acc[c, lab, index[y, x]] += weights[y, x]
    return acc  # (n_chunks, n_regions + 1, n_palette): summed by the wrapper (sum_rows)


_palette_votes_kernel = RowKernel(_palette_votes_rows, nogil=True)


def region_palette_votes(
    labels: np.ndarray,
    index: np.ndarray,
    weights: np.ndarray,
    n_regions: int,
    n_palette: int,
    threads: int | None = None,
) -> np.ndarray:
    """Weighted votes of each region for each palette entry: float64 (n_regions + 1, n_palette).

    ``labels`` int32 (H, W) from ``label_regions``; ``index`` int32 (H, W), the palette
    entry each pixel's colour is nearest to; ``weights`` float32 (H, W), the trust in each
    pixel. Row 0 (ink) stays zero. ``threads``: None = every CPU this process may use.
    The majority palette entry of a region is robust to colour bleeding in from a
    neighbour, where a mean or per-channel median would invent a colour in between.
    """
    check_array(labels, "labels", np.int32, ("H", "W"), contiguous=True)
    check_array(index, "index", np.int32, labels.shape, contiguous=True)
    check_array(weights, "weights", np.float32, labels.shape, contiguous=True)
    if n_palette < 1:
        raise ValueError(f"n_palette must be >= 1, got {n_palette}")
    if labels.size and (labels.min() < 0 or labels.max() > n_regions):
        raise ValueError(f"labels must lie in 0..{n_regions}, got {labels.min()}..{labels.max()}")
    if index.size and (index.min() < 0 or index.max() >= n_palette):
        raise ValueError(f"index must lie in 0..{n_palette - 1}, got {index.min()}..{index.max()}")
    return sum_rows(_palette_votes_kernel(labels, index, weights, int(n_regions), int(n_palette), threads=threads))


# The frame is composed at full resolution from inputs at working size. Each low-resolution input is
# sampled through its own nearest-neighbour maps (``nearest_map``) inside the kernels below, so no
# full-resolution copy of it (upsampled indices, confidences) is ever made; the maps are OpenCV's own,
# so every sample is the pixel ``cv2.resize(..., INTER_NEAREST)`` would have put there.


def nearest_map(small: int, full: int) -> np.ndarray:
    """int32 (full,): the source index of every output index along one axis of a ``cv2.resize`` from
    ``small`` to ``full`` pixels with ``INTER_NEAREST`` (taken from OpenCV itself, so it is exact)."""
    if small < 1 or full < 1:
        raise ValueError(f"sizes must be >= 1, got {small} -> {full}")
    return _nearest_map(small, full).copy()  # the caller's own (a frame asks for the same few a dozen times)


@functools.lru_cache(maxsize=64)
def _nearest_map(small: int, full: int) -> np.ndarray:
    row = np.arange(small, dtype=np.int32)[None]                                    # (1, small)
    return np.ascontiguousarray(cv2.resize(row, (full, 1), interpolation=cv2.INTER_NEAREST)[0])  # (full,)


def nearest_maps(shape: tuple[int, ...], size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(rows int32 (H,), columns int32 (W,)): where each pixel of ``size`` (H, W) samples an array of
    ``shape`` (h, w, ...) upsampled by nearest neighbour."""
    return nearest_map(shape[0], size[0]), nearest_map(shape[1], size[1])


def _sampled_votes_rows(labels, trust, index, iy, ix, weight, wy, wx, n_regions, n_palette,
                        threads):  # pragma: no cover
    h, w = labels.shape
    acc = np.zeros((threads, n_regions + 1, n_palette), np.float64)
    rows = (h + threads - 1) // threads
    for c in prange(threads):  # one private accumulator per chunk of rows: no races
        for y in range(c * rows, min(h, (c + 1) * rows)):
            yi, yw = iy[y], wy[y]
            # The (region, entry) cell being added to stays in a register along its run of pixels and goes back
            # when the run ends: the same additions in the same order, without a store and a load per pixel.
            lab0, p0, run = 0, 0, 0.0
            for x in range(w):
                lab = labels[y, x]
                if lab > 0:
                    p = index[yi, ix[x]]
                    if lab != lab0 or p != p0:
                        if lab0 > 0:
                            acc[c, lab0, p0] = run
                        lab0, p0 = lab, p
                        run = acc[c, lab, p]
                    run += trust[y, x] * weight[yw, wx[x]]  # float32 product first, as trust * weight map was
            if lab0 > 0:
                acc[c, lab0, p0] = run
    return acc


_sampled_votes_kernel = RowKernel(_sampled_votes_rows, nogil=True)


def sampled_palette_votes(labels: np.ndarray, trust: np.ndarray, index: np.ndarray, weight: np.ndarray | float,
                          n_regions: int, n_palette: int, threads: int | None = None) -> np.ndarray:
    """``region_palette_votes(labels, upsampled index, trust * upsampled weight)`` without the
    upsampled copies: float64 (n_regions + 1, n_palette), bit for bit the same.

    ``trust`` float32 (H, W) at the labels' size; ``index`` int32 (h, w) palette entries and ``weight``
    float32 (h', w') (or a number) at any size, each sampled by nearest neighbour (``nearest_map``).
    """
    check_array(labels, "labels", np.int32, ("H", "W"), contiguous=True)
    check_array(trust, "trust", np.float32, labels.shape, contiguous=True)
    check_array(index, "index", np.int32, ("h", "w"), contiguous=True)
    weight = np.ascontiguousarray(np.asarray(weight, np.float32).reshape(np.shape(weight) or (1, 1)))  # (h', w')
    check_array(weight, "weight", np.float32, ("h", "w"))
    if index.size and (index.min() < 0 or index.max() >= n_palette):
        raise ValueError(f"index must lie in 0..{n_palette - 1}, got {index.min()}..{index.max()}")
    if labels.size and (labels.min() < 0 or labels.max() > n_regions):
        raise ValueError(f"labels must lie in 0..{n_regions}, got {labels.min()}..{labels.max()}")
    iy, ix = nearest_maps(index.shape, labels.shape)
    wy, wx = nearest_maps(weight.shape, labels.shape)
    return sum_rows(_sampled_votes_kernel(labels, trust, index, iy, ix, weight, wy, wx, int(n_regions),
                                          int(n_palette), threads=threads))


@kernel(nogil=True)
def _region_sums_kernel(labels, values, vy, vx, n_regions):  # pragma: no cover
    h, w = labels.shape
    total = np.zeros(n_regions + 1, np.float64)
    count = np.zeros(n_regions + 1, np.int64)
    for y in range(h):  # pixel order, as np.bincount adds its weights
        yv = vy[y]
        # A region's sum and count stay in registers along its run of pixels (as in _sampled_votes_rows).
        run_lab, run_total, run_count = 0, 0.0, 0
        for x in range(w):
            lab = labels[y, x]
            if lab > 0:
                if lab != run_lab:
                    if run_lab > 0:
                        total[run_lab], count[run_lab] = run_total, run_count
                    run_lab, run_total, run_count = lab, total[lab], count[lab]
                run_total += values[yv, vx[x]]
                run_count += 1
        if run_lab > 0:
            total[run_lab], count[run_lab] = run_total, run_count
    return total, count


def region_sums(labels: np.ndarray, n: int, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(float64 (n + 1,), int64 (n + 1,)): the sum of ``values`` (float32 (h, w), at any size, sampled by
    nearest neighbour) over each region of ``labels`` (int32 (H, W)) and its pixel count; ink (0)
    counts nothing. Bit for bit ``np.bincount(labels[inside], weights=upsampled[inside])``."""
    check_array(labels, "labels", np.int32, ("H", "W"), contiguous=True)
    check_array(values, "values", np.float32, ("h", "w"), contiguous=True)
    if labels.size and (labels.min() < 0 or labels.max() > n):
        raise ValueError(f"labels must lie in 0..{n}, got {labels.min()}..{labels.max()}")
    vy, vx = nearest_maps(values.shape, labels.shape)
    return _region_sums_kernel(labels, values, vy, vx, int(n))


@kernel(nogil=True)
def _take_rows_kernel(table, labels):  # (K, C), (N,) int32 -> (N, C)
    n, c = labels.shape[0], table.shape[1]
    out = np.empty((n, c), table.dtype)
    if c == 3:  # a frame's RGB paint: three stores a pixel, not an inner loop of unknown length (1080p 5.6 -> 1.7 ms)
        for i in range(n):
            r = labels[i]
            out[i, 0] = table[r, 0]
            out[i, 1] = table[r, 1]
            out[i, 2] = table[r, 2]
        return out
    if c == 1:  # a frame's doubt, one byte a pixel (1080p 2.8 -> 1.2 ms)
        for i in range(n):
            out[i, 0] = table[labels[i], 0]
        return out
    for i in range(n):
        for k in range(c):
            out[i, k] = table[labels[i], k]
    return out


def paint_regions(table: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``table[labels]``: each region's row (``table`` (n + 1,) or (n + 1, C)) at each of its pixels
    (``labels`` int32 (H, W)) -> (H, W) or (H, W, C), in one pass (numpy's fancy index makes two)."""
    check_array(labels, "labels", np.int32, ("H", "W"), contiguous=True)
    if table.ndim not in (1, 2):
        raise ValueError(f"table must be (K,) or (K, C), got {table.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= len(table)):
        raise ValueError(f"labels must lie in 0..{len(table) - 1}, got {labels.min()}..{labels.max()}")
    rows = np.ascontiguousarray(table.reshape(len(table), -1))                      # (K, C)
    out = _take_rows_kernel(rows, labels.reshape(-1))                               # (N, C)
    return out.reshape(labels.shape + table.shape[1:])
