"""``lacvid preview`` (a contact sheet per shot, only the sampled frames coloured) and ``lacvid.toml``
(defaults for every option, flags win, typos refused)."""

from __future__ import annotations

import cv2
import pytest

from lacvid.pipeline.preview import sample_frames
from lacvid.shots.detect import Shot
from tests.support.checks import assert_one_error_line
from tests.support.tiny_clip import colorize_args, folder_hashes, make_shots_clip, preview_args


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_shots_clip(tmp_path_factory.mktemp("preview"))


def test_sample_leaves_keys_out_and_spreads_over_the_shot() -> None:
    assert sample_frames(Shot(10, 30), [10, 29], 4) == [11, 17, 22, 28]
    assert sample_frames(Shot(0, 3), [0, 2], 4) == [1]


def test_preview_sheet_then_render_reuses_the_previewed_frames(cli, clip, tmp_path) -> None:
    sheet = tmp_path / "sheet.png"
    result = cli(*preview_args(clip, sheet, "--per-shot", "2"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(sheet)   # after the table of doubt per shot
    image = cv2.imread(str(sheet))
    assert image is not None and image.shape[0] > 3 * 4 * 40   # 3 shots, 4 rows each plus a heading
    render = tmp_path / "render"
    assert cli(*colorize_args(clip, render, "-q", "--shots", str(clip["shots_file"]))).exit_code == 0
    fresh = dict(clip, cache=tmp_path / "fresh-cache")
    reference = tmp_path / "reference"
    assert cli(*colorize_args(fresh, reference, "-q", "--shots", str(clip["shots_file"]))).exit_code == 0
    assert folder_hashes(render) == folder_hashes(reference)   # frames previewed first are the frames rendered
    again = assert_one_error_line(cli(*preview_args(clip, sheet)))
    assert "--overwrite" in again and str(sheet) in again


def test_config_file_sets_defaults_and_flags_win(cli, clip, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LACVID_CONFIG", raising=False)
    (tmp_path / "lacvid.toml").write_text('per_shot = 1\n[colorize]\ncrf = 30\ncodec = "libx265"\n')
    shown = cli("config")
    assert shown.exit_code == 0, shown.stderr
    assert str(tmp_path / "lacvid.toml") in shown.stdout
    crf = next(line for line in shown.stdout.splitlines() if line.strip().startswith("--crf"))
    assert crf.split()[1:] == ["30", "file"]
    preview = cli("config", "preview")
    assert next(line for line in preview.stdout.splitlines() if "--per-shot" in line).split()[1:] == ["1", "file"]
    video = tmp_path / "out.mkv"   # the file's codec, then the flag over it
    line = assert_one_error_line(cli(*colorize_args(clip, video, "-q", "--codec", "nonesuch")))
    assert "nonesuch" in line
    import typer

    from lacvid.cli import app
    from lacvid.cli.app import config_defaults

    defaults = config_defaults(typer.main.get_command(app))
    assert defaults["colorize"]["codec"] == "libx265" and defaults["preview"]["per_shot"] == 1
    assert "per_shot" not in defaults["colorize"]   # shared keys reach only commands that take them


@pytest.mark.parametrize("key", ["progress", "progress_mode"])
def test_a_config_key_is_the_flag_without_dashes(cli, tmp_path, monkeypatch, key) -> None:
    """Before: ``progress = "json"`` (the flag is --progress) was refused; only the parameter's name
    ``progress_mode`` worked. Both work now, and reach the command as its default."""
    import typer

    from lacvid.cli import app
    from lacvid.cli.app import config_defaults

    path = tmp_path / "lacvid.toml"
    path.write_text(f'{key} = "json"\n')
    monkeypatch.setenv("LACVID_CONFIG", str(path))
    defaults = config_defaults(typer.main.get_command(app))
    assert defaults["colorize"]["progress_mode"] == "json" and defaults["train"]["progress_mode"] == "json"
    shown = cli("config", "colorize")
    assert next(line for line in shown.stdout.splitlines() if "--progress" in line).split()[1:] == ["json", "file"]


@pytest.mark.parametrize("text, words", [
    ("devic = 'cpu'\n", "'devic'"),
    ("[colorise]\ncrf = 3\n", "[colorise]"),
    ("[colorize]\nsteps = 3\n", "'steps'"),
    ("crf = \n", "not valid TOML"),
])
def test_bad_config_file_is_one_line(cli, tmp_path, monkeypatch, text, words) -> None:
    path = tmp_path / "studio.toml"
    path.write_text(text)
    monkeypatch.setenv("LACVID_CONFIG", str(path))
    line = assert_one_error_line(cli("shots", str(tmp_path)))
    assert words in line and str(path) in line


def test_config_file_value_of_the_wrong_type_is_one_line(cli, tmp_path, monkeypatch) -> None:
    path = tmp_path / "lacvid.toml"
    path.write_text('[colorize]\ncrf = "high"\n')
    monkeypatch.setenv("LACVID_CONFIG", str(path))
    line = assert_one_error_line(cli("colorize", str(tmp_path), "--keys", str(tmp_path), "-o", str(tmp_path / "o")))
    assert "crf" in line
