"""Which frame to paint next: ``lacvid keys --next`` against today's pick and the middle frame.

Usage::

    python benchmarks/next_key.py [--sets synth,pencil,stress,handdrawn] [--per-length 2]

Every shot starts from two painted keys, its first and last frame (the truth's colours there).
One more key is added, chosen three ways:

- ``--next``: ``lacvid keys LINES --keys KEYS --next 1`` (the frame whose painting would most
  reduce doubt: ``lacvid.compose.doubt``), from the cache the first run left;
- ``lacvid keys``: the frame ``lacvid keys --per-shot 2`` picks today besides the first (where the
  drawing changes most; ``lacvid.shots.suggest``); where that is the last frame, already a key, or
  none, the new frame ``--per-shot 3`` (then 4) adds; the middle frame if none does;
- ``middle``: the frame halfway between the two keys.

Each way is one ``lacvid colorize`` run with the default model (``--shots single``); the score is
region accuracy (``lacvid.eval.metrics.region_counts``, the paint-bucket metric of
``benchmarks/quality.py``) pooled over every frame between the first and the last (the added key
included: it comes out as painted, which is the point of painting it), then averaged over shots.
Sets as in ``benchmarks/quality.py``: generated ``synth`` (clean), ``pencil`` and ``stress`` shots of
12 and 24 frames (``--per-length`` of each), and the hand-drawn clips 11-13 of ``../shared/realdata``
(``LACVID_REALDATA``; skipped when absent), which also get one row per clip.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO.parent))

from quality import (  # noqa: E402
    Shot,
    _write_rgb,
    default_realdata,
    handdrawn_shots,
    pencil_shots,
    synth_shots,
)

from lacvid.eval.metrics import region_counts  # noqa: E402
from lacvid.media import read_image  # noqa: E402
from lacvid.shots.detect import Shot as Cut  # noqa: E402
from lacvid.shots.suggest import suggest_keys  # noqa: E402

WAYS = ("first+last only", "--next", "lacvid keys", "middle")


def _lacvid(argv: list[str]) -> str:
    """``lacvid ARGV`` in this process; its stdout."""
    from lacvid.cli import app

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = app(argv, standalone_mode=False)
    if code:
        raise RuntimeError(f"lacvid {' '.join(argv)} exited with {code}")
    return out.getvalue()


def _accuracy(shot: Shot, out: Path) -> tuple[int, int]:
    """(correct, regions) over the frames between the first and the last key."""
    correct = regions = 0
    for i in range(1, len(shot.color) - 1):
        c, n = region_counts(read_image(out / f"{i:04d}.png"), shot.color[i], shot.region_lines(i))
        correct, regions = correct + c, regions + n
    return correct, regions


def _colorize(shot: Shot, root: Path, keys: Mapping[int, np.ndarray], name: str) -> tuple[int, int]:
    folder = root / f"keys-{name}"
    folder.mkdir()
    for i, key in keys.items():
        _write_rgb(folder / f"{i:04d}.png", key)
    _lacvid(["colorize", str(root / "lines"), "--keys", str(folder), "-o", str(root / f"out-{name}"), "-q",
             "--model", "default", "--shots", "single", "--cache", str(root / "cache")])
    return _accuracy(shot, root / f"out-{name}")


def picks(shot: Shot, root: Path) -> dict[str, int]:
    """The frame each way adds to the keys first and last (``root/keys-first+last only`` painted)."""
    last = len(shot.color) - 1
    _lacvid(["keys", str(root / "lines"), "--keys", str(root / "keys-first+last only"), "--next", "1",
             "-o", str(root / "next"), "-q", "--model", "default", "--shots", "single", "--cache",
             str(root / "cache")])
    chosen = sorted(root.joinpath("next").glob("*.png"))
    drawings, cut, today = shot.given or shot.lines, Cut(0, last + 1), None
    for per_shot in (2, 3, 4):
        today = next((t for t in suggest_keys(drawings, [cut], per_shot=per_shot)[cut] if 0 < t < last), None)
        if today is not None:
            break
    return {"--next": int(chosen[0].stem) if chosen else last // 2,
            "lacvid keys": last // 2 if today is None else today,
            "middle": last // 2}


def run_shot(shot: Shot) -> dict[str, tuple[float, int]]:
    """Region accuracy per way, and the frame each way added."""
    last = len(shot.color) - 1
    with tempfile.TemporaryDirectory(prefix="lacvid-next-") as tmp:
        root = Path(tmp)
        (root / "lines").mkdir()
        for i, frame in enumerate(shot.given or shot.lines):
            _write_rgb(root / "lines" / f"{i:04d}.png", frame)
        base = {0: shot.color[0], last: shot.color[last]}
        c, n = _colorize(shot, root, base, "first+last only")
        scores = {"first+last only": (c / max(n, 1), -1)}
        chosen = picks(shot, root)
        done: dict[int, float] = {}
        for way, t in chosen.items():
            if t not in done:  # two ways that pick the same frame share its run
                c, n = _colorize(shot, root, {**base, t: shot.color[t]}, f"{t}")
                done[t] = c / max(n, 1)
            scores[way] = (done[t], t)
    return scores


def table(rows: Mapping[str, Mapping[str, tuple[float, int]]], title: str) -> str:
    lines = [f"{title} ({len(rows)} shots)", "| way | region accuracy | x first+last only |", "|---|---|---|"]
    base = float(np.mean([r["first+last only"][0] for r in rows.values()]))
    for way in WAYS:
        mean = float(np.mean([r[way][0] for r in rows.values()]))
        lines.append(f"| {way} | {mean:.3f} | {mean / max(base, 1e-9):.3f} |")
    return "\n".join(lines)


def per_shot_table(rows: Mapping[str, Mapping[str, tuple[float, int]]]) -> str:
    lines = ["| shot | frames | " + " | ".join(WAYS) + " |", "|---" * (len(WAYS) + 2) + "|"]
    for name, r in rows.items():
        cells = [f"{r[w][0]:.3f}" + (f" (frame {r[w][1]})" if r[w][1] >= 0 else "") for w in WAYS]
        lines.append(f"| {name} | {r['_frames'][1]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="synth,pencil,stress,handdrawn")
    parser.add_argument("--per-length", type=int, default=2, help="generated shots of each length (12, 24 frames)")
    parser.add_argument("--size", type=int, default=256, help="generated shots' size")
    args = parser.parse_args()
    sets = {"synth": lambda: synth_shots(args.per_length, args.size),
            "pencil": lambda: pencil_shots(args.per_length, args.size),
            "stress": lambda: pencil_shots(args.per_length, args.size, style="stress"),
            "handdrawn": lambda: handdrawn_shots(default_realdata(), ["clip11", "clip12", "clip13"])}
    everything: dict[str, dict] = {}
    for name in args.sets.split(","):
        t0 = time.perf_counter()
        rows = {}
        for shot in sets[name]():
            rows[shot.name] = {**run_shot(shot), "_frames": (0.0, len(shot.color))}
            print(f"  {shot.name}: " + ", ".join(f"{w} {rows[shot.name][w][0]:.3f}" for w in WAYS), file=sys.stderr,
                  flush=True)
        if not rows:
            print(f"{name}: no shots (absent data)\n")
            continue
        everything.update({f"{name}/{k}": v for k, v in rows.items()})
        print(table(rows, f"{name}, {time.perf_counter() - t0:.0f} s"))
        print(per_shot_table(rows) + "\n", flush=True)
    if len({k.split("/")[0] for k in everything}) > 1:
        print(table(everything, "all sets"))


if __name__ == "__main__":
    main()
