"""A run's doubt per shot (``lacvid.compose.doubt``): its figures, and the frames to paint next.

Both read each frame's doubt from the shot's finished frames in the cache where a render or a
preview left them, and otherwise make it from the propagation (run where the cache lacks it)
and the keys' held paint, as composing would: no network runs, so ``lacvid keys --next`` costs
a fraction of a render, and the figures are the ones the render gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lacvid.compose.doubt import NextKey, ShotDoubt, doubt_mass, doubtful_share, next_keys
from lacvid.pipeline.session import RunSession
from lacvid.pipeline.shot_work import ShotWorker
from lacvid.progress import ProgressTask
from lacvid.shots.detect import Shot


@dataclass(frozen=True)
class ShotDoubts:
    """One shot's doubt: its figures and each frame's doubt mass (``compose.doubt.doubt_mass``)."""

    number: int               # 1-based, as lacvid shots lists it
    shot: Shot
    figures: ShotDoubt
    masses: dict[int, float]


def doubt_worker(run: RunSession) -> ShotWorker:
    """A worker that reads and makes doubt (and never runs the networks) for ``run``'s shots."""
    return ShotWorker(run.plan, run.cache, run.backend, run.progress)  # type: ignore[arg-type]


def shot_doubts(run: RunSession, shots: Sequence[Shot], bar: ProgressTask | None = None,
                worker: ShotWorker | None = None) -> list[ShotDoubts]:
    """The doubt of every frame of ``shots``, summed up per shot; ``bar`` advances once a frame."""
    worker = worker or doubt_worker(run)
    out = []
    for shot in shots:
        shares, masses = {}, {}
        for t, doubt in worker.doubts(shot):
            shares[t], masses[t] = doubtful_share(doubt), doubt_mass(doubt)
            if bar is not None:
                bar.advance()
        out.append(ShotDoubts(run.shots.index(shot) + 1, shot, ShotDoubt(shares), masses))
    return out


def choose_next(doubts: Sequence[ShotDoubts], keys: Sequence[int], n: int) -> list[tuple[ShotDoubts, NextKey]]:
    """The ``n`` frames whose painting would most reduce doubt in their shots (``compose.doubt.next_keys``)."""
    shots = [(range(d.shot.start, d.shot.stop), [k for k in keys if k in d.shot],
              [d.masses[t] for t in range(d.shot.start, d.shot.stop)]) for d in doubts]
    return [(doubts[i], pick) for i, pick in next_keys(shots, n)]


def uncovered_shots(run: RunSession) -> list[int]:
    """The numbers of the shots without a painted key."""
    keys = [k.index for k in run.keys]
    return [n for n, s in enumerate(run.shots, start=1) if not any(k in s for k in keys)]
