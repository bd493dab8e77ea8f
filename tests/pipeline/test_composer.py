"""The composer: frames composed on several threads, written in submission order, errors and Ctrl-C."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from lacvid.compose.layers import Layers
from lacvid.media import read_frames
from lacvid.media.write import FrameDirWriter
from lacvid.pipeline.compose import Composer


def solid(value: int, delay: float = 0.0, started: list | None = None):
    """A frame job: an opaque grey paint layer of ``value``, after ``delay`` seconds."""
    def make() -> Layers:
        if started is not None:
            started.append(value)
        time.sleep(delay)
        paint = np.zeros((8, 12, 4), np.uint8)
        paint[..., :3], paint[..., 3] = value, 255
        return Layers(paint, np.zeros((8, 12, 4), np.uint8))
    return make


def test_frames_come_out_in_order_though_later_ones_compose_faster(tmp_path: Path) -> None:
    written: list[int] = []
    out = tmp_path / "out"
    with FrameDirWriter(out) as writer:
        composer = Composer(writer, lambda: written.append(1), workers=3, ahead=4)
        for i in range(10):  # early frames slow, late ones quick: they finish out of order
            composer.submit(solid(20 * i, delay=0.05 * (i % 3 == 0)), f"{i:04d}.png")
        composer.wait_written(5)
        assert composer.written >= 5
        composer.close()
    frames = list(read_frames(out))
    assert [f.name for f in frames] == [f"{i:04d}.png" for i in range(10)]
    assert [int(f.image[0, 0, 0]) for f in frames] == [20 * i for i in range(10)]
    assert len(written) == 10


def test_a_frames_error_reaches_the_caller_and_later_frames_are_not_written(tmp_path: Path) -> None:
    def broken() -> Layers:
        raise ValueError("frame 3 is broken")

    names: list[str] = []

    class Recorder:
        def write(self, image: np.ndarray, name: str | None = None) -> None:
            names.append(name)

    composer = Composer(Recorder(), lambda: None, workers=2)
    for i in range(6):
        composer.submit(broken if i == 3 else solid(i), f"{i}")
    with pytest.raises(ValueError, match="frame 3 is broken"):
        composer.wait_written(6)
    with pytest.raises(ValueError, match="frame 3 is broken"):
        composer.close()
    assert names == ["0", "1", "2"]


def test_closing_after_a_failure_elsewhere_drops_the_frames_not_yet_composed() -> None:
    started: list[int] = []
    release = threading.Event()

    class Slow:
        def write(self, image: np.ndarray, name: str | None = None) -> None:
            release.wait(5)
            time.sleep(0.02)  # 50 frames would take a second

    composer = Composer(Slow(), lambda: None, workers=1, ahead=1)
    for i in range(50):
        composer.submit(solid(i, started=started), f"{i}")
    time.sleep(0.1)
    release.set()
    t0 = time.perf_counter()
    composer.close(drop=True)  # as after Ctrl-C in the caller
    assert time.perf_counter() - t0 < 5
    assert len(started) < 50
