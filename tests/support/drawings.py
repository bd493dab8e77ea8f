"""Colorize a few drawn frames through the CLI, in process: the end-to-end tests that draw their own
shot (a ball, a gradient, a character entering) and look at what comes out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

from tests.support.tiny_clip import tiny_model


def colorize_drawings(root: Path, frames: Sequence[tuple[np.ndarray, np.ndarray]], *flags: str) -> list[np.ndarray]:
    """``frames``: (drawing RGB, painted truth RGB) per frame; the first and last truths are the keys.
    Runs ``lacvid colorize`` (one shot, a tiny random model, one torch thread) and returns the
    finished frames, RGB."""
    from lacvid.cli import app
    from tests.support.cli import cli_runner

    root = Path(root)
    (root / "lines").mkdir()
    (root / "keys").mkdir()
    for t, (drawing, color) in enumerate(frames):
        cv2.imwrite(str(root / "lines" / f"{t:04d}.png"), cv2.cvtColor(drawing, cv2.COLOR_RGB2BGR))
        if t in (0, len(frames) - 1):
            cv2.imwrite(str(root / "keys" / f"{t:04d}.png"), cv2.cvtColor(color, cv2.COLOR_RGB2BGR))
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        res = cli_runner().invoke(app, ["colorize", str(root / "lines"), "--keys", str(root / "keys"), "-o",
                                       str(root / "out"), "-q", "--model", str(tiny_model(root / "tiny.pt")),
                                       "--cache", str(root / "cache"), "--shots", "single", *flags])
    finally:
        torch.set_num_threads(before)
    assert res.exit_code == 0, res.stderr
    return [cv2.cvtColor(cv2.imread(str(root / "out" / f"{t:04d}.png")), cv2.COLOR_BGR2RGB)
            for t in range(len(frames))]
