"""Distance fields equal scipy's exact EDT; the shared normalisation is bounded and finite."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy import ndimage

from lacvid.preprocess import distance
from lacvid.preprocess.distance import DEFAULT_SCALE, distance_transform, nearest_values, normalized_distance


@pytest.mark.parametrize("shape,density", [((64, 80), 0.02), ((33, 47), 0.2), ((100, 30), 0.001)])
def test_equals_scipy_exact_edt(shape: tuple[int, int], density: float) -> None:
    rng = np.random.default_rng(0)
    mask = rng.random(shape) < density
    mask[0, 0] = True
    d = distance_transform(mask)
    assert d.dtype == np.float32 and d.shape == shape
    np.testing.assert_allclose(d, ndimage.distance_transform_edt(~mask), atol=1e-3)


def test_uint8_mask_accepted() -> None:
    mask = np.zeros((20, 20), np.uint8)
    mask[10, 10] = 1
    assert distance_transform(mask)[10, 13] == pytest.approx(3.0, abs=1e-4)


def test_no_ink_is_finite() -> None:
    d = distance_transform(np.zeros((30, 40), bool))
    assert np.isfinite(d).all() and (d == pytest.approx(50.0))
    nd = normalized_distance(np.full((30, 40), 255, np.uint8))
    assert (nd == 1.0).all() and nd.dtype == np.float32


def test_normalised_distance_contract() -> None:
    lines = np.full((50, 60), 255, np.uint8)
    lines[25, :] = 0
    nd = normalized_distance(lines)
    assert nd.dtype == np.float32 and nd.min() == 0.0 and nd.max() < 1.0
    assert (nd[25] == 0).all()
    assert nd[25 + 8, 0] == pytest.approx(1 - np.exp(-8 / DEFAULT_SCALE), abs=1e-5)
    assert np.all(np.diff(nd[25:, 0]) > 0)  # rises with distance, never saturates


def test_bad_input_rejected() -> None:
    with pytest.raises(ValueError):
        distance_transform(np.zeros((4, 4, 3), bool))
    with pytest.raises(ValueError):
        distance_transform(np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError):
        normalized_distance(np.zeros((4, 4), np.float32))


def test_nearest_values_copies_the_nearest_source() -> None:
    rng = np.random.default_rng(3)
    sources = np.zeros((40, 60), bool)
    ys, xs = rng.integers(0, 40, 25), rng.integers(0, 60, 25)
    sources[ys, xs] = True
    values = rng.integers(1, 1000, sources.shape).astype(np.int32)
    got = nearest_values(values, sources)
    sy, sx = np.nonzero(sources)
    gy, gx = np.mgrid[0:40, 0:60]
    d = np.hypot(gy[..., None] - sy, gx[..., None] - sx)                       # (H, W, S)
    order = np.sort(d, -1)
    clear = order[..., 1] - order[..., 0] > 0.5  # the 5x5 mask is near-Euclidean: skip near-ties
    want = values[sy, sx][d.argmin(-1)]
    assert clear.mean() > 0.5
    np.testing.assert_array_equal(got[clear], want[clear])
    np.testing.assert_array_equal(got[sources], values[sources])


def _opencv_nearest(sources: np.ndarray) -> np.ndarray:
    return cv2.distanceTransformWithLabels((~sources).view(np.uint8), cv2.DIST_L2, 5,
                                           labelType=cv2.DIST_LABEL_PIXEL)[1]


@pytest.mark.parametrize("density", [0.0005, 0.02, 0.3, 0.8, 0.97, 1.0])
def test_nearest_source_kernel_is_opencvs_labelled_transform(density: float) -> None:
    """The kernel large frames run gives OpenCV's labels bit for bit (its ties included), from a lone
    source to sources everywhere, at sizes down to one pixel wide."""
    rng = np.random.default_rng(int(density * 1e4))
    for h, w in [(1, 1), (1, 17), (23, 1), (5, 5), (31, 57), (64, 48)]:
        sources = rng.random((h, w)) < density
        sources[rng.integers(h), rng.integers(w)] = True
        got = distance._nearest_source_kernel(sources, distance._NO_VALUES, distance._CARRY_RANK)
        np.testing.assert_array_equal(got, _opencv_nearest(sources))


def test_nearest_source_at_1080p_matches_opencv_on_strokes() -> None:
    """At 1080p ``nearest_source`` runs the kernel: thin strokes and blobs of non-source over paper, as a
    drawing's regions leave them, give OpenCV's labels."""
    paper = np.full((1080, 1920), 255, np.uint8)
    rng = np.random.default_rng(5)
    for _ in range(60):
        p, q = rng.integers(0, 1920, 2), rng.integers(0, 1080, 2)
        cv2.line(paper, (int(p[0]), int(q[0])), (int(p[1]), int(q[1])), 0, int(rng.integers(1, 6)))
    cv2.circle(paper, (900, 500), 120, 0, -1)  # a solid ink area: distances far beyond one step
    sources = paper > 0
    assert distance.worth_compiling(sources.size)
    np.testing.assert_array_equal(distance.nearest_source(sources), _opencv_nearest(sources))
    # What the kernel carries instead of OpenCV's label is the same source's: its value, where it lies.
    values = rng.integers(-5, 1000, sources.shape).astype(np.int32)
    gathered = np.zeros(sources.sum() + 1, np.int32)
    gathered[_opencv_nearest(sources)[sources]] = values[sources]
    np.testing.assert_array_equal(distance.nearest_values(values, sources), gathered[_opencv_nearest(sources)])
    index = distance.nearest_source_index(sources)
    np.testing.assert_array_equal(index, np.flatnonzero(sources)[_opencv_nearest(sources) - 1])
    assert distance.nearest_source_index(sources[:300, :400]).max() < 300 * 400  # the small-frame path
