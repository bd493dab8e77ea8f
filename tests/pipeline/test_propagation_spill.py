"""The propagation's frames spilled to disk come back bit for bit, and the spill folder goes when the shot is done."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lacvid.pipeline.propagation import SpilledFrames
from lacvid.propagate.flow import distance_image
from lacvid.propagate.segments import segment


def test_spilled_frames_round_trip(tmp_path: Path) -> None:
    ink = np.zeros((40, 64), bool)
    ink[10, :] = ink[:, 30] = True
    seg = segment(ink)
    store = SpilledFrames(tmp_path)
    assert store.get(3) is None
    store.put(3, seg, distance_image(seg.dist))
    back, field = store.get(3)
    assert back.n == seg.n
    for name in ("labels", "interior", "area", "dist"):
        got, want = getattr(back, name), getattr(seg, name)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(back.centroids, seg.centroids)
    np.testing.assert_array_equal(field, distance_image(seg.dist))
