"""The votes between two frames of a shot, found once for both chains that cross them.

Between two keys the forward and the backward chain cross every pair of neighbouring frames, in
opposite directions. One flow serves both: estimated from one frame of the pair to the other
(``x(p) ~ y(p + flow(p))``), it lands each pixel of ``x`` on a pixel of ``y``, and each such pair
votes for (``x``'s region, ``y``'s region). Read by rows the votes say where ``x``'s regions came
from (the chain walking from ``y`` to ``x`` pulls its colours); read by columns where ``y``'s went
(the chain walking the other way, pushed: ``HopVotes.reversed``). So a shot estimates one DIS
flow per pair of neighbours instead of one per chain and hop.

Which way a pair's flow runs: for the chain whose key is nearer, where both chains read it
(``ShotHops.pulls``). A chain is the trusted one near its own key (``evidence.fuse`` weighs the
chains by confidence, which decays with every hop), and there it pulls, as it did with a flow of
its own; it pushes only in the half of the interval where the other chain leads. (Pushed
everywhere, the backward chain cost the generated pencil shots 0.021 of their regions, 0.957 ->
0.936; README.)

A source further back (``PropagationSettings.back_weights``) gets its flow from the hops' flows
composed (``flow.compose_flows``) where they run its way, else a DIS flow of its own (the pair
straddling the interval's middle; ``composed_flows=False``: always); within a held drawing nothing
moves. What each pair's votes and flows will be read for is counted up front from the shot's
chains, and each is dropped when its last reader has it, so the memory held stays that of the
frames the chains are at (plus each pair's compact votes until the second chain reaches it). Asked
again after that (``ShotPropagation._chain`` on its own, in tests), a pair is made again, the same bits.
"""

from __future__ import annotations

import bisect
import functools
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

from lacvid.propagate.evidence import CarrySettings, HopVotes
from lacvid.propagate.flow import compose_flows, estimate_flow
from lacvid.propagate.segments import Segments

Pair = tuple[int, int]       # (earlier frame, later frame) of a shot
Flow = tuple[int, int]       # (from frame, to frame): from(p) ~ to(p + flow(p))
Frames = Mapping[int, tuple[Segments, np.ndarray]]


class _Stored:
    """A pair's votes kept compactly: a region lands in a few regions of the other frame, so the (nx, ny)
    matrix is nearly all zeros (about 1000 x 1000 float64, 8 MB, at 576 px)."""

    def __init__(self, hop: HopVotes) -> None:
        self.shape = hop.votes.shape
        self.where = np.flatnonzero(hop.votes)                                     # (k,) int64
        self.values = hop.votes.ravel()[self.where]                                # (k,) float64
        self.count, self.moved = hop.count, hop.moved

    def votes(self) -> HopVotes:
        dense = np.zeros(self.shape, np.float64)
        dense.ravel()[self.where] = self.values                                    # the same bits
        return HopVotes(dense, self.count, self.moved)


class ShotHops:
    """Votes between the frames of one shot (``votes``), made once for both chains that ask, from the
    frames' regions and flow fields (``frame(t)`` -> (Segments, field)). ``keys``: the shot's keys (sorted);
    ``first[t]``: the first frame of the held drawing ``t`` belongs to (``t`` itself when not held);
    ``needed``: every (target, source) the shot's chains will ask for, with repeats."""

    def __init__(self, frame: Callable[[int], tuple[Segments, np.ndarray]], keys: Sequence[int], first: list[int],
                 carry: CarrySettings, composed_flows: bool, pan_prior: bool,
                 needed: Iterable[tuple[int, int]] = ()) -> None:
        self.frame, self.keys, self.first, self.carry = frame, sorted(keys), first, carry
        self.composed_flows, self.pan_prior = composed_flows, pan_prior
        self._lock = threading.Lock()
        self._makers: dict[tuple[str, int, int], threading.Lock] = {}  # one maker of a pair's votes or a flow
        self._votes: dict[Pair, _Stored] = {}
        self._flows: dict[Flow, np.ndarray] = {}
        needed = list(needed)
        self._vote_reads: Counter[Pair] = Counter(_pair(*ts) for ts in needed)
        self._asked: dict[Pair, set[Flow]] = {}  # the ways each pair is read: (target, source)
        for target, source in needed:
            self._asked.setdefault(_pair(target, source), set()).add((target, source))
        self._flow_reads: Counter[Flow] = Counter()
        for pair in self._vote_reads:
            self._count_flow_reads(self._direction(pair))

    def votes(self, target: int, source: int, window: Frames) -> HopVotes:
        """How ``target``'s regions land in ``source``'s: the pair's votes as made when its flow runs from
        ``target``, else the same votes reversed (``HopVotes.reversed``). ``window``: the frames the asking
        chain holds (regions and flow field, the frames between the two included), read instead of ``frame``."""
        pair = _pair(target, source)
        start, end = direction = self._direction(pair)
        with self._maker("votes", pair):
            with self._lock:
                self._vote_reads[pair] -= 1
                last = self._vote_reads[pair] <= 0      # no chain reads it after this one
                stored = self._votes.pop(pair, None) if last else self._votes.get(pair)
            if stored is not None:
                hop = stored.votes()
            else:
                get = functools.partial(_frame, window, self.frame)
                hop = HopVotes.along(get(start)[0], get(end)[0], self._flow(direction, get), self.carry)
                self._done_with_flow(direction)
                if not last:
                    stored = _Stored(hop)
                    with self._lock:  # as every other change to what is held
                        self._votes[pair] = stored
        return hop if target == start else hop.reversed()

    def pulls(self, target: int, source: int) -> bool:
        """Whether the chain carrying ``source``'s colours to ``target`` reads the pair's votes as made (its
        key is the nearer one: the pair's flow runs from ``target``), not reversed."""
        return self._direction(_pair(target, source))[0] == target

    def held(self) -> int:
        """Votes and flows held now (what the memory test watches)."""
        with self._lock:
            return len(self._votes) + len(self._flows)

    def _direction(self, pair: Pair) -> Flow:
        """Which way ``pair``'s flow runs: from the frame the chain reading it reaches, where one chain reads it
        (one direction asked for, or the pair before the first key or after the last); where both do, from the
        frame the nearer key's chain reaches: forward (later -> earlier) when the later frame is no more hops
        from the earlier key than the earlier frame is from the later key."""
        asked = self._asked.get(pair, ())
        if len(asked) == 1:
            return next(iter(asked))
        a, b = pair
        i = bisect.bisect_right(self.keys, a)                  # keys <= a: self.keys[:i]
        before = self.keys[i - 1] if i > 0 else None
        after = self.keys[i] if i < len(self.keys) and self.keys[i] >= b else None
        forward = after is None or (before is not None and b - before <= after - a)
        return (b, a) if forward else (a, b)

    def _composes(self, direction: Flow) -> tuple[Flow, Flow] | None:
        """The two flows ``direction``'s is composed of (to the frame next to its start, then on), or None
        when it is estimated: between neighbours, within a held drawing (none), or where a part runs the other way."""
        start, end = direction
        step = 1 if end > start else -1
        if abs(end - start) < 2 or not self.composed_flows or self.first[start] == self.first[end]:
            return None
        near = start + step
        parts = ((start, near), (near, end))
        # A part whose flow runs the other way cannot be composed, unless the part is one held drawing (no motion).
        if any(self._direction(_pair(*part)) != part and self.first[part[0]] != self.first[part[1]]
               for part in parts):
            return None
        return parts

    def _count_flow_reads(self, direction: Flow) -> None:
        """One read of ``direction``'s flow; the first also counts the reads of the flows it is composed of."""
        self._flow_reads[direction] += 1
        parts = self._composes(direction)
        if self._flow_reads[direction] == 1 and parts is not None:
            for part in parts:
                self._count_flow_reads(part)

    def _maker(self, what: str, pair: Pair) -> threading.Lock:
        """The lock of ``pair``'s votes or flow (``what``): votes are taken before flows, and flows from the
        longest span down, so two chains asking at once never wait on each other in a circle."""
        with self._lock:
            return self._makers.setdefault((what, *pair), threading.Lock())

    def _flow(self, direction: Flow, get: Callable[[int], tuple[Segments, np.ndarray]]) -> np.ndarray:
        """Flow (h, w, 2) from ``direction``'s first frame to its second: none within a held drawing, composed
        through the frame next to the first where ``_composes`` says so, else estimated between the two frames'
        distance fields."""
        with self._maker("flow", _pair(*direction)):
            with self._lock:
                flow = self._flows.get(direction)
            if flow is not None:
                return flow
            start, end = direction
            field = get(start)[1]
            parts = self._composes(direction)
            if self.first[start] == self.first[end]:
                flow = np.zeros((*field.shape, 2), np.float32)
            elif parts is not None:
                flow = compose_flows(self._flow(parts[0], get), self._flow(parts[1], get))
                for part in parts:
                    self._done_with_flow(part)
            else:
                flow = estimate_flow(field, get(end)[1], self.pan_prior)
            with self._lock:
                if self._flow_reads[direction] > 1:  # a longer flow composes it: kept until then
                    self._flows[direction] = flow
            return flow

    def _done_with_flow(self, direction: Flow) -> None:
        with self._lock:
            self._flow_reads[direction] -= 1
            if self._flow_reads[direction] <= 0:
                self._flows.pop(direction, None)


def _frame(window: Frames, frame: Callable[[int], tuple[Segments, np.ndarray]], t: int) -> tuple[Segments, np.ndarray]:
    got = window.get(t)
    return got if got is not None else frame(t)


def _pair(t: int, s: int) -> Pair:
    return (min(t, s), max(t, s))
