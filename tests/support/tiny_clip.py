"""A tiny colorize job for reliability tests: one 8-frame synth shot at 48x64, two painted keys,
a random width-4 model. Small enough that a real ``lacvid colorize`` subprocess takes seconds."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

from lacvid.models.checkpoint import build_net, save_checkpoint
from lacvid.models.config import ColorNetConfig, ModelConfig, TemporalNetConfig
from lacvid.synth import render_shot

H, W, N = 48, 64, 8
KEYS = (0, N - 1)


def make_clip(root: Path, n: int = N) -> dict:
    """Line-art frames ``0000.png``..., keys named like them, a tiny model, a cache folder."""
    root = Path(root)
    lines_dir, keys_dir = root / "lines", root / "keys"
    lines_dir.mkdir(parents=True)
    keys_dir.mkdir()
    colors, lines = [], []
    for i, (color, ink) in enumerate(render_shot(3, 0, n, H, W)):
        assert cv2.imwrite(str(lines_dir / f"{i:04d}.png"), ink)
        colors.append(color)
        lines.append(ink)
    for i in (0, n - 1):
        assert cv2.imwrite(str(keys_dir / f"{i:04d}.png"), cv2.cvtColor(colors[i], cv2.COLOR_RGB2BGR))
    return dict(root=root, lines_dir=lines_dir, keys_dir=keys_dir, model=tiny_model(root / "tiny.pt"),
                cache=root / "cache", colors=colors, lines=lines)


def tiny_model(path: Path) -> Path:
    """A random width-4 checkpoint (seed 0): the networks' guesses are noise, so whatever a test
    sees painted right was painted by the keys."""
    torch.manual_seed(0)
    config = ModelConfig(color=ColorNetConfig(width=4, res_blocks=1), temporal=TemporalNetConfig(width=4))
    return Path(save_checkpoint(path, config=config,
                                nets={"color": build_net("color", config), "temporal": build_net("temporal", config)}))


def make_shots_clip(root: Path, lengths: tuple[int, ...] = (6, 5, 7)) -> dict:
    """Like ``make_clip`` but several shots (different scenes), keys at both ends of each, and a
    ``shots.json`` naming the cuts (``--shots FILE``), so no test depends on cut detection."""
    root = Path(root)
    clip = make_clip(root, n=1)  # the model and folders; its one frame is replaced below
    for folder in (clip["lines_dir"], clip["keys_dir"]):
        for p in folder.iterdir():
            p.unlink()
    colors, lines, shots, t = [], [], [], 0
    for number, length in enumerate(lengths):
        for i, (color, ink) in enumerate(render_shot(11 + number, number, length, H, W)):
            assert cv2.imwrite(str(clip["lines_dir"] / f"{t:04d}.png"), ink)
            if i in (0, length - 1):
                assert cv2.imwrite(str(clip["keys_dir"] / f"{t:04d}.png"), cv2.cvtColor(color, cv2.COLOR_RGB2BGR))
            colors.append(color)
            lines.append(ink)
            t += 1
        shots.append({"start": t - length, "stop": t})
    (root / "shots.json").write_text(json.dumps({"shots": shots}))
    return {**clip, "colors": colors, "lines": lines, "shots": shots, "shots_file": root / "shots.json"}


def colorize_args(clip: dict, out: Path, *extra: str, source: Path | None = None) -> list[str]:
    return ["colorize", str(source or clip["lines_dir"]), "--keys", str(clip["keys_dir"]), "-o", str(out),
            "--model", str(clip["model"]), "--cache", str(clip["cache"]), "--backend", "torch", *extra]


def preview_args(clip: dict, sheet: Path, *extra: str) -> list[str]:
    """``lacvid preview`` of a ``make_shots_clip`` clip (its cuts from ``shots.json``), quiet."""
    return ["preview", str(clip["lines_dir"]), "--keys", str(clip["keys_dir"]), "-o", str(sheet), "--model",
            str(clip["model"]), "--cache", str(clip["cache"]), "--backend", "torch", "--shots",
            str(clip["shots_file"]), "-q", *extra]


def lacvid_process(args: list[str], **kw) -> subprocess.Popen:
    """A real ``python -m lacvid ARGS`` process (one torch thread: the test machine is shared)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "LACVID_THREADS": "1"}
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen([sys.executable, "-m", "lacvid", *args], text=True, env=env, **kw)


def folder_hashes(folder: Path) -> dict[str, str]:
    """Name -> sha256 of every file in ``folder``: byte-identical outputs have equal dicts."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).iterdir())}


def read_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
