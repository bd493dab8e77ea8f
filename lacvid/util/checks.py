"""One check for every array a public function takes: type, dtype, shape, memory layout.

A Numba kernel given the wrong dtype or a strided view either fails with a typing error
pages long or, worse, reads the wrong memory; so each checked wrapper calls ``check_array``
first, and a caller gets one sentence naming the argument and what it should be.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# A shape entry: an int is an exact size, a str (a name such as "H") or None any size.
Dim = int | str | None


def _shape_text(shape: Sequence[Dim]) -> str:
    """``("H", "W", 3)`` -> ``"(H, W, 3)"``; None shows as ``_``."""
    parts = ["_" if d is None else str(d) for d in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def check_array(x: object, name: str, dtype: type | np.dtype | tuple | None = None,
                shape: Sequence[Dim] | None = None, *, contiguous: bool = False) -> np.ndarray:
    """``x`` itself when it is a numpy array of ``dtype`` (one, or a tuple of allowed ones) and
    ``shape`` (its length is the number of dimensions); raise ``ValueError`` naming ``name`` otherwise.

    ``contiguous``: also require C order, as the Numba kernels index raw memory.
    """
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(x).__name__}")
    if dtype is not None:
        allowed = [np.dtype(d) for d in (dtype if isinstance(dtype, tuple) else (dtype,))]
        if x.dtype not in allowed:
            want = " or ".join(d.name for d in allowed)
            raise ValueError(f"{name} must be {want}, got {x.dtype}")
    if shape is not None:
        if x.ndim != len(shape):
            raise ValueError(f"{name} must have {len(shape)} dimensions {_shape_text(shape)}, got shape {x.shape}")
        if any(isinstance(d, int) and n != d for n, d in zip(x.shape, shape)):
            raise ValueError(f"{name} must have shape {_shape_text(shape)}, got {x.shape}")
    if contiguous and not x.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous (use np.ascontiguousarray)")
    return x


def check_same_shape(**arrays: np.ndarray) -> None:
    """All ``arrays`` share their first two dimensions (one frame's (H, W))."""
    shapes = {k: v.shape[:2] for k, v in arrays.items()}
    if len(set(shapes.values())) != 1:
        raise ValueError("arrays must share (H, W): " + ", ".join(f"{k} {s}" for k, s in shapes.items()))
