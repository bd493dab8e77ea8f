"""``lacvid lines / shots / keys`` end to end on small generated clips; bad input is exit 2."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from lacvid import media
from tests.support.cuts import ShotSpec, make_clip


@pytest.fixture(scope="module")
def three_shots(tmp_path_factory) -> Path:
    clip = make_clip([ShotSpec(10, "slow", seed=1), ShotSpec(10, "twos", seed=2), ShotSpec(10, "enter", seed=3)],
                     96, 160, lines_only=True)
    path = tmp_path_factory.mktemp("clip") / "three.mp4"
    with media.VideoWriter(path, fps=Fraction(24), width=160, height=96, crf=12, preset="ultrafast") as w:
        for f in clip.frames:
            w.write(f)
    return path


def test_shots_json(cli, three_shots: Path) -> None:
    r = cli("shots", three_shots, "--json", "-q")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout) == {"shots": [{"start": 0, "stop": 10}, {"start": 10, "stop": 20},
                                              {"start": 20, "stop": 30}], "fps": 24.0}


def test_shots_table(cli, three_shots: Path) -> None:
    r = cli("shots", three_shots, "-q")
    assert r.exit_code == 0
    rows = r.stdout.strip().splitlines()
    assert rows[0].split()[:4] == ["shot", "start", "stop", "frames"] and len(rows) == 4
    assert rows[2].split()[:3] == ["2", "10", "20"]


def test_lines_to_frame_dir(cli, three_shots: Path, tmp_path: Path) -> None:
    out = tmp_path / "lines"
    r = cli("lines", three_shots, "-o", out, "-q")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == str(out)
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 30 and names[0] == "000000.png"
    img = media.read_image(out / names[0])
    assert set(np.unique(img[..., 0])) <= set(range(256)) and (img[..., 0] < 128).mean() < 0.2


def test_keys(cli, three_shots: Path, tmp_path: Path) -> None:
    out = tmp_path / "keys"
    r = cli("keys", three_shots, "-o", out, "--per-shot", "1")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == str(out)
    assert sorted(p.name for p in out.iterdir()) == ["000000.png", "000010.png", "000020.png"]
    assert media.read_image(out / "000010.png").shape == (96, 160, 3)  # full resolution
    assert "keys" in r.stderr


def _one_error(r, path: object) -> None:
    assert r.exit_code == 2, (r.exit_code, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lacvid: error:") and str(path) in lines[0], r.stderr


@pytest.mark.parametrize("command", ["lines", "shots", "keys"])
def test_missing_input(cli, command: str, tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    args = [command, missing] + (["-o", tmp_path / "out"] if command != "shots" else [])
    _one_error(cli(*args), missing)


@pytest.mark.parametrize("command", ["lines", "shots", "keys"])
def test_not_a_video(cli, command: str, tmp_path: Path) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    args = [command, bad, "-q"] + (["-o", tmp_path / "out"] if command != "shots" else [])
    _one_error(cli(*args), bad)


def test_existing_output_is_not_replaced(cli, three_shots: Path, tmp_path: Path) -> None:
    out = tmp_path / "keys"
    out.mkdir()
    _one_error(cli("keys", three_shots, "-o", out, "-q"), out)
    _one_error(cli("lines", three_shots, "-o", out, "-q"), out)


def test_bad_mode(cli, three_shots: Path, tmp_path: Path) -> None:
    r = cli("lines", three_shots, "-o", tmp_path / "x", "--mode", "paint")
    assert r.exit_code == 2 and r.stderr.startswith("lacvid: error:")
