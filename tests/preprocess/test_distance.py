"""Distance fields equal scipy's exact EDT; the shared normalisation is bounded and finite."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

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
