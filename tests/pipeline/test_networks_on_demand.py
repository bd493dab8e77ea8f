"""On drawings with flat keys the colour network runs only for the frames whose paint its vote could change
(``pipeline.networks.NetworksOnDemand``), and the temporal network not at all: a real tiny random model, its
calls counted at the backend, the frames it made read from the cache, and every frame compared with a run that
made the colour network everywhere."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from lacvid import ColorizeOptions, colorize
from lacvid.models.runtime import NetworkBackend
from lacvid.pipeline.executors import LocalExecutor
from lacvid.pipeline.shot_work import ShotArrays, ShotWorker, open_backend
from tests.support.drawings import write_revealed_box
from tests.support.tiny_clip import tiny_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")
N = 5  # keys 0 and 4; only frame 2 pans


class Counting:
    """A real backend that counts the frames of every colour and temporal call (and can fail the colour
    network's ``fail_at``-th call, like a process killed mid-shot)."""

    def __init__(self, backend: NetworkBackend, fail_at: int | None = None) -> None:
        self.backend, self.fail_at = backend, fail_at
        self.name, self.device, self.has_temporal = backend.name, backend.device, backend.has_temporal
        self.colour = self.temporal_frames = self.calls = 0

    def encode_references(self, *args):
        return self.backend.encode_references(*args)

    def color(self, lines, dist, refs):
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("killed in the colour network")
        self.colour += len(lines)
        return self.backend.color(lines, dist, refs)

    def temporal(self, frames):
        self.temporal_frames += len(frames)
        return self.backend.temporal(frames)


class Recorded(LocalExecutor):
    """This process's executor with a counting backend; ``everywhere``: the networks on every frame."""

    def __init__(self, everywhere: bool = False, fail_at: int | None = None) -> None:
        super().__init__()
        self.everywhere, self.fail_at = everywhere, fail_at

    def start(self, plan, cache, tasks, progress, backend) -> None:
        self.backend = Counting(backend or open_backend(plan, progress=progress), self.fail_at)
        self.workers[plan] = ShotWorker(plan, cache, self.backend, progress, networks_everywhere=self.everywhere)
        self.arrays = ShotArrays.open(cache, plan, tasks[0].shot)


def _run(root: Path, clip: tuple[Path, Path], name: str, executor: Recorded, **options) -> list[np.ndarray]:
    """Colour the clip into ``root/name`` (its own cache); the finished frames."""
    out = root / name
    executor.result = colorize(*clip, out, ColorizeOptions(model=str(tiny_model(root / "tiny.pt")),
                                                           cache=root / f"cache-{name}", backend="torch",
                                                           shots="single", overwrite=True, **options),
                               executor=executor)
    return [cv2.imread(str(out / f"{t:04d}.png")) for t in range(N)]


def _made(arrays) -> list[int]:
    return [t for t in range(N) if arrays.is_done(t)]


def test_flat_keys_that_resolve_every_region_run_no_network(tmp_path) -> None:
    clip = write_revealed_box(tmp_path, pan=0)
    lazy, everywhere = Recorded(), Recorded(everywhere=True)
    got, want = _run(tmp_path, clip, "lazy", lazy), _run(tmp_path, clip, "everywhere", everywhere)
    assert (lazy.backend.colour, lazy.backend.temporal_frames) == (0, 0)
    assert _made(lazy.arrays.colored) == _made(lazy.arrays.refined) == []   # nothing stored as if computed
    assert (everywhere.backend.colour, everywhere.backend.temporal_frames) == (3, 0)
    for t in range(N):
        np.testing.assert_array_equal(got[t], want[t])


@pytest.mark.parametrize("temporal", [True, False])
def test_an_unresolved_region_runs_the_colour_network_on_its_frame_alone(tmp_path, temporal: bool) -> None:
    """The frame whose vote the network could change, and nothing else: no temporal window, with the temporal
    network on or off (a palette fill reads the network's colour only as a vote)."""
    clip = write_revealed_box(tmp_path, pan=40)
    lazy, everywhere = Recorded(), Recorded(everywhere=True)
    got = _run(tmp_path, clip, "lazy", lazy, temporal=temporal)
    want = _run(tmp_path, clip, "everywhere", everywhere, temporal=temporal)
    assert _made(lazy.arrays.colored) == [2] and _made(lazy.arrays.refined) == []
    assert (lazy.backend.colour, lazy.backend.temporal_frames) == (1, 0)
    assert everywhere.backend.temporal_frames == 0
    for t in range(N):
        np.testing.assert_array_equal(got[t], want[t])


def test_a_run_killed_in_the_network_resumes_to_the_same_frames(tmp_path) -> None:
    clip = write_revealed_box(tmp_path, pan=40)
    want = _run(tmp_path, clip, "everywhere", Recorded(everywhere=True))
    killed = Recorded(fail_at=1)
    with pytest.raises(RuntimeError, match="killed in the colour network"):
        _run(tmp_path, clip, "lazy", killed)
    assert _made(killed.arrays.colored) == [], "nothing stored as if computed"
    resumed = Recorded()
    got = _run(tmp_path, clip, "lazy", resumed)
    assert (resumed.backend.colour, resumed.backend.temporal_frames) == (1, 0)
    for t in range(N):
        np.testing.assert_array_equal(got[t], want[t])


def test_damaged_network_frames_are_found_and_made_again(tmp_path) -> None:
    clip = write_revealed_box(tmp_path, pan=40)
    want = _run(tmp_path, clip, "lazy", Recorded())
    store = next((tmp_path / "cache-lazy").glob("*.zarr"))
    for chunk in ("finished/paint/c/2/0/0/0", "colour/rgb/c/2/0/0/0"):
        next(store.glob(f"run-*/*/{chunk}")).unlink()      # frame 2 is composed again, and needs its colour
    again = Recorded()
    got = _run(tmp_path, clip, "lazy", again)
    assert any("missing or damaged" in w for w in again.result.warnings), again.result.warnings
    assert (again.backend.colour, again.backend.temporal_frames) == (1, 0), "frame 2's colour, made again"
    for t in range(N):
        np.testing.assert_array_equal(got[t], want[t])


def test_colour_footage_runs_no_network(tmp_path) -> None:
    """Colour footage whose keys are painted with gradients is its nearest key warped (compose.fusion.
    footage_paint): the networks never run, and the frames are those of a run that made them everywhere."""
    from tests.support.tiny_clip import make_clip

    clip = make_clip(tmp_path / "clip", n=N)
    y, x = np.mgrid[0:clip["colors"][0].shape[0], 0:clip["colors"][0].shape[1]]
    shade = (40 * x / x.max() + 20 * y / y.max()).astype(np.int16)[..., None]       # not flat cel paint
    footage, keys = tmp_path / "footage", tmp_path / "keys"
    footage.mkdir()
    keys.mkdir()
    for t, color in enumerate(clip["colors"]):
        painted = cv2.cvtColor(np.clip(color.astype(np.int16) - shade, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(footage / f"{t:04d}.png"), painted)
        if t in (0, N - 1):
            cv2.imwrite(str(keys / f"{t:04d}.png"), painted)
    lazy, everywhere = Recorded(), Recorded(everywhere=True)
    got = _run(tmp_path, (footage, keys), "lazy", lazy, lines="color")
    want = _run(tmp_path, (footage, keys), "everywhere", everywhere, lines="color")
    assert (lazy.backend.colour, lazy.backend.temporal_frames) == (0, 0)
    assert everywhere.backend.colour > 0
    assert all(np.array_equal(a, b) for a, b in zip(got, want))


def test_the_propagation_and_the_networks_beside_it_fail_as_one(tmp_path, monkeypatch) -> None:
    """The propagation runs on its own thread while the shot's setup and (where every frame reads them) the
    networks run on the caller's: an error on either side is the run's error, and neither thread is left
    running after it."""
    import threading

    from lacvid.pipeline.propagation import ShotPropagator

    clip = write_revealed_box(tmp_path, pan=40)
    with pytest.raises(RuntimeError, match="killed in the colour network"):
        _run(tmp_path, clip, "networks", Recorded(everywhere=True, fail_at=1))

    def broken(self, shot, keys_full, stop=None):
        raise RuntimeError("the propagation failed")

    monkeypatch.setattr(ShotPropagator, "run", broken)
    failing = Recorded(everywhere=True)
    with pytest.raises(RuntimeError, match="the propagation failed"):
        _run(tmp_path, clip, "propagation", failing)
    assert failing.backend.colour < 3, "the networks stopped at their next batch"
    assert not [t.name for t in threading.enumerate() if t.name.startswith(("lacvid-propagate", "lacvid-chain"))]
