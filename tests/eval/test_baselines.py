"""The quality benchmark's baselines and metrics (benchmarks/quality.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from lacvid.compose.composite import multiply_lines
from lacvid.eval.baselines import copy_nearest_key, flow_warp_nearest_key, nearest_key
from lacvid.propagate.flow import distance_flow

_QUALITY = Path(__file__).parents[2] / "benchmarks" / "quality.py"
_spec = importlib.util.spec_from_file_location("lacvid_bench_quality", _QUALITY)
quality = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = quality  # dataclasses look their module up by name
_spec.loader.exec_module(quality)


def moving_disc(n: int = 5, h: int = 64, w: int = 96) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A red disc moving right over cream paper; (colour frames, line frames)."""
    colors, lines = [], []
    for t in range(n):
        ln = np.full((h, w), 255, np.uint8)
        c = np.empty((h, w, 3), np.uint8)
        c[:] = (240, 230, 200)
        cv2.circle(c, (30 + 3 * t, 32), 15, (200, 40, 40), -1)
        cv2.circle(ln, (30 + 3 * t, 32), 15, 0, 2, lineType=cv2.LINE_AA)
        colors.append(multiply_lines(c, ln))  # a finished cel: fills under the ink
        lines.append(ln)
    return colors, lines


def test_ssim_identity_and_sensitivity() -> None:
    img = np.random.default_rng(0).integers(0, 256, (40, 50, 3)).astype(np.uint8)
    assert quality.ssim(img, img) == pytest.approx(1.0)
    assert quality.ssim(img[..., 0], img[..., 0]) == pytest.approx(1.0)
    assert quality.ssim(img, 255 - img) < 0.0  # anti-correlated
    blurred = cv2.GaussianBlur(img, (5, 5), 1.5)
    assert 0.0 < quality.ssim(blurred, img) < 0.9


def test_psnr_and_flat_share() -> None:
    a = np.full((10, 10, 3), 100, np.uint8)
    b = a.copy()
    b[0, 0, 0] = 130  # one pixel 30 levels off
    assert quality.psnr(a, a) == float("inf")
    assert quality.psnr(a, b) == pytest.approx(10 * np.log10(255**2 / (900 / 300)))
    lines = np.full((10, 10), 255, np.uint8)
    assert quality.flat_share(b, a, lines) == pytest.approx(0.99)
    lines[0, 0] = 0  # the bad pixel is ink: not counted
    assert quality.flat_share(b, a, lines) == 1.0


def test_nearest_key() -> None:
    assert nearest_key(3, [0, 10]) == 0 and nearest_key(7, [0, 10]) == 10 and nearest_key(5, [10, 0]) == 0


def test_baselines_return_frames_of_the_right_size_and_follow_motion() -> None:
    colors, lines = moving_disc()
    keys = {0: colors[0], 4: colors[4]}
    vote = lambda lines, keys: quality.flow_region_vote(quality.Shot("disc", colors, lines, (0, 4)), keys)  # noqa: E731
    for method in (copy_nearest_key, flow_warp_nearest_key, vote):
        out = method(lines, keys)
        assert len(out) == 5
        assert all(o.shape == (64, 96, 3) and o.dtype == np.uint8 for o in out)
        assert all((o[ln == 0] == 0).all() for o, ln in zip(out, lines))  # lines composed on top
    truth1 = colors[1]
    copy1 = copy_nearest_key(lines, keys)[1]
    flow1 = flow_warp_nearest_key(lines, keys)[1]
    assert quality.psnr(flow1, truth1) > quality.psnr(copy1, truth1)
    flow = distance_flow(lines[1], lines[0])  # the disc moved +3 px in x from key 0 to frame 1
    assert np.median(flow[22:42, 25:40, 0]) == pytest.approx(-3.0, abs=1.0)


def test_registry_runs_every_method_on_a_generated_shot() -> None:
    colors, lines = moving_disc()
    shot = quality.Shot("disc", colors, lines, (0, 4))
    for name in ("copy", "flow", "dis", "flow+vote", "propagate"):
        _, score, _ = quality.run_method(quality.METHODS[name], shot)
        assert score.frames == 3 and 0 < score.ssim <= 1 and 0 <= score.flat <= 1 and 0 <= score.accuracy <= 1
    _, vote, _ = quality.run_method(quality.METHODS["flow+vote"], shot)
    assert vote.flat > 0.995 and vote.psnr > 30


def test_strided_shot_keeps_every_kth_frame_and_its_ends_as_keys() -> None:
    colors, lines = moving_disc()                            # 5 frames, the disc moving 3 px a frame
    shot = quality.Shot("disc", colors, lines, (0, 4), given=lines)
    fast = quality.strided(shot, 2)
    assert fast.name == "disc/2" and fast.keys == (0, 2)
    assert [id(f) for f in fast.color] == [id(colors[i]) for i in (0, 2, 4)]
    assert [id(f) for f in fast.given] == [id(lines[i]) for i in (0, 2, 4)]
    _, score, _ = quality.run_method(quality.METHODS["copy"], fast)
    assert score.frames == 1                                 # frame 2 of the original, the only one between keys


def test_scanned_and_h264_shots_change_the_drawing_not_the_truth_or_the_measured_regions() -> None:
    colors, lines = moving_disc(h=63, w=95)                  # an odd size, as clips 11-13 (460 x 259)
    shot = quality.Shot("disc", colors, lines, (0, 4), given=lines)
    for other in (quality.scanned(shot), quality.as_h264(shot)):
        assert other.color is shot.color and other.keys == shot.keys
        assert len(other.given) == 5 and all(g.shape == (63, 95, 3) for g in other.given)
        assert all(other.region_lines(i) is lines[i] for i in range(5))   # regions of the clean drawing
        drawn = [cv2.cvtColor(g, cv2.COLOR_RGB2GRAY) for g in other.given]
        assert all(not np.array_equal(d, ln) for d, ln in zip(drawn, lines))
        assert all(quality.psnr(np.dstack([d] * 3), np.dstack([ln] * 3)) > 20 for d, ln in zip(drawn, lines))
        assert all((a < 128).sum() > 50 for a in other.lines)            # the ring is still ink
    scan = quality.scanned(shot).given
    paper = np.stack([g[:8, :8].reshape(-1, 3) for g in scan])            # a corner of bare paper, every frame
    assert 215 < paper.mean() < 245 and paper.std() > 1                  # a cream tone with grain
    assert not np.array_equal(scan[0][:8, :8], scan[1][:8, :8])           # that differs from frame to frame
