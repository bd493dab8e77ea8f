"""lacvid.synth: exact, inked, deterministic synthetic cel animation, and ``lacvid synth``."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lacvid.errors import InputError
from lacvid.synth import SynthConfig, render_shot, write_dataset


def _uninked_boundaries(color: np.ndarray, lines: np.ndarray) -> int:
    """Neighbouring pure-paper pixels of different colour: a colour edge without ink."""
    c = color.astype(int)
    paper = lines == 255
    n = 0
    for a, b, pa, pb in ((c[1:], c[:-1], paper[1:], paper[:-1]), (c[:, 1:], c[:, :-1], paper[:, 1:], paper[:, :-1])):
        n += int(((np.abs(a - b).sum(-1) > 0) & pa & pb).sum())
    return n


@pytest.mark.parametrize("size", [(40, 40), (96, 128)])
def test_every_color_boundary_is_inked(size):
    h, w = size
    for shot in range(12):
        for color, lines in render_shot(11, shot, 4, h, w):
            assert color.shape == (h, w, 3) and color.dtype == np.uint8
            assert lines.shape == (h, w) and lines.dtype == np.uint8
            assert _uninked_boundaries(color, lines) == 0
            # The colour frame is the fills under the ink: solid ink is black in colour too.
            assert (color[lines == 0] == 0).all()


def test_lines_are_antialiased_ink_on_paper_and_colorful():
    color, lines = next(render_shot(0, 1, 1, 128, 128))
    assert (lines == 255).mean() > 0.6  # mostly paper
    assert (lines < 128).mean() > 0.01  # with ink
    assert ((lines > 0) & (lines < 255)).any()  # anti-aliased edges
    flat = color[lines == 255]
    assert len(np.unique(flat.reshape(-1, 3), axis=0)) >= 4  # several flat fills


def test_deterministic_per_seed_and_shot():
    a = [c for c, _ in render_shot(5, 2, 6, 64, 64)]
    b = [c for c, _ in render_shot(5, 2, 6, 64, 64)]
    other = [c for c, _ in render_shot(6, 2, 6, 64, 64)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, other))


def test_shots_move():
    moving = 0
    for shot in range(8):
        frames = [ln for _, ln in render_shot(3, shot, 8, 64, 64)]
        moving += any(not np.array_equal(frames[0], f) for f in frames[1:])
    assert moving >= 7


def test_bad_sizes_are_input_errors(tmp_path):
    with pytest.raises(InputError):
        next(render_shot(0, 0, 0, 64, 64))
    with pytest.raises(InputError):
        write_dataset(tmp_path / "x", SynthConfig(shots=0))


def test_synth_cli_writes_the_training_layout(cli, tmp_path):
    out = tmp_path / "ds"
    res = cli("synth", out, "--shots", "2", "--frames", "3", "--size", "32", "--seed", "4", "-q")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.strip() == str(out)
    for shot in ("shot0000", "shot0001"):
        names = sorted(p.name for p in (out / shot / "color").iterdir())
        assert names == ["0000.png", "0001.png", "0002.png"]
        assert sorted(p.name for p in (out / shot / "lines").iterdir()) == names
    img = cv2.imread(str(out / "shot0000" / "lines" / "0000.png"), cv2.IMREAD_UNCHANGED)
    assert img.shape == (32, 32)
    res = cli("synth", out, "--shots", "1", "--frames", "3", "--size", "32")
    assert res.exit_code == 2 and "already exists" in res.stderr


def test_a_dataset_larger_than_the_free_space_is_refused_before_drawing(cli, tmp_path):
    """Before: ``--shots 100000 --frames 100000`` started drawing hundreds of GB without a word."""
    from tests.support.checks import assert_one_error_line

    line = assert_one_error_line(cli("synth", tmp_path / "ds", "--shots", "100000", "--frames", "100000"))
    assert "would write about" in line and "GB free" in line and "--shots" in line
    assert not (tmp_path / "ds").exists()


def test_the_size_estimate_is_near_what_is_written(tmp_path):
    from lacvid.synth import estimated_bytes

    config = SynthConfig(shots=2, frames=4, height=48, width=64, style="mixed")
    out = write_dataset(tmp_path / "ds", config)
    written = sum(p.stat().st_size for p in out.rglob("*.png"))
    assert 0.5 * written <= estimated_bytes(config) <= 2.5 * written


def test_pencil_style_draws_the_same_scene_as_artists_export_it() -> None:
    clean = list(render_shot(5, 2, 4, 96, 128))
    drawn = list(render_shot(5, 2, 4, 96, 128, style="pencil"))
    again = list(render_shot(5, 2, 4, 96, 128, style="pencil"))
    for (c_truth, c_lines), (p_truth, p_drawing), (a_truth, a_drawing) in zip(clean, drawn, again):
        assert p_drawing.shape == (96, 128, 3) and p_truth.shape == (96, 128, 3)
        np.testing.assert_array_equal(p_drawing, a_drawing)           # deterministic
        np.testing.assert_array_equal(p_truth, a_truth)
        paper = c_lines == 255
        assert (p_drawing[paper] == 255).all()                          # ink only where the clean ink is
        assert (c_truth[paper] == p_truth[paper]).all()                 # the same fills under it


def test_pencil_shadow_lines_are_coloured_in_some_shots() -> None:
    colored = 0
    for index in range(6):
        _, drawing = next(render_shot(1, index, 1, 128, 128, style="pencil"))
        f = drawing.astype(int)
        colored += int(((f.max(2) - f.min(2)) > 60).sum() > 20)
    assert colored >= 2


def test_stress_style_makes_each_failure_on_purpose() -> None:
    """A globe whose outline runs off the frame, an occluder that crosses the whole frame between
    the keys, a prop that starts outside and ends inside; drawn in faint pencil, deterministic."""
    from lacvid.synth.stress import stress_actors

    h, w = 96, 128
    for index in range(4):
        globe, occluder, prop = stress_actors(np.random.default_rng(index), [(200, 40, 40), (40, 160, 80)], h, w)
        gx = globe.start[0]
        assert (gx < 0 or gx > w) and globe.radius > min(abs(gx), abs(gx - w))       # cut by the frame edge
        for x in (occluder.start[0], occluder.end[0]):                               # outside at both keys
            assert x + occluder.radius < 0 or x - occluder.radius > w
        assert (occluder.start[0] < 0) != (occluder.end[0] < 0)                      # across the whole frame
        assert not 0 <= prop.start[0] <= w and 0 <= prop.end[0] <= w                  # enters from outside
    first = list(render_shot(2, 1, 3, h, w, style="stress"))
    again = list(render_shot(2, 1, 3, h, w, style="stress"))
    for (truth, drawing), (truth2, drawing2) in zip(first, again):
        assert drawing.shape == (h, w, 3) and drawing.min() > 0                      # faint pencil, never black
        np.testing.assert_array_equal(drawing, drawing2)
        np.testing.assert_array_equal(truth, truth2)


def test_redrawn_style_redraws_many_small_shapes_in_every_drawing() -> None:
    """Every head gets a fringe of hair locks and every body folds; a lock's tip lands somewhere else in the next
    drawing by more than the lock is wide (a real inbetween's small shapes, not a rigid part moved); a plain prop
    is untouched; the shots are deterministic drawings as artists export them."""
    from lacvid.synth.redrawn import CLOSER, FOLDS, LOCKS, redrawn_details
    from lacvid.synth.rig import Actor, Part, Shape, apply

    def actor(parts: list[Part]) -> Actor:
        return Actor(parts=parts, start=(50.0, 50.0), end=(60.0, 50.0), radius=20.0, rot0=0.0, rot_speed=0.0,
                     scale_amp=0.0, scale_speed=0.0, squash=0.0, bob=0.0, bob_speed=0.0, on_twos=False, world=False)

    eyes = [Part(Shape("ellipse"), (250, 250, 250), offset=(s * 0.35, -0.1), size=0.2, pupil=0.45) for s in (-1, 1)]
    head = Part(Shape("ellipse"), (230, 190, 160), children=list(eyes))
    body = Part(Shape("ellipse", aspect=0.9), (40, 90, 200))
    limb = Part(Shape("ellipse", aspect=0.3), (40, 90, 200))
    character, prop = actor([limb, body, head]), actor([Part(Shape("ellipse"), (200, 200, 60))])
    redrawn_details(np.random.default_rng(3), [character, prop], [(180, 40, 30), (30, 30, 160)])
    locks = head.children[:-2]
    assert head.children[-2:] == eyes                       # the eyes drawn last, over the locks
    assert LOCKS[0] <= len(locks) <= LOCKS[1]
    assert FOLDS[0] <= len(body.children) <= FOLDS[1] and not limb.children
    assert character.radius == 20.0 * CLOSER and prop.radius == 20.0 and not prop.parts[0].children
    assert len({lock.fill for lock in locks}) == 2          # the hair colour and its shade, alternating
    moved_far = 0
    for lock in locks:
        width = 2 * lock.shape.aspect * lock.size           # in head radii
        tips = [apply(lock.matrix(np.eye(3), float(t)), np.array([[1.0, 0.0]]))[0] for t in range(6)]
        steps = [np.hypot(*(b - a)) for a, b in zip(tips, tips[1:])]
        moved_far += sum(step > width for step in steps)
    assert moved_far >= 0.5 * 5 * len(locks)                # most steps of most locks: farther than it is wide

    h, w = 96, 128
    first = list(render_shot(5, 1201, 4, h, w, style="redrawn"))
    again = list(render_shot(5, 1201, 4, h, w, style="redrawn"))
    assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(first, again))
    drawn = first[0][1]
    assert drawn.shape == (h, w, 3) and drawn.dtype == np.uint8  # a drawing as artists export it, as pencil
