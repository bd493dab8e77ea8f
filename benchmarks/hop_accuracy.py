"""Region matching one hop at a time: how often the colour carry gets a region right from a perfect neighbour.

Usage::

    python benchmarks/hop_accuracy.py [--sets handdrawn,pencil,stress] [--carry proximity=0 ...]

The propagation (``lacvid.propagate``) carries region colours from frame to frame; a wrong colour
on a long chain is the sum of many hops, and an end-to-end score cannot say which hop lost it or
why. Here every hop starts from the truth: each region of the source frame believes its true
colour (the keys' palette colour nearest its truth's median, as the propagation reads a key's regions,
within 24 levels), the hop's
votes (``propagate.hops``, the pipeline's own flow and regions) carry that to the neighbouring
frame, and the carried colour of each target region is checked against its own truth. Forward and
backward neighbours both count; regions under 10 px, and regions whose truth is no palette colour,
are left out. Rows per size of region (pixels at the matching size: small < 100, medium < 1000,
large), per set and per clip.

Per size: the share right (the carried belief's top colour is the truth's), the mean probability the carried
belief gives the truth (``p``), and how many regions. Both matter: a chain carries beliefs, not answers, and a
change that makes the top colour right more often while leaking belief to other colours lost end to end (the
sixteenth session's ``area_vote_power`` 1: small regions right up on every set, large regions' ``p`` down by
0.04, every hand-drawn set's quality score down). Neither decides alone (the proximity weighed 0 raised ``p``
everywhere and lost end to end on the hand-drawn clips): this screens in seconds, ``quality.py`` decides.

It takes seconds (no compositing, no networks), so a change to the carry (``--carry name=value``
for ``propagate.evidence.CarrySettings``, printed beside the default) is measured on every set at
once before a full ``benchmarks/quality.py`` run. It also tells whether generated shots fail the way
real drawings do: a matcher tuned or trained on them learns what they teach.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import quality  # noqa: E402  (the benchmark sets, shared with the quality benchmark)

from lacvid.eval.metrics import FLAT_TOLERANCE, REGION_MIN_AREA  # noqa: E402
from lacvid.propagate import ShotPropagation  # noqa: E402
from lacvid.propagate.evidence import Belief, CarrySettings, carry_votes  # noqa: E402
from lacvid.propagate.hops import ShotHops  # noqa: E402
from lacvid.propagate.palette import region_colors  # noqa: E402
from lacvid.propagate.segments import Segments  # noqa: E402

SIZES = ("small", "medium", "large")  # < 100 px, < 1000 px, larger (at the matching size)


def size_class(area: int) -> str:
    return SIZES[0] if area < 100 else SIZES[1] if area < 1000 else SIZES[2]


def true_colors(seg: Segments, color: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """int64 (n,): each region's palette colour, the one nearest (max over channels) its truth's colour as the
    propagation reads a key's regions (``propagate.palette.region_colors``: the median away from the ink), -1
    where none lies within 24 levels."""
    medians = region_colors(color, seg)[0]                                                 # (n, 3) float32
    off = np.abs(palette.astype(np.float32)[None] - medians[:, None]).max(-1)              # (n, P)
    return np.where(off.min(1) <= FLAT_TOLERANCE, off.argmin(1), -1).astype(np.int64)


def hop_counts(shot: quality.Shot, variants: Sequence[CarrySettings]) -> list[Counter]:
    """Per carry variant, (size class, right) -> regions, over every hop of ``shot`` between neighbours."""
    ink = [lines < 245 for lines in shot.lines]      # the pipeline's ink at a size it matches at (``ink_at_size``)
    propagation = ShotPropagation(ink, {k: shot.color[k] for k in shot.keys})
    palette, n = propagation.palette, len(shot.lines)
    frames = {t: propagation.frame(t) for t in range(n)}
    truth = {t: true_colors(frames[t][0], shot.color[t], palette) for t in range(n)}
    pairs = [(t, s) for t in range(n) for s in (t - 1, t + 1) if 0 <= s < n]
    settings = propagation.settings
    hops = ShotHops(frames.__getitem__, propagation.keys, propagation.first, settings.carry,  # votes on request
                    settings.composed_flows, settings.pan_prior)
    counts = [Counter() for _ in variants]
    for t, s in pairs:
        target, source = frames[t][0], frames[s][0]
        known = truth[s] >= 0
        prob = np.full((source.n, len(palette)), 1.0 / len(palette))  # (ns, P): an unknown truth says nothing
        prob[known] = 0.0
        prob[known, truth[s][known]] = 1.0
        perfect = Belief(prob, np.ones(source.n))
        votes = hops.votes(t, s, frames)
        scored = [r for r in range(target.n) if truth[t][r] >= 0 and target.area[r] >= REGION_MIN_AREA]
        for variant, count in zip(variants, counts):
            prob = carry_votes(target, source, votes, perfect, variant).prob          # (nt, P)
            got = prob.argmax(1)                                                      # (nt,)
            for r in scored:
                size = size_class(int(target.area[r]))
                count[(size, bool(got[r] == truth[t][r]))] += 1
                count[(size, "p")] += float(prob[r, truth[t][r]])
    return counts


def shots_of(sets: Sequence[str], realdata: Path) -> dict[str, list[quality.Shot]]:
    out: dict[str, list[quality.Shot]] = {}
    for name in sets:
        if name == "handdrawn":
            clips = quality.handdrawn_shots(realdata, ["clip11", "clip12", "clip13"]) if realdata.is_dir() else []
            if not clips:
                print(f"hand-drawn clips not found under {realdata}: skipped", file=sys.stderr)
            out[name] = clips
        elif name in ("pencil", "stress", "redrawn"):
            out[name] = quality.pencil_shots(style=name)
        elif name == "synth":
            out[name] = quality.synth_shots()
        else:
            raise SystemExit(f"hop_accuracy.py: unknown set {name!r} (handdrawn, pencil, stress, redrawn, synth)")
    return out


def parse_carry(items: Sequence[str]) -> CarrySettings:
    """``CarrySettings`` with ``name=value`` changes (``--carry proximity=0``)."""
    names = {f.name for f in fields(CarrySettings)}
    changes = {}
    for item in items:
        name, _, value = item.partition("=")
        if name not in names or not value:
            raise SystemExit(f"hop_accuracy.py: --carry takes name=value with a name of {sorted(names)}, got {item!r}")
        changes[name] = float(value)
    return replace(CarrySettings(), **changes)


def row(label: str, count: Counter) -> str:
    cells = []
    for size in SIZES:
        right, wrong = count[(size, True)], count[(size, False)]
        n = max(right + wrong, 1)
        cells.append(f"{right / n:7.3f} {count[(size, 'p')] / n:6.3f} {right + wrong:6d}")
    return f"{label:28s}" + "".join(f"  {c}" for c in cells)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="handdrawn,pencil,stress", help="comma-separated: handdrawn, pencil, "
                        "stress, redrawn, synth")
    parser.add_argument("--carry", nargs="*", default=[], help="name=value changes to CarrySettings, measured "
                        "beside the default")
    parser.add_argument("--realdata", type=Path, default=quality.default_realdata())
    args = parser.parse_args(argv)
    variants = [CarrySettings()] + ([parse_carry(args.carry)] if args.carry else [])
    names = ["default"] + ([" ".join(args.carry)] if args.carry else [])
    print(f"{'':28s}" + "".join(f"  {size + ' right':>7s} {'p':>6s} {'of':>6s}" for size in SIZES))
    for set_name, shots in shots_of([s for s in args.sets.split(",") if s], args.realdata).items():
        totals = [Counter() for _ in variants]
        per_shot = []
        for shot in shots:
            counts = hop_counts(shot, variants)
            per_shot.append((shot.name, counts))
            for total, count in zip(totals, counts):
                total.update(count)
        for name, total in zip(names, totals):
            print(row(f"{set_name} ({name})", total))
        if set_name == "handdrawn":
            for shot_name, counts in per_shot:
                for name, count in zip(names, counts):
                    print(row(f"  {shot_name} ({name})", count))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
