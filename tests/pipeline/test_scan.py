"""The scan: every frame prepared into the cache and summarised for shot detection on the pool's threads, the
summaries compared in order on the scanning thread, so the shots are what the serial detector finds; the ink model
it fitted is kept with the scan, so colouring the shots reads it instead of fitting it again."""

from __future__ import annotations

import numpy as np

from lacvid.media import probe
from lacvid.media.images import write_image
from lacvid.pipeline.cache import ColorizeCache
from lacvid.pipeline.options import ScanOptions
from lacvid.pipeline.scan import scan
from lacvid.preprocess.frame import working_size
from lacvid.preprocess.ink import InkModel
from lacvid.progress import NULL_PROGRESS
from lacvid.shots import detect_shots
from lacvid.synth import render_shot


def _two_shots(folder, height: int = 120, width: int = 160) -> list[np.ndarray]:
    """Pencil drawings of two different scenes, 9 frames each, written as a frame folder."""
    folder.mkdir()
    drawings = [d for seed in (3, 11) for _, d in render_shot(seed, 0, 9, height, width, style="pencil")]
    for i, drawing in enumerate(drawings):
        write_image(folder / f"{i:04d}.png", drawing)
    return drawings


def test_the_scan_finds_the_serial_detectors_shots_and_keeps_its_ink_model(tmp_path) -> None:
    drawings = _two_shots(tmp_path / "frames")
    info = probe(tmp_path / "frames")
    work = working_size(info.height, info.width, 64)
    with ColorizeCache(tmp_path / "cache", "scan-test") as cache:
        prep = cache.prep("scan-test", (info.height, info.width), work)
        assert prep.ink_model() is None  # nothing scanned yet
        n_frames, names, shots = scan(info, prep, ScanOptions(line_mode="lines"), work, NULL_PROGRESS)
        assert n_frames == len(drawings) and names == [f"{i:04d}.png" for i in range(len(drawings))]
        assert shots == detect_shots(drawings)
        assert len(shots) == 2 and shots[1].start == 9  # the cut between the two scenes
        assert prep.ink_model() == InkModel.fit([drawings[0]])
        assert all(prep.frames.is_done(i) for i in range(n_frames))
