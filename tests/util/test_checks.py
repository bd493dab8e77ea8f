"""``check_array``: the one argument check every array-taking function shares."""

from __future__ import annotations

import numpy as np
import pytest

from lacvid.util.checks import check_array, check_same_shape


def test_a_good_array_comes_back_unchanged() -> None:
    x = np.zeros((4, 5, 3), np.uint8)
    assert check_array(x, "rgb", np.uint8, ("H", "W", 3), contiguous=True) is x
    assert check_array(x[:, :, 0], "any", (np.uint8, np.bool_), ("H", None)) is not None


@pytest.mark.parametrize("value, kwargs, message", [
    ([[1, 2]], {}, "rgb must be a numpy array, got list"),
    (np.zeros((2, 2), np.float64), {"dtype": np.float32}, "rgb must be float32, got float64"),
    (np.zeros((2, 2), np.int64), {"dtype": (np.uint8, np.bool_)}, "rgb must be uint8 or bool, got int64"),
    (np.zeros((2, 2)), {"shape": ("H", "W", 3)}, r"rgb must have 3 dimensions \(H, W, 3\), got shape \(2, 2\)"),
    (np.zeros((2, 2, 4)), {"shape": ("H", "W", 3)}, r"rgb must have shape \(H, W, 3\), got \(2, 2, 4\)"),
    (np.zeros((3,)), {"shape": (4,)}, r"rgb must have shape \(4,\), got \(3,\)"),
    (np.zeros((4, 4))[:, ::2], {"contiguous": True}, "rgb must be C-contiguous"),
])
def test_each_wrong_property_is_named(value, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        check_array(value, "rgb", **kwargs)


def test_arrays_of_one_frame_share_height_and_width() -> None:
    check_same_shape(a=np.zeros((3, 4)), b=np.zeros((3, 4, 3)))
    with pytest.raises(ValueError, match=r"arrays must share \(H, W\): a \(3, 4\), b \(3, 5\)"):
        check_same_shape(a=np.zeros((3, 4)), b=np.zeros((3, 5)))
