"""What a run shows while it trains: RUN/losses.csv, the losses.png curves, sample grids.

Everything is drawn with cv2 (no plotting dependency for one PNG) and written atomically,
so a run stopped at any moment leaves whole files only.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from lacvid.util.arrays import float_to_image
from lacvid.util.outputs import atomic_output

LOSS_COLUMNS = ("step", "stage", "lr", "d", "g", "l1", "perceptual", "style", "latent", "adv", "seconds")
_CURVES = ("g", "d", "l1", "perceptual", "style", "latent", "adv")
_CURVE_COLORS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
                 (227, 119, 194))
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_BLACK = (0, 0, 0)


def write_png(path: Path, image: np.ndarray) -> None:
    """RGB uint8 (H, W, 3) -> ``path``, replacing it atomically."""
    with atomic_output(path, overwrite=True) as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
            raise OSError(f"cannot write {tmp}")


def write_json(path: Path, data: dict[str, Any]) -> None:
    """``data`` as indented JSON -> ``path``, replacing it atomically."""
    with atomic_output(path, overwrite=True) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n")


def _text(img: np.ndarray, text: str, at: tuple[int, int], scale: float = 0.4) -> None:
    cv2.putText(img, text, at, _FONT, scale, _BLACK, 1, cv2.LINE_AA)


def sample_grid(rows: list[list[torch.Tensor]], labels: list[str], size: int) -> np.ndarray:
    """One row per sample, one labelled column per image ((C, h, w) in [0, 1], resized to ``size``)."""
    head = 16
    cols = len(labels)
    grid = np.full((head + len(rows) * (size + 2), cols * (size + 2), 3), 255, np.uint8)
    for j, label in enumerate(labels):
        _text(grid, label, (j * (size + 2) + 2, 12))
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            image = float_to_image(img.detach().float().cpu().numpy(), rgb=True)  # (h, w, 3) uint8
            tile = cv2.resize(image, (size, size), interpolation=cv2.INTER_NEAREST)
            y, x = head + i * (size + 2), j * (size + 2)
            grid[y:y + size, x:x + size] = tile
    return grid


def sample_labels(stage: str, columns: int) -> list[str]:
    """Column titles of a stage's sample grid: lines, the K references, two network outputs, y, truth."""
    return ["lines", *[f"ref{i}" for i in range(columns - 5)],
            *(("y_sim", "y_mid") if stage == "color" else ("net t-1", "net t")), "y", "truth"]


def _smoothed_curves(rows: list[dict[str, str]], names: list[str]) -> dict[str, np.ndarray]:
    """log10 of each logged loss, moving-averaged so noisy GAN losses stay readable (NaN: not logged)."""
    series = {}
    for name in names:
        v = np.array([float(r[name]) if r.get(name) not in (None, "") else np.nan for r in rows])
        v = np.log10(np.clip(np.abs(v), 1e-4, None))
        k = max(1, len(v) // 100)
        ok = ~np.isnan(v)
        if ok.sum() < 2:
            continue
        sm = np.convolve(np.where(ok, v, 0), np.ones(k), "same") / np.maximum(np.convolve(ok, np.ones(k), "same"), 1)
        series[name] = np.where(ok, sm, np.nan)
    return series


def plot_losses(csv_path: Path, png_path: Path, width: int = 900, height: int = 480) -> None:
    """Draw losses.csv as log-scale curves (smoothed) with cv2: no plotting dependency for one PNG."""
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    if len(rows) < 2:
        return
    names = [c for c in _CURVES if any(r.get(c) for r in rows)]
    series = _smoothed_curves(rows, names)
    if not series:
        return
    steps = np.array([float(r["step"]) for r in rows])
    lo = math.floor(min(np.nanmin(s) for s in series.values()))
    hi = math.ceil(max(np.nanmax(s) for s in series.values()))
    plot = _Plot(width, height, x=(steps.min(), max(steps.max(), steps.min() + 1)), y=(lo, max(hi, lo + 1)))
    plot.axes()
    for i, (name, v) in enumerate(series.items()):
        plot.curve(i, name, _CURVE_COLORS[names.index(name) % len(_CURVE_COLORS)], steps, v)
    write_png(png_path, plot.img)


class _Plot:
    """A white canvas with a plot area: x in steps, y in decades (log10), legend on the right."""

    left, right, top, bottom = 60, 130, 20, 40

    def __init__(self, width: int, height: int, x: tuple[float, float], y: tuple[int, int]) -> None:
        self.img = np.full((height, width, 3), 255, np.uint8)
        self.height = height
        self.pw, self.ph = width - self.left - self.right, height - self.top - self.bottom
        (self.x0, self.x1), (self.lo, self.hi) = x, y

    def px(self, s: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.stack([self.left + (s - self.x0) / (self.x1 - self.x0) * self.pw,
                         self.top + (self.hi - v) / (self.hi - self.lo) * self.ph], 1)

    def axes(self) -> None:
        img, left, top, pw, ph = self.img, self.left, self.top, self.pw, self.ph
        cv2.rectangle(img, (left, top), (left + pw, top + ph), _BLACK, 1)
        for e in range(self.lo, self.hi + 1):
            y = int(top + (self.hi - e) / (self.hi - self.lo) * ph)
            cv2.line(img, (left, y), (left + pw, y), (220, 220, 220), 1)
            _text(img, f"1e{e}", (8, y + 4))
        for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
            x = int(left + frac * pw)
            _text(img, f"{int(self.x0 + frac * (self.x1 - self.x0))}", (x - 12, top + ph + 16))
        _text(img, "step", (left + pw // 2 - 12, self.height - 6), 0.45)

    def curve(self, i: int, name: str, color: tuple[int, int, int], steps: np.ndarray, v: np.ndarray) -> None:
        ok = ~np.isnan(v)
        pts = self.px(steps[ok], v[ok]).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(self.img, [pts], False, color, 1, cv2.LINE_AA)
        y, x = self.top + 10 + 18 * i, self.left + self.pw
        cv2.line(self.img, (x + 10, y), (x + 30, y), color, 2)
        _text(self.img, name, (x + 36, y + 4), 0.45)


class LossLog:
    """RUN/losses.csv; on resume, rows past the resumed step are dropped (they are redone)."""

    def __init__(self, path: Path, resume_step: int | None) -> None:
        self.path = path
        rows: list[dict[str, str]] = []
        if resume_step is not None and path.exists():
            with open(path, newline="") as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) <= resume_step]
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, LOSS_COLUMNS)
            w.writeheader()
            w.writerows(rows)
        self._f = open(path, "a", newline="")
        self._w = csv.DictWriter(self._f, LOSS_COLUMNS)

    def write(self, row: dict[str, Any]) -> None:
        self._w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
        self._f.flush()  # a few bytes a step; lets people watch a long run with tail -f

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        self._f.close()
