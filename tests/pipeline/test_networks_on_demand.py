"""On drawings with flat keys the networks run only for the frames whose paint their vote could change
(``pipeline.networks.NetworksOnDemand``): a real tiny random model, its calls counted at the backend, the
frames it made read from the cache, and every frame compared with a run that made the networks everywhere."""

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
    """A real backend that counts the frames of every colour and temporal call (and can fail one, like a
    process killed mid-shot)."""

    def __init__(self, backend: NetworkBackend, fail_temporal: bool = False) -> None:
        self.backend, self.fail_temporal = backend, fail_temporal
        self.name, self.device, self.has_temporal = backend.name, backend.device, backend.has_temporal
        self.colour = self.temporal_frames = 0

    def encode_references(self, *args):
        return self.backend.encode_references(*args)

    def color(self, lines, dist, refs):
        self.colour += len(lines)
        return self.backend.color(lines, dist, refs)

    def temporal(self, frames):
        if self.fail_temporal:
            raise RuntimeError("killed before the temporal network")
        self.temporal_frames += len(frames)
        return self.backend.temporal(frames)


class Recorded(LocalExecutor):
    """This process's executor with a counting backend; ``everywhere``: the networks on every frame."""

    def __init__(self, everywhere: bool = False, fail_temporal: bool = False) -> None:
        super().__init__()
        self.everywhere, self.fail_temporal = everywhere, fail_temporal

    def start(self, plan, cache, tasks, progress, backend) -> None:
        self.backend = Counting(backend or open_backend(plan, progress=progress), self.fail_temporal)
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
    assert (everywhere.backend.colour, everywhere.backend.temporal_frames) == (3, 3)
    for t in range(N):
        np.testing.assert_array_equal(got[t], want[t])


@pytest.mark.parametrize("temporal", [True, False])
def test_an_unresolved_region_runs_exactly_its_window(tmp_path, temporal: bool) -> None:
    clip = write_revealed_box(tmp_path, pan=40)
    lazy, everywhere = Recorded(), Recorded(everywhere=True)
    got = _run(tmp_path, clip, "lazy", lazy, temporal=temporal)
    want = _run(tmp_path, clip, "everywhere", everywhere, temporal=temporal)
    window = [1, 2, 3] if temporal else [2]   # the temporal net at frame 2 reads the colour of 1, 2 and 3
    assert _made(lazy.arrays.colored) == window and _made(lazy.arrays.refined) == [2]
    assert (lazy.backend.colour, lazy.backend.temporal_frames) == (len(window), int(temporal))
    for t in range(N):
        np.testing.assert_array_equal(got[t], want[t])


def test_a_run_killed_inside_a_window_resumes_to_the_same_frames(tmp_path) -> None:
    clip = write_revealed_box(tmp_path, pan=40)
    want = _run(tmp_path, clip, "everywhere", Recorded(everywhere=True))
    with pytest.raises(RuntimeError, match="killed before the temporal network"):
        _run(tmp_path, clip, "lazy", Recorded(fail_temporal=True))
    resumed = Recorded()
    got = _run(tmp_path, clip, "lazy", resumed)
    assert (resumed.backend.colour, resumed.backend.temporal_frames) == (0, 1), "the colour made before is reused"
    for t in range(N):
        np.testing.assert_array_equal(got[t], want[t])


def test_damaged_network_frames_are_found_and_made_again(tmp_path) -> None:
    clip = write_revealed_box(tmp_path, pan=40)
    want = _run(tmp_path, clip, "lazy", Recorded())
    store = next((tmp_path / "cache-lazy").glob("*.zarr"))
    for chunk in ("finished/paint/c/2/0/0/0", "refined/rgb/c/2/0/0/0", "colour/rgb/c/3/0/0/0"):
        next(store.glob(f"run-*/*/{chunk}")).unlink()      # frame 2 is composed again, and needs them
    again = Recorded()
    got = _run(tmp_path, clip, "lazy", again)
    assert any("missing or damaged" in w for w in again.result.warnings), again.result.warnings
    assert (again.backend.colour, again.backend.temporal_frames) == (1, 1), "frame 3's colour, then frame 2"
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
    with pytest.raises(RuntimeError, match="killed before the temporal network"):
        _run(tmp_path, clip, "networks", Recorded(everywhere=True, fail_temporal=True))

    def broken(self, shot, keys_full, stop=None):
        raise RuntimeError("the propagation failed")

    monkeypatch.setattr(ShotPropagator, "run", broken)
    failing = Recorded(everywhere=True)
    with pytest.raises(RuntimeError, match="the propagation failed"):
        _run(tmp_path, clip, "propagation", failing)
    assert failing.backend.temporal_frames < 3, "the networks stopped at their next batch"
    assert not [t.name for t in threading.enumerate() if t.name.startswith(("lacvid-propagate", "lacvid-chain"))]
