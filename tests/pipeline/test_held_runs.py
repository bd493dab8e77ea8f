"""Animation on twos and threes: a frame whose drawing is the previous frame's, stroke for stroke, is that
drawing held. It is propagated and painted once (as a key where the drawing is a key's, else as its frame
nearest a key), each of its frames puts its own ink over that paint, and its frames come out the same; a frame made
again (a resumed run) is the same bits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import lacvid.pipeline.compose as compose
import lacvid.propagate.hops as hops_module
from lacvid.cli import app
from lacvid.synth import render_shot
from tests.support.cli import cli_runner
from tests.support.drawings import colorize_drawings
from tests.support.tiny_clip import read_rgb

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TIMING = [0, 0, 1, 1, 1, 2, 3, 3]  # the drawing each frame shows: on twos, a three, a one, and the last key's on two


def _counting(monkeypatch) -> dict[str, int]:
    """How often a flow is estimated and a frame painted (its regions filled and the keys' held paint pasted)."""
    counts = {"flows": 0, "paints": 0}
    for name, owner, attr in (("flows", hops_module, "estimate_flow"), ("paints", compose, "paste_held_with_mask")):
        original = getattr(owner, attr)

        def counted(*args, _original=original, _name=name, **kwargs):
            counts[_name] += 1
            return _original(*args, **kwargs)
        monkeypatch.setattr(owner, attr, counted)
    return counts


def _on_twos(root: Path) -> list[np.ndarray]:
    drawings = list(render_shot(5, 1, max(TIMING) + 1, 72, 96, style="pencil"))   # (colour, drawing) each
    return colorize_drawings(root, [(drawings[d][1], drawings[d][0]) for d in TIMING], "--lines", "lines")


def test_a_held_drawing_is_matched_and_painted_once_and_its_frames_agree(tmp_path, monkeypatch) -> None:
    counts = _counting(monkeypatch)
    frames = _on_twos(tmp_path)
    for t in range(1, len(TIMING)):
        if TIMING[t] == TIMING[t - 1]:
            np.testing.assert_array_equal(frames[t], frames[t - 1], err_msg=f"frame {t} repeats frame {t - 1}")
    # Painted: the drawings no key holds (frames 2-4 as frame 2, frame 5); frame 1 is key 0's drawing and frame 6
    # key 7's, so they are those keys as painted.
    assert counts["paints"] == 2
    # A flow is estimated for a hop between different drawings only, once for both chains (0 -> 7, 7 -> 0): three.
    assert counts["flows"] == 3


def test_a_held_frame_made_again_comes_out_the_same(tmp_path) -> None:
    """A held drawing's paint lives in memory only while its frames compose: a frame the cache lost is made
    again (its drawing painted again), the same bits."""
    frames = _on_twos(tmp_path)
    store = next((tmp_path / "cache").glob("*.zarr"))
    for t in (3, 4):  # they repeat frame 2
        next(store.glob(f"run-*/*/finished/paint/c/{t}/0/0/0")).unlink()
    res = cli_runner().invoke(app, ["colorize", str(tmp_path / "lines"), "--keys", str(tmp_path / "keys"), "-o",
                                    str(tmp_path / "again"), "--model", str(tmp_path / "tiny.pt"),
                                    "--cache", str(tmp_path / "cache"), "--shots", "single", "--lines", "lines"])
    assert res.exit_code == 0, res.stderr
    assert "missing or damaged" in res.stderr
    for t in range(len(TIMING)):
        np.testing.assert_array_equal(read_rgb(tmp_path / "again" / f"{t:04d}.png"), frames[t], err_msg=f"frame {t}")


def test_a_drawing_held_through_a_lossy_codec_is_still_one_drawing(tmp_path) -> None:
    """A held drawing decoded from H.264 differs by a few levels here and there: still the same drawing. A
    stroke moved by one pixel, or a new one, is not (``compose.held.is_same_drawing``)."""
    from lacvid.compose.held import is_same_drawing
    from lacvid.pipeline.cache import ColorizeCache
    from lacvid.preprocess.frame import PreparedFrame
    from lacvid.shots.detect import Shot

    lines = np.full((40, 60), 255, np.uint8)
    lines[10:30, 20:22] = 40                                        # a stroke
    noisy = np.clip(lines.astype(int) + np.random.default_rng(0).integers(-12, 13, lines.shape), 0, 255)
    noisy = noisy.astype(np.uint8)
    moved = np.roll(lines, 1, axis=1)
    added = lines.copy()
    added[5, 40:50] = 40
    assert is_same_drawing(noisy, lines) and not is_same_drawing(moved, lines) and not is_same_drawing(added, lines)
    with ColorizeCache(tmp_path, "clip") as cache:
        prep = cache.prep("p", (40, 60), (16, 24))
        for t, frame in enumerate([lines, lines, noisy, moved, moved, added]):
            prep.put(t, PreparedFrame(frame, np.zeros((16, 24), np.uint8), np.zeros((16, 24), np.float16)))
        assert prep.repeats(Shot(0, 6)) == {1, 2, 4}
        assert prep.repeats(Shot(2, 5)) == {4}                      # a shot's first frame repeats nothing
