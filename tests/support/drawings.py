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


def revealed_box(t: int, pan: int, h: int = 64, w: int = 128, at: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(line art, painted truth RGB) of frame ``t`` of a shot where nothing moves but on frame ``at``, where the
    camera pans ``pan`` px right and shows a green box that no other frame holds. Red left of a line, blue
    right of it. With a pan of 40 px the box lies where the frames before and after have nothing (every
    pixel of it flows out of their picture), so the propagation has no evidence for it, and the nearest key
    paints its place half red, half blue: the network's vote decides it. Without a pan the box lies on the
    blue of its neighbours and the propagation colours it."""
    o = pan if t == at else 0
    lines = np.full((h, w), 255, np.uint8)
    color = np.zeros((h, w, 3), np.uint8)
    x = w - 20 - o
    color[:, :x], color[:, x:] = (200, 40, 40), (40, 60, 200)
    cv2.line(lines, (x, 0), (x, h - 1), 0, 2)
    if t == at:
        cv2.rectangle(lines, (w - 36, 12), (w - 6, h - 12), 0, 2)
        color[12:h - 12, w - 36:w - 6] = (40, 180, 60)
    color[lines < 128] = 0
    return lines, color


def write_revealed_box(root: Path, pan: int, n: int = 5) -> tuple[Path, Path]:
    """``revealed_box``'s shot of ``n`` frames as line-art PNGs in ``root/lines`` and its first and last frame's
    paint in ``root/keys``: (lines folder, keys folder)."""
    lines_dir, keys_dir = Path(root) / "lines", Path(root) / "keys"
    lines_dir.mkdir(parents=True)
    keys_dir.mkdir()
    for t in range(n):
        lines, color = revealed_box(t, pan)
        cv2.imwrite(str(lines_dir / f"{t:04d}.png"), lines)
        if t in (0, n - 1):
            cv2.imwrite(str(keys_dir / f"{t:04d}.png"), cv2.cvtColor(color, cv2.COLOR_RGB2BGR))
    return lines_dir, keys_dir
