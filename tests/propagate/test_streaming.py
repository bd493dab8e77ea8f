"""A shot's propagation streams: each frame segmented once, a few frames held, the same bits as holding all."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from lacvid.preprocess.ink import InkModel
from lacvid.propagate import ShotPropagation
from lacvid.propagate.segments import Segments
from lacvid.propagate.shot import MemoryFrames
from tests.propagate.test_propagate import N, frame


class CountingInk(Sequence):
    """Ink masks that count how often each frame is read."""

    def __init__(self, masks: list[np.ndarray]) -> None:
        self.masks, self.reads = masks, [0] * len(masks)

    def __len__(self) -> int:
        return len(self.masks)

    def __getitem__(self, t: int) -> np.ndarray:  # type: ignore[override]
        self.reads[t] += 1
        return self.masks[t]


class ForgetfulFrames(MemoryFrames):
    """A store that copies what it is given (as a disk store does) and counts what it holds for the chains."""

    def __init__(self) -> None:
        super().__init__()
        self.puts: list[int] = []

    def put(self, t: int, segments: Segments, field: np.ndarray) -> None:
        self.puts.append(t)
        copy = Segments(segments.labels.copy(), segments.n, segments.interior.copy(), segments.area.copy(),
                        segments.dist.copy())
        super().put(t, copy, field.copy())


def shot() -> tuple[list[np.ndarray], dict[int, np.ndarray]]:
    drawn, truth = zip(*(frame(t) for t in range(N)))
    ink = InkModel.fit(drawn[:1])
    return [ink.frame(d).mask for d in drawn], {0: truth[0], 4: truth[4], N - 1: truth[N - 1]}


def test_streamed_frames_equal_the_whole_shot_and_each_frame_is_segmented_once() -> None:
    masks, keys = shot()
    whole = ShotPropagation(masks, keys).run()
    ink, store = CountingInk(masks), ForgetfulFrames()
    streamed = ShotPropagation(ink, keys, store=store)
    got: dict[int, object] = {}
    streamed.run(emit=lambda t, colors: got.setdefault(t, colors))
    assert sorted(got) == sorted(whole) == [t for t in range(N) if t not in keys]
    for t, colors in whole.items():
        np.testing.assert_array_equal(got[t].labels, colors.labels)
        np.testing.assert_array_equal(got[t].index, colors.index)
        np.testing.assert_array_equal(got[t].conf, colors.conf)
    assert ink.reads == [1] * N                        # every mask read once, keys included
    assert sorted(store.puts) == list(range(N))        # every frame segmented once


def test_a_chain_holds_only_the_frames_its_next_hops_read() -> None:
    masks, keys = shot()
    prop = ShotPropagation(masks, {0: keys[0], N - 1: keys[N - 1]})
    walk = prop._walk(0, 1, list(range(1, N - 1)))
    next(walk)
    frame = walk.gi_frame.f_locals
    for _ in range(4):
        next(walk)
        assert len(frame["window"]) <= len(prop.settings.back_weights) + 1
        assert len(frame["got"]) <= len(prop.settings.back_weights) + 1
        assert frame["hops"].held() <= len(prop.settings.back_weights)     # flows kept for composing


@pytest.mark.parametrize("keys", [(0, N - 1), (0, 4, N - 1), (4,)])
def test_a_run_drops_every_votes_and_flow_once_its_last_chain_has_read_it(monkeypatch, keys) -> None:
    """What the chains will read is counted from the chains up front (``propagate.hops``): a run ends holding
    nothing, so a long shot's pairs never pile up (each waits only for the chain that reads it second)."""
    import lacvid.propagate.shot as shot_module
    from lacvid.propagate.hops import ShotHops

    made: list[ShotHops] = []

    class Watched(ShotHops):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(shot_module, "ShotHops", Watched)
    masks, _ = shot()
    ShotPropagation(masks, {k: frame(k)[1] for k in keys}).run()
    assert len(made) == 1 and made[0].held() == 0


def test_a_stop_set_from_another_thread_ends_the_chains_after_the_hop_in_hand() -> None:
    """What ``ShotWorker.prepare`` sets when the thread that started the propagation fails: the chains end
    after their current hop and the frames not yet done are not emitted (nothing half-done is)."""
    import threading

    masks, keys = shot()
    stop = threading.Event()
    got: list[int] = []

    def emit(t: int, colors: object) -> None:
        got.append(t)
        stop.set()  # the first frame done: the caller "fails"

    ShotPropagation(masks, keys).run(emit=emit, stop=stop)
    everything = [t for t in range(N) if t not in keys]
    assert 1 <= len(got) < len(everything)
    already = threading.Event()
    already.set()
    assert ShotPropagation(masks, keys).run(stop=already) == {}
