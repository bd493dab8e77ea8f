"""Quality benchmark: lacvid against copying and flow-warping the nearest key, step by step.

Usage::

    python benchmarks/quality.py [--sets synth,real,handdrawn,handdrawn-fast,handdrawn-large,
                                         handdrawn-scan,handdrawn-h264,handdrawn-hd,pencil-h264]
                                 [--methods copy,flow,...]
                                 [--sheet sheet.png] [--look look.png]

For every set it prints one table (stdout): PSNR (dB, RGB), SSIM (mean over R, G, B of the
standard Gaussian 11x11, sigma 1.5 SSIM, 'valid' window positions as in Wang et al.'s
reference code), the flat-colour share (share of non-line pixels within 24 levels of the
truth on every channel), region accuracy (``lacvid.eval.metrics.region_counts``: the
paint-bucket metric of BasicPBC, pooled over frames) and seconds per frame, with ratios to
the flow baseline, and ``tdiff``, the flicker (``lacvid.eval.metrics.temporal_difference``: how far
the output's change from one frame to the next is from the truth's, over every consecutive pair,
keys included; lower is better). Scores average over the frames between the keys (keys
excluded). Sets of a few real clips also print one table per clip.

Sets:
- ``synth``: shots drawn by ``lacvid.synth`` (12 and 24 frames, keys first and last frame).
- ``pencil``: the same scenes drawn in ``lacvid synth --style pencil`` (grey strokes, pressure,
  gaps, coloured shadow lines), handed to lacvid as drawings, like ``handdrawn``.
- ``stress``: the same scenes in ``lacvid synth --style stress``: faint pencil with many gaps, a
  gradient sky, a globe whose outline runs off the frame, an occluder sweeping across, a prop
  entering from outside, paint a few levels off the paper (``lacvid.synth.stress``).
- ``redrawn``: the same scenes in ``lacvid synth --style redrawn``: pencil, characters close up
  whose hair locks and folds are redrawn in every drawing (``lacvid.synth.redrawn``): the generated set whose
  small regions fail one hop as often as the real drawings' do (``benchmarks/hop_accuracy.py``).
- ``real``: clips 01-06 of ``../shared/realdata`` (colour on every frame; line art extracted
  with ``extract_lines(mode="color")``; keys first and last frame).
  ``lacvid footage`` hands lacvid the colour frames themselves (``--lines color``: it extracts the
  same lines and uses nothing else of them), as a user with footage would; real set only.
- ``handdrawn``: clips 11, 12 and 13: the artist's line art exactly as exported (faint grey pencil,
  blue shadow lines; clip13 grey paint over a gradient, solid black ink areas), keys first and
  last frame, scored against the colour of every frame.
  lacvid gets the drawings as they are; the baselines match on lacvid's normalised line art
  and every method's output gets the artist's ink back as drawn (``lacvid.preprocess.ink``), so the
  table compares colour only. Region paper: grey >= 220.
- ``handdrawn-fast``: the same three clips with every 2nd and every 3rd frame only (keys the first and
  last frame kept): three and two times the motion between drawings, as a shot animated on twos or
  threes has, with the same artist's lines and truth: a stand-in for the held-out large-motion shots
  of issue 21. Each clip and stride is a row of its own.
- ``handdrawn-large``: the same three clips exported 2.5 times larger (drawings and truth scaled
  bicubic, 648 px high): what the same drawings give at an HD size, where every size in pixels
  that lacvid uses (gaps bridged, bands, specks) meets a drawing 2.5 times as large.
- ``handdrawn-scan``: the same three clips as if drawn on paper and scanned: each drawing multiplied
  onto a cream paper tone, lit unevenly across the sheet, with a grain that differs from frame to
  frame (seeded); the truth stays the clean paint. What a restorer scanning paper drawings hands lacvid.
- ``handdrawn-h264``: the same three clips as a line-art video exported with x264's defaults (crf 23,
  yuv420p) and decoded again: what ``lacvid colorize clip.mp4`` reads when the artist renders the
  drawings to a video. The truth stays the clean paint; the region measure reads the clean drawing.
- ``pencil-h264``: the ``pencil`` shots as a line-art video, as ``handdrawn-h264`` makes it: generated grey
  outlines meeting coloured shadow lines in a video that keeps colour at half resolution (4:2:0). Not in
  the default sets; ask for it.
- ``handdrawn-hd``: the same three clips at 1080 px high (4.17 times), the size most drawings are
  exported at: the matching (576 px) sees them at about half their size. Not in the default sets
  (a few minutes more); ask for it.

``--look PATH`` writes a contact sheet of clips 07, 08 and 11 (line art, lacvid, truth where
there is one) to PATH for looking at. The frames belong to their owners (SOURCES.md: internal
evaluation only, no redistribution), so keep such sheets out of the repository.

Everything from ``../shared/realdata`` is read in place, never copied; absent folder: skipped.

Adding a method: ``method(shot, keys) -> list of RGB frames`` registered with
``@register("name")``; ``shot.lines`` is grey line art (H, W) per frame, ``shot.given`` what a
user hands lacvid, ``keys`` frame index -> uint8 (H, W, 3) painted key.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO))

from lacvid.compose.composite import multiply_lines  # noqa: E402
from lacvid.compose.flat import palette_from_keys, region_vote  # noqa: E402
from lacvid.compose.fusion import FusionSettings, fuse_regions, warped_keys_with_flows  # noqa: E402
from lacvid.compose.layers import Layers, drawing_ink, paint_layer  # noqa: E402
from lacvid.eval.baselines import copy_nearest_key, flow_warp_nearest_key, nearest_key  # noqa: E402
from lacvid.eval.metrics import flat_share, psnr, region_counts, ssim, temporal_difference  # noqa: E402
from lacvid.media import read_image  # noqa: E402
from lacvid.media.contact_sheet import contact_sheet  # noqa: E402
from lacvid.preprocess.distance import distance_transform  # noqa: E402
from lacvid.preprocess.ink import InkModel  # noqa: E402
from lacvid.preprocess.lines import extract_lines  # noqa: E402
from lacvid.propagate import PropagationSettings, ShotPropagation  # noqa: E402
from lacvid.propagate.flow import distance_image, estimate_flow, warp, warp_key  # noqa: E402

Frames = list[np.ndarray]
# The sets made of clips 11-13
HANDDRAWN_SETS = {"handdrawn", "handdrawn-large", "handdrawn-fast", "handdrawn-hd", "handdrawn-scan", "handdrawn-h264"}
HD_HEIGHT = 1080  # --sets handdrawn-hd: the hand-drawn clips enlarged to this height
PER_CLIP_ROWS = 6  # a set of at most this many clips also gets one table per clip (a win on one clip
# that loses on another must show)


@dataclass
class Shot:
    name: str
    color: Frames                  # truth, uint8 (H, W, 3) each
    lines: Frames                  # uint8 (H, W) line art: what baselines match on, what metrics mask
    keys: tuple[int, ...]
    given: Frames | None = None    # what lacvid is handed (drawings as exported); None: ``lines``
    ink: InkModel | None = None    # drawings: every method's output gets this ink back as drawn
    paper_at: int | None = None    # line art at or above this is paper for the flat share
    footage: bool = False          # colour footage (the real set): the "lacvid footage" methods apply
    region_given: Frames | None = None  # the drawing the region and flat measures read where it is not
    #                                     ``given`` (a scan: its clean original, so grain makes no regions)

    def finish(self, fills: Frames) -> Frames:
        """Ink over each method's paint, the same way for every method: as drawn, or multiplied."""
        if self.ink is None:
            return [multiply_lines(f, ln) for f, ln in zip(fills, self.lines)]
        return [Layers(paint_layer(f), drawing_ink(self.ink.frame(g))).flatten()
                for f, g in zip(fills, self.given or self.lines)]

    def region_lines(self, i: int) -> np.ndarray:
        for frames in (self.region_given, self.given, self.lines):
            if frames is not None:
                return frames[i]
        raise AssertionError("a shot always has lines")


Method = Callable[[Shot, Mapping[int, np.ndarray]], Frames]
METHODS: dict[str, Method] = {}


def register(name: str) -> Callable[[Method], Method]:
    """Add a method to the benchmark under ``name`` (the table's row label)."""

    def deco(fn: Method) -> Method:
        METHODS[name] = fn
        return fn

    return deco


# ----------------------------------------------------------------------------- baselines


@register("copy")
def copy(shot: Shot, keys: Mapping[int, np.ndarray]) -> Frames:
    return shot.finish(copy_nearest_key(shot.lines, keys, compose_lines=False))


@register("flow")
def flow(shot: Shot, keys: Mapping[int, np.ndarray]) -> Frames:
    """The nearest key warped by Farneback flow between distance fields."""
    return shot.finish(flow_warp_nearest_key(shot.lines, keys, compose_lines=False))


# The keys as they are, no ink on top: how the reference figures on clips 01-05 were taken (the
# truth carries its own ink, and extracted lines differ from it).
register("copy-nolines")(lambda shot, keys: copy_nearest_key(shot.lines, keys, compose_lines=False))
register("flow-nolines")(lambda shot, keys: flow_warp_nearest_key(shot.lines, keys, compose_lines=False))


@register("dis")
def dis(shot: Shot, keys: Mapping[int, np.ndarray]) -> Frames:
    """The nearest key warped by DIS flow (with the pan prior) between distance fields: the
    pixel-level cue the propagation builds on."""
    fields = [distance_image(distance_transform(ln < 128)) for ln in shot.lines]
    fills = []
    for i in range(len(shot.lines)):
        k = nearest_key(i, list(keys))
        fills.append(keys[i] if i in keys else warp(keys[k], estimate_flow(fields[i], fields[k])))
    return shot.finish(fills)


@register("flow+vote+conf")
def flow_region_vote_confidence(shot: Shot, keys: Mapping[int, np.ndarray]) -> Frames:
    """lacvid's fusion for colour footage (``lacvid.compose.fusion``) with the network left out: every key
    warped onto the target with its match confidence, voting per region among the keys' palette."""
    ks = sorted(keys)
    key_lines = {k: shot.lines[k] for k in ks}
    palette = palette_from_keys([keys[k] for k in ks], [key_lines[k] for k in ks])
    no_network = np.zeros_like(keys[ks[0]])
    fills = []
    for i, ln in enumerate(shot.lines):
        if i in keys:
            fills.append(keys[i])
            continue
        warped = warped_keys_with_flows(ln, keys, key_lines, i)[0]
        fills.append(fuse_regions(ln, no_network, warped, palette, FusionSettings(network_weight=0.0),
                                  with_ink=False))
    return shot.finish(fills)


@register("flow+vote")
def flow_region_vote(shot: Shot, keys: Mapping[int, np.ndarray]) -> Frames:
    """Every key warped by distance-field flow; warped colours vote per region (nearer keys more)."""
    ks = sorted(keys)
    palette = palette_from_keys([keys[k] for k in ks], [shot.lines[k] for k in ks])
    fills = []
    for i, ln in enumerate(shot.lines):
        if i in keys:
            fills.append(keys[i])
            continue
        warped = [warp_key(ln, keys[k], shot.lines[k]) for k in ks]
        weights = [1.0 / (abs(i - k) + 1.0) for k in ks]
        fills.append(region_vote(ln, warped, palette, weights=weights, fill_ink=True))
    return shot.finish(fills)


def _propagate(shot: Shot, keys: Mapping[int, np.ndarray], directions: str) -> Frames:
    """``lacvid.propagate`` alone (no network), at the frames' own size."""
    prop = ShotPropagation([ln < 128 for ln in shot.lines], keys, PropagationSettings(directions=directions))
    colors = prop.run()
    return shot.finish([keys[i] if i in keys else colors[i].image(prop.palette) for i in range(len(shot.lines))])


register("propagate-fwd")(lambda shot, keys: _propagate(shot, keys, "forward"))
register("propagate")(lambda shot, keys: _propagate(shot, keys, "both"))


# ----------------------------------------------------------------------------- lacvid itself

# Each lacvid method runs the command scripts use, in process:
#   lacvid colorize LINES_DIR --keys KEYS_DIR -o OUT_DIR -q  (+ the variant's flags)
# with --shots single (shot detection has its own benchmark, benchmarks/shots.py) and a fresh cache.
LACVID_MODEL = "default"
LACVID_VARIANTS = {
    "lacvid-nets": ["--no-flat", "--no-warp"],     # the paper's two networks alone
    "lacvid-nets+flat": ["--flat", "--no-warp"],   # the networks + per-region palette vote
    "lacvid --no-flat": ["--no-flat"],             # networks + keys matched onto the frame, per pixel
    "lacvid --flat": ["--flat"],                   # networks + matched keys, per-region palette vote
    "lacvid": [],                                  # the default: --flat where the keys are flat paint
}


def _write_rgb(path: Path, image: np.ndarray) -> None:
    cv2.imwrite(str(path), image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR))


def run_lacvid(shot: Shot, keys: Mapping[int, np.ndarray], flags: Sequence[str], footage: bool = False) -> Frames:
    """lacvid on the shot's drawings (or, ``footage``, on its colour frames, read with ``--lines color``:
    lacvid extracts the lines itself and uses nothing else of them)."""
    import contextlib
    import io
    import tempfile

    from lacvid.cli import app

    with tempfile.TemporaryDirectory(prefix="lacvid-quality-") as tmp:
        root = Path(tmp)
        (root / "lines").mkdir()
        (root / "keys").mkdir()
        for i, frame in enumerate(shot.color if footage else (shot.given or shot.lines)):
            _write_rgb(root / "lines" / f"{i:04d}.png", frame)
        for i, key in keys.items():
            _write_rgb(root / "keys" / f"{i:04d}.png", key)
        argv = ["colorize", str(root / "lines"), "--keys", str(root / "keys"), "-o", str(root / "out"), "-q",
                "--model", LACVID_MODEL, "--shots", "single", "--cache", str(root / "cache"), *flags]
        with contextlib.redirect_stdout(io.StringIO()):
            code = app(argv, standalone_mode=False)
        if code:
            raise RuntimeError(f"lacvid {' '.join(argv)} exited with {code}")
        global LAST_NETWORK_FRAMES
        LAST_NETWORK_FRAMES = network_frames(root / "cache")
        return [read_image(root / "out" / f"{i:04d}.png") for i in range(len(shot.lines))]


LAST_NETWORK_FRAMES: tuple[int, int] | None = None  # the last lacvid run's, read by ``evaluate``


def network_frames(cache: Path) -> tuple[int, int]:
    """Frames the colour and the temporal network ran on in a fresh cache: the done flags of its ``colour`` and
    ``refined`` stages (``pipeline.cache``: ``run-NETWORKS/SHOT/STAGE``); the networks run only where a frame's
    composing reads them (``pipeline.networks.NetworksOnDemand``)."""
    import zarr

    def done(stage: str) -> int:
        return sum(int(np.asarray(zarr.open_array(str(path / "done"), mode="r")[:]).sum())
                   for path in cache.glob(f"*.zarr/run-*/*/{stage}"))
    return done("colour"), done("refined")


for _name, _flags in LACVID_VARIANTS.items():
    register(_name)(lambda shot, keys, _flags=_flags: run_lacvid(shot, keys, _flags))
# The ``real`` set as a user hands it over: the colour footage itself, its lines extracted by lacvid
# (the same extractor the baselines' lines come from), with the default ink (none on footage) and
# with the extracted lines multiplied on top as before. Only meaningful on the real set.
FOOTAGE_METHODS = ("lacvid footage", "lacvid footage --ink multiply")
register("lacvid footage")(lambda shot, keys: run_lacvid(shot, keys, ["--lines", "color"], footage=True))
register("lacvid footage --ink multiply")(
    lambda shot, keys: run_lacvid(shot, keys, ["--lines", "color", "--ink", "multiply"], footage=True))


# ----------------------------------------------------------------------------- data


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


def pencil_shots(n_per_length: int = 3, size: int = 256, seed: int = 7, style: str = "pencil") -> list[Shot]:
    """The synth set's scenes drawn in pencil (``lacvid.synth.style``): grey strokes with pressure
    and gaps, coloured shadow lines; handled like the hand-drawn set. ``style="stress"``: the same
    scenes with the shapes real drawings broke lacvid with (``lacvid.synth.stress``)."""
    from lacvid.synth import render_shot

    shots = []
    for frames in (12, 24):
        for j in range(n_per_length):
            pairs = list(render_shot(seed, 100 * frames + j, frames, size, size, style=style))
            drawn, color = [d for _, d in pairs], [c for c, _ in pairs]
            ink = InkModel.fit(drawn[:1])
            shots.append(Shot(f"{style}{frames}-{j}", color, [ink.line_art(d) for d in drawn], (0, frames - 1),
                              given=drawn, ink=ink, paper_at=220))
    return shots


def default_realdata() -> Path:
    return Path(os.environ.get("LACVID_REALDATA", REPO.parent / "shared" / "realdata"))


def _frames(folder: Path) -> Frames:
    return [read_image(p) for p in sorted(folder.glob("*.png"))]


def real_shots(root: Path, clips: Sequence[str]) -> list[Shot]:
    """The real clips that have colour on every frame, lines extracted from the colour."""
    shots = []
    for clip in clips:
        color = _frames(root / clip / "color")
        if len(color) >= 3:
            lines = [extract_lines(c, mode="color") for c in color]
            shots.append(Shot(clip, color, lines, (0, len(color) - 1), footage=True))
    return shots


def strided(shot: Shot, stride: int) -> Shot:
    """``shot`` with every ``stride``-th frame only (its first and last frame the keys): larger motion
    between drawings with the same lines and truth."""
    idx = list(range(0, len(shot.color), stride))

    def pick(frames: Frames | None) -> Frames | None:
        return None if frames is None else [frames[i] for i in idx]

    return dataclasses.replace(shot, name=f"{shot.name}/{stride}", color=pick(shot.color), lines=pick(shot.lines),
                               given=pick(shot.given), keys=(0, len(idx) - 1))


def enlarged(shot: Shot, factor: float) -> Shot:
    """``shot`` as a larger export of the same drawings: its drawings and truth scaled by ``factor``
    (bicubic, as painting software scales an export), the ink model fitted again on the larger drawing."""
    h, w = shot.color[0].shape[:2]
    size = (int(round(w * factor)), int(round(h * factor)))

    def scale(frames: Frames) -> Frames:
        return [cv2.resize(f, size, interpolation=cv2.INTER_CUBIC) for f in frames]

    return redrawn(shot, scale(shot.given or shot.lines), f"{shot.name}x{factor:g}", color=scale(shot.color))


def redrawn(shot: Shot, drawn: Frames, name: str, **changes) -> Shot:
    """``shot`` handed to lacvid as ``drawn`` (another export of its drawings), under ``name``: the ink model
    fitted again on it, the baselines' line art read through that model; ``changes``: other fields replaced."""
    ink = InkModel.fit(drawn[:1])
    return dataclasses.replace(shot, name=name, lines=[ink.line_art(d) for d in drawn], given=drawn, ink=ink,
                               **changes)


def scanned(shot: Shot, seed: int = 0) -> Shot:
    """``shot`` as if drawn on paper and scanned: each drawing multiplied onto a cream tone (236, 234, 224
    at the middle of the sheet), 16 levels lighter on one side than the other, with a grain of 3 levels
    that differs from frame to frame; the ink model fitted again on the scan."""
    rng = np.random.default_rng(seed)
    drawn = []
    for d in shot.given or shot.lines:
        rgb = d if d.ndim == 3 else cv2.cvtColor(d, cv2.COLOR_GRAY2RGB)
        h, w = rgb.shape[:2]
        tone = 236 + 8 * np.linspace(-1, 1, w)[None, :, None] + rng.normal(0, 3, (h, w, 1))  # (h, w, 1)
        paper = tone * np.array([1.0, 0.99, 0.95])[None, None]                               # (h, w, 3) cream
        drawn.append(np.clip(paper * (rgb / 255.0), 0, 255).astype(np.uint8))
    return redrawn(shot, drawn, f"{shot.name}/scan", region_given=shot.given or shot.lines)


def as_h264(shot: Shot, crf: int = 23) -> Shot:
    """``shot`` as a line-art video exported with x264's defaults (crf 23, preset medium, yuv420p: half the
    colour resolution) and decoded again, what ``lacvid colorize clip.mp4`` reads; an odd size loses its
    last row or column to the encoder and gets it back as a copy of the one before."""
    import io

    import av

    frames = [d if d.ndim == 3 else cv2.cvtColor(d, cv2.COLOR_GRAY2RGB) for d in (shot.given or shot.lines)]
    h, w = frames[0].shape[:2]
    eh, ew = h - h % 2, w - w % 2
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=24, options={"crf": str(crf), "preset": "medium"})
        stream.width, stream.height, stream.pix_fmt = ew, eh, "yuv420p"
        for rgb in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[:eh, :ew]), format="rgb24")))
        out.mux(stream.encode())
    buf.seek(0)
    with av.open(buf) as inp:
        decoded = [f.to_ndarray(format="rgb24") for f in inp.decode(video=0)]
    drawn = [np.pad(f, ((0, h - eh), (0, w - ew), (0, 0)), mode="edge") for f in decoded]
    return redrawn(shot, drawn, f"{shot.name}/h264", region_given=shot.given or shot.lines)


def handdrawn_shots(root: Path, clips: Sequence[str]) -> list[Shot]:
    """Clips with the artist's own line art and the colour of every frame: drawings as given."""
    shots = []
    for clip in clips:
        drawn, color = _frames(root / clip / "lines"), _frames(root / clip / "color")
        if len(drawn) >= 3 and len(drawn) == len(color):
            ink = InkModel.fit(drawn[:1])
            shots.append(Shot(clip, color, [ink.line_art(d) for d in drawn], (0, len(drawn) - 1), given=drawn,
                              ink=ink, paper_at=220))
    return shots


# ----------------------------------------------------------------------------- running


@dataclass
class Score:
    psnr: float
    ssim: float
    flat: float
    correct: int
    regions: int
    seconds_per_frame: float
    frames: int
    tdiff: float = 0.0  # flicker: mean over consecutive frame pairs (keys included), lower is better
    pairs: int = 0
    networks: tuple[int, int] | None = None  # lacvid: frames its colour and temporal networks ran on

    @property
    def accuracy(self) -> float:
        return self.correct / max(self.regions, 1)


def run_method(method: Method, shot: Shot) -> tuple[Frames, Score, float]:
    global LAST_NETWORK_FRAMES
    keys = {k: shot.color[k] for k in shot.keys}
    LAST_NETWORK_FRAMES = None
    t0 = time.perf_counter()
    pred = method(shot, keys)
    dt = time.perf_counter() - t0
    if len(pred) != len(shot.lines):
        raise RuntimeError(f"method returned {len(pred)} frames for {len(shot.lines)}")
    p, s, f, correct, regions = [], [], [], 0, 0
    for i, (y, t) in enumerate(zip(pred, shot.color)):
        if i in shot.keys:
            continue
        if y.shape != t.shape or y.dtype != np.uint8:
            raise RuntimeError(f"frame {i}: method returned {y.dtype} {y.shape}, expected uint8 {t.shape}")
        grey = shot.lines[i]
        p.append(min(psnr(y, t), 100.0))
        s.append(ssim(y, t))
        f.append(flat_share(y, t, _grey(shot.region_lines(i)) if shot.paper_at else grey, shot.paper_at))
        c, n = region_counts(y, t, shot.region_lines(i))
        correct, regions = correct + c, regions + n
    flicker = [temporal_difference(a, b, ta, tb) for a, b, ta, tb in zip(pred, pred[1:], shot.color, shot.color[1:])]
    score = Score(float(np.mean(p)), float(np.mean(s)), float(np.mean(f)), correct, regions,
                  dt / len(shot.lines), len(p), float(np.mean(flicker)) if flicker else 0.0, len(flicker),
                  LAST_NETWORK_FRAMES)
    return pred, score, dt


def _grey(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def aggregate(scores: Sequence[Score]) -> Score:
    w = np.array([s.frames for s in scores], np.float64)
    tot = w.sum()
    return Score(
        float(sum(s.psnr * n for s, n in zip(scores, w)) / tot),
        float(sum(s.ssim * n for s, n in zip(scores, w)) / tot),
        float(sum(s.flat * n for s, n in zip(scores, w)) / tot),
        sum(s.correct for s in scores), sum(s.regions for s in scores),
        float(np.mean([s.seconds_per_frame for s in scores])),
        int(tot),
        float(sum(s.tdiff * s.pairs for s in scores) / max(sum(s.pairs for s in scores), 1)),
        sum(s.pairs for s in scores),
        None if any(s.networks is None for s in scores) else
        (sum(s.networks[0] for s in scores), sum(s.networks[1] for s in scores)),
    )


def print_table(title: str, results: Mapping[str, Score], out=sys.stdout) -> None:
    base = results.get("flow")
    frames = next(iter(results.values())).frames if results else 0
    print(f"\n{title} ({frames} scored frames)", file=out)
    width = max([17] + [len(name) + 2 for name in results])
    head = (f"{'method':<{width}}{'PSNR dB':>8}{'SSIM':>7}{'flat':>7}{'regions':>9}{'tdiff':>7}{'s/frame':>9}   "
            f"{'PSNR/flow':>9}{'SSIM/flow':>10}{'flat/flow':>10}{'reg/flow':>9}")
    print(head, file=out)
    print("-" * len(head), file=out)
    for name, s in results.items():
        ratios = ""
        if base is not None:
            ratios = (f"{s.psnr / base.psnr:>9.3f}{s.ssim / base.ssim:>10.3f}{s.flat / max(base.flat, 1e-9):>10.3f}"
                      f"{s.accuracy / max(base.accuracy, 1e-9):>9.3f}")
        print(f"{name:<{width}}{s.psnr:>8.2f}{s.ssim:>7.3f}{s.flat:>7.3f}{s.accuracy:>9.3f}{s.tdiff:>7.2f}"
              f"{s.seconds_per_frame:>9.3f}   "
              f"{ratios}", file=out)
    for name, s in results.items():  # the networks run only where a frame's paint reads them
        if s.networks is not None:
            share = s.networks[0] / max(s.frames, 1)
            print(f"{name}: the colour network ran on {s.networks[0]} of {s.frames} frames ({share:.0%}), the temporal "
                  f"network on {s.networks[1]}", file=out)
    out.flush()


def _sheet_frames(shot: Shot, frames: Frames, n: int = 3) -> Frames:
    inner = [i for i in range(len(shot.lines)) if i not in shot.keys]
    pick = [inner[round(j * (len(inner) - 1) / max(n - 1, 1))] for j in range(n)] if inner else [0]
    return [frames[i] for i in pick]


def evaluate(sets: dict[str, list[Shot]], methods: Sequence[str], sheet_rows: list, log=sys.stderr
             ) -> dict[str, dict[str, Score]]:
    """Score every method on every shot (a shot shared by two sets runs once); per-set tables."""
    done: dict[str, dict[str, Score]] = {}
    tables: dict[str, dict[str, Score]] = {}
    shown: set[str] = set()
    for set_name, shots in sets.items():
        for si, shot in enumerate(shots):
            if shot.name in done:
                continue
            done[shot.name] = {}
            outputs = {}
            for m in methods:
                if m in FOOTAGE_METHODS and not shot.footage:
                    continue
                pred, score, dt = run_method(METHODS[m], shot)
                done[shot.name][m] = score
                outputs[m] = pred
                print(f"[{shot.name:<12}] {m:<16} {score.psnr:6.2f} dB  SSIM {score.ssim:.3f}  "
                      f"flat {score.flat:.3f}  regions {score.accuracy:.3f}  tdiff {score.tdiff:.2f}  {dt:6.1f} s"
                      + (f"  colour network on {score.networks[0]} frames" if score.networks is not None else ""),
                      file=log, flush=True)
            if si == 0:  # the first shot of each set goes on the contact sheet
                sheet_rows.append((f"{shot.name} truth", _sheet_frames(shot, shot.color)))
                for m in outputs:
                    sheet_rows.append((m, _sheet_frames(shot, outputs[m])))
        ran = [m for m in methods if all(m in done[s.name] for s in shots)]
        tables[set_name] = {m: aggregate([done[s.name][m] for s in shots]) for m in ran}
        if len(shots) > 1 and len(shots) <= PER_CLIP_ROWS:  # real clips: every clip shown on its own too
            for s in shots:
                if s.name not in shown:  # once, when two sets share it
                    shown.add(s.name)
                    tables[f"{set_name}: {s.name}"] = {m: done[s.name][m] for m in ran}
    return tables


def look_sheet(root: Path, path: Path) -> None:
    """clip07, clip08 (one painted frame, no truth), clip11 and clip13: line art, lacvid, truth where known."""
    rows: list[tuple[str, Frames]] = []
    for clip in ("clip07", "clip08", "clip11", "clip13"):
        drawn, color = _frames(root / clip / "lines"), sorted((root / clip / "color").glob("*.png"))
        if not drawn:
            continue
        keys = {int(p.stem): read_image(p) for p in color} if len(color) < len(drawn) else \
            {0: read_image(color[0]), len(drawn) - 1: read_image(color[-1])}
        shot = Shot(clip, [keys.get(i, np.zeros_like(drawn[0])) for i in range(len(drawn))],
                    [np.zeros(d.shape[:2], np.uint8) for d in drawn], tuple(sorted(keys)), given=drawn)
        out = run_lacvid(shot, keys, [])
        pick = [i for i in np.linspace(0, len(drawn) - 1, 4).round().astype(int) if i not in keys][:3] or [0]
        rows += [(f"{clip} drawing", [drawn[i] for i in pick]), (f"{clip} lacvid", [out[i] for i in pick])]
        if len(color) == len(drawn):
            rows.append((f"{clip} truth", [read_image(color[i]) for i in pick]))
    _write_sheet(path, contact_sheet(rows, height=240))


def _write_sheet(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.png")
    cv2.imwrite(str(tmp), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    tmp.replace(path)
    print(f"contact sheet: {path}", file=sys.stderr)


def _sets(wanted: Sequence[str], args: argparse.Namespace) -> dict[str, list[Shot]]:
    sets: dict[str, list[Shot]] = {}
    if "synth" in wanted:
        sets["synth (12 and 24 frames, keys first+last)"] = synth_shots(args.synth_shots, args.synth_size)
    if "pencil" in wanted:
        sets["synth in pencil (grey strokes, pressure, gaps, coloured shadow lines)"] = pencil_shots(
            args.synth_shots, args.synth_size)
    if "stress" in wanted:
        sets["synth stress (faint pencil, many gaps, a gradient sky, a globe off the frame, an occluder sweeping "
             "across, a prop entering, paint near paper)"] = pencil_shots(args.synth_shots, args.synth_size,
                                                                         style="stress")
    if "redrawn" in wanted:
        sets["synth redrawn (pencil; characters close up, their hair locks and folds redrawn in every drawing, "
             "as real inbetweens are)"] = pencil_shots(args.synth_shots, args.synth_size, style="redrawn")
    if "pencil-h264" in wanted:
        sets["synth in pencil as an H.264 video (x264 defaults: crf 23, yuv420p)"] = [
            as_h264(s) for s in pencil_shots(args.synth_shots, args.synth_size)]
    if ({"real", *HANDDRAWN_SETS} & set(wanted)) and not args.realdata.is_dir():
        print(f"realdata folder {args.realdata} absent: skipping the real clips", file=sys.stderr)
        return sets
    if "real" in wanted:
        ref = real_shots(args.realdata, ["clip01", "clip02", "clip03", "clip05"])
        extra = real_shots(args.realdata, ["clip06"])
        if ref:
            sets["real clips 01,02,03,05 (XDoG lines, keys first+last)"] = ref
        if ref or extra:
            sets["real clips 01,02,03,05,06"] = ref + extra
    # Clips 11-13, read once for the sets made of them (HANDDRAWN_SETS)
    drawn = handdrawn_shots(args.realdata, ["clip11", "clip12", "clip13"]) \
        if HANDDRAWN_SETS & set(wanted) else []
    if "handdrawn" in wanted and drawn:
        sets["hand-drawn clips 11,12,13 (the artist's line art as exported, keys first+last)"] = drawn
    if "handdrawn-large" in wanted and drawn:
        sets["hand-drawn clips 11,12,13 exported 2.5x larger (648 px high: the same drawings at an HD size)"] = [
            enlarged(s, 2.5) for s in drawn]
    if "handdrawn-scan" in wanted and drawn:
        sets["hand-drawn clips 11,12,13 scanned from paper (cream tone, uneven light, grain every frame)"] = [
            scanned(s, seed) for seed, s in enumerate(drawn)]
    if "handdrawn-h264" in wanted and drawn:
        sets["hand-drawn clips 11,12,13 as an H.264 video (x264 defaults: crf 23, yuv420p)"] = [
            as_h264(s) for s in drawn]
    if "handdrawn-hd" in wanted and drawn:  # the size most drawings are exported at; matched at 576 px (x0.53)
        sets["hand-drawn clips 11,12,13 exported at 1080 px high (4.17x: a full-HD export)"] = [
            enlarged(s, HD_HEIGHT / s.color[0].shape[0]) for s in drawn]
    if "handdrawn-fast" in wanted and drawn:
        sets["hand-drawn clips 11,12,13 on twos and threes (every 2nd / 3rd frame: larger motion)"] = [
            strided(s, k) for k in (2, 3) for s in drawn]
    return sets


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default="synth,pencil,stress,redrawn,real,handdrawn,handdrawn-fast,handdrawn-large,"
                                      "handdrawn-scan,handdrawn-h264",
                    help="comma-separated: synth, pencil, pencil-h264, stress, redrawn, real, handdrawn, "
                         "handdrawn-fast, handdrawn-large, handdrawn-scan, handdrawn-h264, handdrawn-hd")
    ap.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated, from: {', '.join(METHODS)}")
    ap.add_argument("--synth-shots", type=int, default=3, help="shots per length (12 and 24 frames)")
    ap.add_argument("--synth-size", type=int, default=256)
    ap.add_argument("--realdata", type=Path, default=default_realdata())
    ap.add_argument("--sheet", type=Path, default=None, help="write a contact sheet PNG here")
    ap.add_argument("--look", type=Path, default=None, help="write the clip07/08/11/13 contact sheet PNG here")
    ap.add_argument("--model", default="default", help="lacvid checkpoint for the lacvid methods")
    args = ap.parse_args(argv)
    global LACVID_MODEL
    LACVID_MODEL = args.model
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        ap.error(f"unknown methods {unknown}; known: {list(METHODS)}")
    methods = ["copy", "flow"] + [m for m in methods if m not in ("copy", "flow")]  # baselines always run
    sheet_rows: list = []
    tables = evaluate(_sets([s.strip() for s in args.sets.split(",") if s.strip()], args), methods, sheet_rows)
    for title, res in tables.items():
        print_table(title, res)
    if args.sheet is not None and sheet_rows:
        _write_sheet(args.sheet, contact_sheet(sheet_rows))
    if args.look is not None and args.realdata.is_dir():
        look_sheet(args.realdata, args.look)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
