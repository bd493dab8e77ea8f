"""Quality benchmark: lacvid against copying and flow-warping the nearest key.

Usage::

    python benchmarks/quality.py [--sets synth,real] [--sheet sheet.png] [--methods copy,flow,...]

For every set it prints one table (stdout): PSNR (dB, RGB), SSIM (mean over R, G, B of the
standard Gaussian 11x11, sigma 1.5 SSIM, 'valid' window positions as in Wang et al.'s
reference code), the flat-colour share (share of non-line pixels within 24 levels of the
truth on every channel) and seconds per frame, each with its ratio to the flow baseline.
Scores average over the frames between the keys (key frames are excluded), frame-weighted.

Sets:
- ``synth``: shots drawn by ``lacvid.synth`` (12 and 24 frames, keys first and last frame),
  exact line art.
- ``real``: the clips in ``../shared/realdata`` (colour on every frame; line art extracted
  with ``lacvid.lines.extract_lines(mode="color")``; keys first and last frame). Evaluation
  only: read in place, never copied. Skipped when the folder is absent. Two tables: clips
  01, 02, 03, 05 (where reference figures were taken) and all of 01, 02, 03, 05, 06.

Adding a method: one function ``method(lines_frames, keys) -> list of RGB frames`` with
``lines_frames`` a list of uint8 (H, W) line art (the whole shot, keys included) and
``keys`` a dict frame index -> uint8 (H, W, 3) painted key, registered with
``@register("name")``. It must return one uint8 (H, W, 3) frame per line-art frame.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO))

from lacvid.eval.baselines import copy_nearest_key, flow_warp_nearest_key  # noqa: E402
from lacvid.eval.metrics import flat_share, psnr, ssim  # noqa: E402
from lacvid.flow import warp_key  # noqa: E402
from lacvid.composite import multiply_lines  # noqa: E402
from lacvid.flat import palette_from_keys, region_vote  # noqa: E402
from lacvid.fusion import FusionSettings, fuse_regions, warped_key_candidates  # noqa: E402
from lacvid.lines import extract_lines  # noqa: E402

Frames = list[np.ndarray]
Method = Callable[[Sequence[np.ndarray], Mapping[int, np.ndarray]], Frames]

# ----------------------------------------------------------------------------- methods

METHODS: dict[str, Method] = {}


def register(name: str) -> Callable[[Method], Method]:
    """Add a method to the benchmark under ``name`` (the table's row label)."""

    def deco(fn: Method) -> Method:
        METHODS[name] = fn
        return fn

    return deco


register("copy")(copy_nearest_key)
register("flow")(flow_warp_nearest_key)
# The same without the target's lines multiplied on top: how the reference figures were taken
# (on real clips the truth already carries its own ink, and extracted lines differ from it).
register("copy-nolines")(partial(copy_nearest_key, compose_lines=False))
register("flow-nolines")(partial(flow_warp_nearest_key, compose_lines=False))


def _key_weights(i: int, key_indices: Sequence[int]) -> list[float]:
    """Inverse temporal distance: the nearer key's votes count more."""
    return [1.0 / (abs(i - k) + 1.0) for k in key_indices]


@register("flow+vote")
def flow_region_vote(lines_frames: Sequence[np.ndarray], keys: Mapping[int, np.ndarray]) -> Frames:
    """Every key warped onto the target by distance-field flow; the warped colours vote
    (weighted by temporal nearness) per target region among the keys' palette; the winner
    fills the region; the target's lines go on top as in lacvid."""
    ks = sorted(keys)
    palette = palette_from_keys([keys[k] for k in ks], [lines_frames[k] for k in ks])
    out = []
    for i, ln in enumerate(lines_frames):
        if i in keys:
            out.append(multiply_lines(keys[i], ln))
            continue
        warped = [warp_key(ln, keys[k], lines_frames[k]) for k in ks]
        fill = region_vote(ln, warped, palette, weights=_key_weights(i, ks), fill_ink=True)
        out.append(multiply_lines(fill, ln))
    return out


@register("flow+vote+conf")
def flow_region_vote_confidence(lines_frames: Sequence[np.ndarray], keys: Mapping[int, np.ndarray]) -> Frames:
    """lacvid's own fusion (``lacvid.fusion``) with the network left out: every key warped onto
    the target with its match confidence, voting per region among the keys' palette, so a key
    that lacks what the target shows (an entering character, a disocclusion) is outvoted."""
    ks = sorted(keys)
    key_lines = {k: lines_frames[k] for k in ks}
    palette = palette_from_keys([keys[k] for k in ks], [key_lines[k] for k in ks])
    no_network = np.zeros_like(keys[ks[0]])
    out = []
    for i, ln in enumerate(lines_frames):
        if i in keys:
            out.append(multiply_lines(keys[i], ln))
            continue
        warped = warped_key_candidates(ln, keys, key_lines, i)
        out.append(fuse_regions(ln, no_network, warped, palette, FusionSettings(network_weight=0.0)))
    return out


# ----------------------------------------------------------------------------- data


@dataclass
class Shot:
    name: str
    color: Frames  # truth, uint8 (H, W, 3) each
    lines: Frames  # uint8 (H, W) each
    keys: tuple[int, ...]


def synth_shots(n_per_length: int = 3, size: int = 256, seed: int = 7) -> list[Shot]:
    """Generated cel shots of 12 and 24 frames, keys first and last."""
    from lacvid.synth import render_shot

    shots = []
    for frames in (12, 24):
        for j in range(n_per_length):
            idx = 100 * frames + j
            pairs = list(render_shot(seed, idx, frames, size, size))
            shots.append(Shot(f"synth{frames}-{j}", [c for c, _ in pairs], [ln for _, ln in pairs], (0, frames - 1)))
    return shots


def default_realdata() -> Path:
    return Path(os.environ.get("LACVID_REALDATA", REPO.parent / "shared" / "realdata"))


def real_shots(root: Path, clips: Sequence[str]) -> list[Shot]:
    """The real clips that have colour on every frame, lines extracted from the colour."""
    shots = []
    for clip in clips:
        folder = root / clip / "color"
        paths = sorted(folder.glob("*.png"))
        if len(paths) < 3:
            continue
        color = [cv2.cvtColor(cv2.imread(str(p), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) for p in paths]
        lines = [extract_lines(c, mode="color") for c in color]
        shots.append(Shot(clip, color, lines, (0, len(paths) - 1)))
    return shots


# ----------------------------------------------------------------------------- lacvid itself

# Each lacvid method runs the command scripts use, in process:
#   lacvid colorize LINES_DIR --keys KEYS_DIR -o OUT_DIR -q  (+ the variant's flags)
# with --shots single (shot detection has its own benchmark, benchmarks/shots.py) and a fresh cache.
LACVID_MODEL = "default"
LACVID_VARIANTS = {
    "lacvid-nets": ["--no-flat", "--no-warp"],           # the paper's two networks alone
    "lacvid-nets+flat": ["--flat", "--no-warp"],         # the networks + per-region palette vote
    "lacvid --no-flat": ["--no-flat"],                   # networks + keys warped onto the frame, per pixel
    "lacvid --flat": ["--flat"],                         # networks + warped keys, per-region palette vote
    "lacvid": [],                                        # the default: --flat where the keys are flat paint
}


def run_lacvid(lines_frames: Sequence[np.ndarray], keys: Mapping[int, np.ndarray], flags: Sequence[str]) -> Frames:
    import contextlib
    import io
    import tempfile

    from lacvid.cli import app

    with tempfile.TemporaryDirectory(prefix="lacvid-quality-") as tmp:
        root = Path(tmp)
        (root / "lines").mkdir()
        (root / "keys").mkdir()
        for i, ln in enumerate(lines_frames):
            cv2.imwrite(str(root / "lines" / f"{i:04d}.png"), ln)
        for i, key in keys.items():
            cv2.imwrite(str(root / "keys" / f"{i:04d}.png"), cv2.cvtColor(key, cv2.COLOR_RGB2BGR))
        argv = ["colorize", str(root / "lines"), "--keys", str(root / "keys"), "-o", str(root / "out"), "-q",
                "--model", LACVID_MODEL, "--shots", "single", "--cache", str(root / "cache"), *flags]
        with contextlib.redirect_stdout(io.StringIO()):
            code = app(argv, standalone_mode=False)
        if code:
            raise RuntimeError(f"lacvid {' '.join(argv)} exited with {code}")
        return [cv2.cvtColor(cv2.imread(str(root / "out" / f"{i:04d}.png")), cv2.COLOR_BGR2RGB)
                for i in range(len(lines_frames))]


for _name, _flags in LACVID_VARIANTS.items():
    register(_name)(partial(run_lacvid, flags=_flags))


# ----------------------------------------------------------------------------- running


@dataclass
class Score:
    psnr: float
    ssim: float
    flat: float
    seconds_per_frame: float
    frames: int


def run_method(method: Method, shot: Shot) -> tuple[Frames, Score, float]:
    keys = {k: shot.color[k] for k in shot.keys}
    t0 = time.perf_counter()
    pred = method(shot.lines, keys)
    dt = time.perf_counter() - t0
    if len(pred) != len(shot.lines):
        raise RuntimeError(f"method returned {len(pred)} frames for {len(shot.lines)}")
    p, s, f = [], [], []
    for i, (y, t, ln) in enumerate(zip(pred, shot.color, shot.lines)):
        if i in shot.keys:
            continue
        if y.shape != t.shape or y.dtype != np.uint8:
            raise RuntimeError(f"frame {i}: method returned {y.dtype} {y.shape}, expected uint8 {t.shape}")
        p.append(min(psnr(y, t), 100.0))
        s.append(ssim(y, t))
        f.append(flat_share(y, t, ln))
    n = len(p)
    return pred, Score(float(np.mean(p)), float(np.mean(s)), float(np.mean(f)), dt / len(shot.lines), n), dt


def aggregate(scores: Sequence[Score]) -> Score:
    w = np.array([s.frames for s in scores], np.float64)
    tot = w.sum()
    return Score(
        float(sum(s.psnr * n for s, n in zip(scores, w)) / tot),
        float(sum(s.ssim * n for s, n in zip(scores, w)) / tot),
        float(sum(s.flat * n for s, n in zip(scores, w)) / tot),
        float(np.mean([s.seconds_per_frame for s in scores])),
        int(tot),
    )


def print_table(title: str, results: Mapping[str, Score], out=sys.stdout) -> None:
    base = results.get("flow")
    frames = next(iter(results.values())).frames if results else 0
    print(f"\n{title} ({frames} scored frames)", file=out)
    head = (f"{'method':<16}{'PSNR dB':>9}{'SSIM':>8}{'flat':>8}{'s/frame':>9}   "
            f"{'PSNR/flow':>9}{'SSIM/flow':>10}{'flat/flow':>10}")
    print(head, file=out)
    print("-" * len(head), file=out)
    for name, s in results.items():
        ratios = ""
        if base is not None:
            ratios = f"{s.psnr / base.psnr:>9.3f}{s.ssim / base.ssim:>10.3f}{s.flat / max(base.flat, 1e-9):>10.3f}"
        print(f"{name:<16}{s.psnr:>9.2f}{s.ssim:>8.3f}{s.flat:>8.3f}{s.seconds_per_frame:>9.3f}   {ratios}", file=out)
    out.flush()


def _tile(img: np.ndarray, height: int) -> np.ndarray:
    h, w = img.shape[:2]
    return cv2.resize(img, (max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA)


def contact_sheet(rows: list[tuple[str, Frames]], height: int = 160) -> np.ndarray:
    """One row per method (label on the left), frames side by side; uint8 RGB."""
    label_w = 120
    built = []
    for name, frames in rows:
        tiles = [_tile(f, height) for f in frames]
        strip = np.concatenate([np.pad(t, ((2, 2), (2, 2), (0, 0)), constant_values=255) for t in tiles], 1)
        lab = np.full((strip.shape[0], label_w, 3), 255, np.uint8)
        cv2.putText(lab, name, (4, strip.shape[0] // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        built.append(np.concatenate([lab, strip], 1))
    width = max(b.shape[1] for b in built)
    built = [np.pad(b, ((0, 0), (0, width - b.shape[1]), (0, 0)), constant_values=255) for b in built]
    return np.concatenate(built, 0)


def _sheet_frames(shot: Shot, frames: Frames, n: int = 3) -> Frames:
    inner = [i for i in range(len(shot.lines)) if i not in shot.keys]
    pick = [inner[round(j * (len(inner) - 1) / max(n - 1, 1))] for j in range(n)] if inner else [0]
    return [frames[i] for i in pick]


def evaluate(sets: dict[str, list[Shot]], methods: Sequence[str], sheet_rows: list, log=sys.stderr
             ) -> dict[str, dict[str, Score]]:
    """Score every method on every shot (a shot shared by two sets runs once); per-set tables."""
    done: dict[str, dict[str, Score]] = {}
    tables: dict[str, dict[str, Score]] = {}
    for set_name, shots in sets.items():
        for si, shot in enumerate(shots):
            if shot.name in done:
                continue
            done[shot.name] = {}
            outputs = {}
            for m in methods:
                pred, score, dt = run_method(METHODS[m], shot)
                done[shot.name][m] = score
                outputs[m] = pred
                print(f"[{shot.name:<12}] {m:<14} {score.psnr:6.2f} dB  SSIM {score.ssim:.3f}  "
                      f"flat {score.flat:.3f}  {dt:6.1f} s", file=log, flush=True)
            if si == 0:  # the first shot of each set goes on the contact sheet
                sheet_rows.append((f"{shot.name} truth", _sheet_frames(shot, shot.color)))
                for m in methods:
                    sheet_rows.append((m, _sheet_frames(shot, outputs[m])))
        tables[set_name] = {m: aggregate([done[s.name][m] for s in shots]) for m in methods}
    return tables


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default="synth,real", help="comma-separated: synth, real")
    ap.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated, from: {', '.join(METHODS)}")
    ap.add_argument("--synth-shots", type=int, default=3, help="shots per length (12 and 24 frames)")
    ap.add_argument("--synth-size", type=int, default=256)
    ap.add_argument("--realdata", type=Path, default=default_realdata())
    ap.add_argument("--sheet", type=Path, default=None, help="write a contact sheet PNG here")
    ap.add_argument("--model", default="default", help="lacvid checkpoint for the lacvid methods")
    args = ap.parse_args(argv)
    global LACVID_MODEL
    LACVID_MODEL = args.model
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        ap.error(f"unknown methods {unknown}; known: {list(METHODS)}")
    methods = ["copy", "flow"] + [m for m in methods if m not in ("copy", "flow")]  # baselines always run
    wanted = [s.strip() for s in args.sets.split(",") if s.strip()]
    sets: dict[str, list[Shot]] = {}
    if "synth" in wanted:
        sets["synth (12 and 24 frames, keys first+last)"] = synth_shots(args.synth_shots, args.synth_size)
    if "real" in wanted:
        if not args.realdata.is_dir():
            print(f"realdata folder {args.realdata} absent: skipping the real clips", file=sys.stderr)
        else:
            ref = real_shots(args.realdata, ["clip01", "clip02", "clip03", "clip05"])
            extra = real_shots(args.realdata, ["clip06"])
            if ref:
                sets["real clips 01,02,03,05 (XDoG lines, keys first+last)"] = ref
            if ref or extra:
                sets["real clips 01,02,03,05,06"] = ref + extra
    sheet_rows: list = []
    tables = evaluate(sets, methods, sheet_rows)
    for title, res in tables.items():
        print_table(title, res)
    if args.sheet is not None and sheet_rows:
        args.sheet.parent.mkdir(parents=True, exist_ok=True)
        img = contact_sheet(sheet_rows)
        tmp = args.sheet.with_name(args.sheet.name + ".tmp.png")
        cv2.imwrite(str(tmp), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        tmp.replace(args.sheet)
        print(f"contact sheet: {args.sheet}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
