"""colorize on drawings as artists export them: faint pencil, a blue shadow line, a character who
enters between the keys; end to end through the CLI, with a tiny random model."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from lacvid.models import ColorNetConfig, ModelConfig, TemporalNetConfig, build_net, save_checkpoint
from tests.support.drawings import colorize_drawings

H, W, N = 96, 160, 7
PAPER, RED, SHADOW, GREEN = (250, 250, 245), (200, 40, 40), (140, 30, 30), (40, 160, 80)
PENCIL, BLUE = (205, 205, 205), (70, 100, 230)


def frame(t: int) -> tuple[np.ndarray, np.ndarray]:
    """(drawing RGB, painted truth RGB): a faint-pencil ball with a shadow bounded by a blue line,
    moving right; a green box entering from the right that only the last key shows."""
    drawing = np.full((H, W, 3), 255, np.uint8)
    color = np.full((H, W, 3), PAPER, np.uint8)
    cx = 30 + 5 * t
    cv2.circle(color, (cx, 50), 20, RED, -1)
    color[50:71][np.hypot(*np.mgrid[50:71, 0:W][::-1] - np.array([cx, 50])[:, None, None]) < 20] = SHADOW
    cv2.circle(drawing, (cx, 50), 20, PENCIL, 1, cv2.LINE_AA)
    cv2.line(drawing, (cx - 19, 50), (cx + 19, 50), BLUE, 1, cv2.LINE_AA)
    x = W + 10 - 9 * t
    cv2.rectangle(color, (x, 30), (x + 30, 80), GREEN, -1)
    cv2.rectangle(drawing, (x, 30), (x + 30, 80), PENCIL, 1, cv2.LINE_AA)
    return drawing, color


@pytest.fixture(scope="module")
def painted(tmp_path_factory):
    frames = [frame(t) for t in range(N)]
    return frames, colorize_drawings(tmp_path_factory.mktemp("drawings"), frames)


def test_every_region_the_keys_paint_is_painted(painted) -> None:
    frames, out = painted
    for t in range(1, N - 1):
        cx = 30 + 5 * t
        assert np.abs(out[t][40, cx].astype(int) - RED).max() <= 8, t       # above the blue line: lit
        assert np.abs(out[t][60, cx].astype(int) - SHADOW).max() <= 8, t    # below it: the shadow
        assert np.abs(out[t][5, 5].astype(int) - PAPER).max() <= 8, t


def test_the_entering_character_is_painted_from_the_later_key(painted) -> None:
    frames, out = painted
    for t in (4, 5):
        x = W + 10 - 9 * t + 15
        assert np.abs(out[t][55, x].astype(int) - GREEN).max() <= 8, t


def test_the_artists_lines_stay_as_drawn(painted) -> None:
    frames, out = painted
    t = 3
    cx = 30 + 5 * t
    drawing = frames[t][0]
    on_blue = drawing[50, cx - 5:cx + 5]
    assert (np.abs(on_blue.astype(int) - BLUE).max(1) < 60).all()          # the test drew it there
    assert (np.abs(out[t][50, cx - 5:cx + 5].astype(int) - BLUE).max(1) < 60).all()  # still blue, as drawn
    pencil = (np.abs(drawing.astype(int) - PENCIL).max(2) < 10)
    assert pencil.any() and (out[t][pencil].max(1) < 250).all()             # faint pencil darkens the paint


def test_a_blank_page_and_a_wrong_key(tmp_path, caplog) -> None:
    """A frame with no ink at all is painted without a crash; a key painted over another drawing
    gets a warning naming it and its frame, with the measured mismatch. A Python caller gets that
    warning three ways: the ``lacvid`` logger, ``result.warnings``, and its progress callable (a
    plain function, options named as the CLI's flags)."""
    import logging

    from lacvid import ProgressEvent, colorize

    (tmp_path / "lines").mkdir()
    (tmp_path / "keys").mkdir()
    for t in range(N):
        drawing, color = frame(t)
        if t == 3:
            drawing[:] = 255  # a blank page
        cv2.imwrite(str(tmp_path / "lines" / f"{t:04d}.png"), cv2.cvtColor(drawing, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(tmp_path / "keys" / "0000.png"), cv2.cvtColor(frame(0)[1], cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(tmp_path / "keys" / "0006.png"), cv2.cvtColor(frame(0)[1], cv2.COLOR_RGB2BGR))  # wrong
    torch.manual_seed(0)
    config = ModelConfig(color=ColorNetConfig(width=4, res_blocks=1), temporal=TemporalNetConfig(width=4))
    model = save_checkpoint(tmp_path / "tiny.pt", config=config, nets={"color": build_net("color", config)})
    events: list[ProgressEvent] = []
    with caplog.at_level(logging.WARNING, logger="lacvid"):
        result = colorize(tmp_path / "lines", tmp_path / "keys", tmp_path / "out", progress=events.append,
                          model=model, cache=tmp_path / "cache", shots="single")
    assert result.frames == N
    warned = [m for m in result.warnings if "does not match the drawing of frame 6" in m]
    assert len(warned) == 1 and "0006.png" in warned[0] and "%" in warned[0]
    assert not [m for m in result.warnings if "frame 0:" in m]
    assert [r.getMessage() for r in caplog.records if r.name.startswith("lacvid")] == result.warnings
    assert [e.message for e in events if e.kind == "warning"] == result.warnings
    done = [e for e in events if e.kind == "progress" and e.stage.startswith("colorizing") and e.finished]
    assert done and done[-1].done == done[-1].total == N
    blank = cv2.imread(str(tmp_path / "out" / "0003.png"))
    assert blank is not None and blank.shape == (H, W, 3)


def test_layers_recompose_exactly_into_the_finished_frames(tmp_path) -> None:
    """--layers: paint (transparent on bare paper) and ink (the lines as drawn) stack back into
    every finished frame exactly, keys included."""
    from lacvid.cli import app
    from lacvid.compose.layers import Layers
    from lacvid.media.images import read_image, read_image_alpha
    from tests.support.cli import cli_runner

    def rgba(path):
        rgb, alpha = read_image_alpha(path)
        return np.dstack([rgb, alpha if alpha is not None else np.full(rgb.shape[:2], 255, np.uint8)])

    (tmp_path / "lines").mkdir()
    (tmp_path / "keys").mkdir()
    for t in range(4):
        drawing, color = frame(t)
        cv2.imwrite(str(tmp_path / "lines" / f"{t:04d}.png"), cv2.cvtColor(drawing, cv2.COLOR_RGB2BGR))
        if t in (0, 3):
            white = color.copy()
            white[(color == PAPER).all(-1)] = 255  # the keys leave the paper white: transparent paint there
            cv2.imwrite(str(tmp_path / "keys" / f"{t:04d}.png"), cv2.cvtColor(white, cv2.COLOR_RGB2BGR))
    config = ModelConfig(color=ColorNetConfig(width=4, res_blocks=1), temporal=TemporalNetConfig(width=4))
    model = save_checkpoint(tmp_path / "tiny.pt", config=config, nets={"color": build_net("color", config)})
    res = cli_runner().invoke(app, ["colorize", str(tmp_path / "lines"), "--keys", str(tmp_path / "keys"), "-o",
                                   str(tmp_path / "out"), "-q", "--model", str(model), "--cache",
                                   str(tmp_path / "cache"), "--shots", "single", "--layers", str(tmp_path / "layers")])
    assert res.exit_code == 0, res.stderr
    assert not list((tmp_path / "cache").glob(".propagate-spill-*"))  # the propagation's frames go with the shot
    for t in range(4):
        name = f"{t:04d}.png"
        paint = rgba(tmp_path / "layers" / "paint" / name)
        ink = rgba(tmp_path / "layers" / "ink" / name)
        assert paint.shape == ink.shape == (H, W, 4)
        np.testing.assert_array_equal(Layers(paint, ink).flatten(), read_image(tmp_path / "out" / name))
    middle = rgba(tmp_path / "layers" / "paint" / "0001.png")
    assert (middle[:15, :, 3] == 0).all() and (middle[40, 35, 3] == 255)  # paper transparent, paint opaque
    ink = rgba(tmp_path / "layers" / "ink" / "0001.png")
    assert (ink[5, 5, 3] == 0) and ink[..., 3].max() > 100                 # ink only on the lines
