"""``colorize --frames A-B`` and ``--shot N``: recolour part of the input after repainting a key,
every other frame reused from the cache byte for byte."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from tests.support.checks import assert_one_error_line
from tests.support.tiny_clip import colorize_args, folder_hashes, make_shots_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_shots_clip(tmp_path_factory.mktemp("shots"))


def _args(clip, out, *extra):
    return colorize_args(clip, out, "-q", "--shots", str(clip["shots_file"]), *extra)


def _repaint(key_path) -> None:
    """The animator fixes a key: its red channel pushed up everywhere it is painted."""
    image = cv2.imread(str(key_path))
    image[..., 2] = np.clip(image[..., 2].astype(int) + 60, 0, 255).astype(np.uint8)
    assert cv2.imwrite(str(key_path), image)


def test_repainted_key_recolours_only_its_shot_and_the_rest_is_byte_identical(cli, clip, tmp_path) -> None:
    job = dict(clip, keys_dir=tmp_path / "keys")
    shutil.copytree(clip["keys_dir"], job["keys_dir"])
    out = tmp_path / "render"
    assert cli(*_args(job, out)).exit_code == 0
    before = folder_hashes(out)

    second = clip["shots"][1]
    _repaint(job["keys_dir"] / f"{second['start']:04d}.png")
    result = cli(*_args(job, out, "--shot", "2", "--overwrite"))
    assert result.exit_code == 0, result.stderr
    after = folder_hashes(out)
    assert after.keys() == before.keys()
    in_shot = {f"{t:04d}.png" for t in range(second["start"], second["stop"])}
    changed = {name for name in before if before[name] != after[name]}
    assert changed and changed <= in_shot                        # only shot 2 changed...
    fresh = tmp_path / "fresh"                                   # ...and exactly as a whole run would paint it
    assert cli(*_args(job, fresh)).exit_code == 0
    assert folder_hashes(fresh) == after


def test_frames_range_writes_only_those_frames(cli, clip, tmp_path) -> None:
    out = tmp_path / "part"
    result = cli(*_args(clip, out, "--frames", "3-7"))
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [f"{t:04d}.png" for t in range(3, 8)]
    whole = tmp_path / "whole"
    assert cli(*_args(clip, whole)).exit_code == 0
    assert all(folder_hashes(whole)[name] == digest for name, digest in folder_hashes(out).items())


def test_video_from_part_of_a_run_takes_the_rest_from_the_cache(cli, clip, tmp_path) -> None:
    from lacvid import media

    job = dict(clip, keys_dir=tmp_path / "keys")
    shutil.copytree(clip["keys_dir"], job["keys_dir"])
    video = tmp_path / "out.mkv"
    assert cli(*_args(job, video, "--codec", "ffv1")).exit_code == 0
    first = [f.image for f in media.read_frames(video)]
    third = clip["shots"][2]
    _repaint(job["keys_dir"] / f"{third['stop'] - 1:04d}.png")
    missing = assert_one_error_line(cli(*_args(job, video, "--codec", "ffv1", "--overwrite", "--shot", "2")))
    assert "shot 3" in missing and "--shot 3" in missing
    result = cli(*_args(job, video, "--codec", "ffv1", "--overwrite", "--shot", "3"))
    assert result.exit_code == 0, result.stderr
    again = [f.image for f in media.read_frames(video)]
    assert len(again) == len(first) == len(clip["lines"])
    same = [np.array_equal(a, b) for a, b in zip(first, again)]
    assert all(same[:third["start"]]) and not all(same[third["start"]:])  # lossless: shots 1-2 bit-identical


@pytest.mark.parametrize("flags, words", [
    (["--shot", "9"], "--shot 9"),
    (["--frames", "5-x"], "--frames"),
    (["--frames", "7-3"], "ends before it starts"),
    (["--frames", "500"], "starts after the last frame"),
])
def test_bad_selection_is_one_line(cli, clip, tmp_path, flags, words) -> None:
    line = assert_one_error_line(cli(*_args(clip, tmp_path / "out", *flags)))
    assert words in line


def test_partial_folder_refuses_to_replace_frames_without_overwrite(cli, clip, tmp_path) -> None:
    out = tmp_path / "render"
    assert cli(*_args(clip, out, "--shot", "1")).exit_code == 0
    before = folder_hashes(out)
    line = assert_one_error_line(cli(*_args(clip, out, "--shot", "1")))
    assert "--overwrite" in line and str(out) in line
    assert folder_hashes(out) == before
    assert cli(*_args(clip, out, "--shot", "2")).exit_code == 0     # new frames beside the old: no overwrite needed
    assert len(folder_hashes(out)) == clip["shots"][1]["stop"]
