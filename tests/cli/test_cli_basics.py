"""The CLI contract on the plumbing commands: stdout carries only the result path, every bad
input is exit 2 with one ``lacvid: error:`` line and no traceback, and nothing is overwritten."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from lacvid import __version__, media
from lacvid.util.outputs import TMP_MARKER
from tests.support.checks import assert_one_error_line

NTSC = Fraction(24000, 1001)


def _audio_codecs(path: Path) -> list[str]:
    with av.open(str(path)) as c:
        return [s.codec_context.name for s in c.streams.audio]


def test_version(cli) -> None:
    result = cli("--version")
    lines = result.stdout.strip().splitlines()
    assert result.exit_code == 0 and lines[0] == f"lacvid {__version__}"
    names = [line.split()[0] for line in lines]
    assert names == ["lacvid", "python", "torch", "onnxruntime", "ffmpeg"]  # what a bug report needs


def test_round_trip_odd_size_ntsc_with_audio(cli, make_video, frame_index, tmp_path: Path) -> None:
    src = make_video(tmp_path / "in.mp4", n_frames=10, size=(33, 17), fps=NTSC, audio=True)
    frames_dir = tmp_path / "frames"
    result = cli("frames", src, "-o", frames_dir)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{frames_dir}\n"
    assert sorted(p.name for p in frames_dir.iterdir()) == [f"{i:06d}.png" for i in range(10)]

    out = tmp_path / "out.mp4"
    result = cli("encode", frames_dir, "-o", out, "--fps", "24000/1001", "--audio-from", src)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{out}\n"
    a, b = media.probe(src), media.probe(out)
    assert (b.frame_count, b.fps, b.width, b.height, b.audio_streams) == (10, NTSC, 33, 17, 1)
    assert b.fps == a.fps and b.time_base == a.time_base
    assert _audio_codecs(out) == _audio_codecs(src) == ["aac"]
    assert [frame_index(f.image) for f in media.read_frames(out)] == list(range(10))
    assert not [p for p in tmp_path.iterdir() if TMP_MARKER in p.name]


def test_encode_rates(cli, make_frames_dir, tmp_path: Path) -> None:
    folder = make_frames_dir(tmp_path / "f", n_frames=3, size=(32, 24))
    assert cli("encode", folder, "-o", tmp_path / "a.mp4", "-q").exit_code == 0
    assert media.probe(tmp_path / "a.mp4").fps == 24  # frame folders default to 24 fps
    assert cli("encode", folder, "-o", tmp_path / "b.mkv", "--fps", "23.976", "-q").exit_code == 0
    assert media.probe(tmp_path / "b.mkv").fps == NTSC


def test_quiet_leaves_stderr_empty(cli, make_video, tmp_path: Path) -> None:
    src = make_video(tmp_path / "in.mp4", n_frames=3, size=(32, 24), audio=False)
    result = cli("frames", src, "-o", tmp_path / "f", "-q")
    assert result.exit_code == 0 and result.stderr == "" and result.stdout == f"{tmp_path / 'f'}\n"


@pytest.fixture
def clip(make_video, tmp_path: Path) -> Path:
    return make_video(tmp_path / "clip.mp4", n_frames=6, size=(32, 24))


def _missing(tmp: Path, clip: Path) -> list:
    return ["frames", tmp / "nope.mp4", "-o", tmp / "out"]


def _empty_dir(tmp: Path, clip: Path) -> list:
    (tmp / "empty").mkdir()
    return ["encode", tmp / "empty", "-o", tmp / "out.mp4"]


def _text_as_mp4(tmp: Path, clip: Path) -> list:
    (tmp / "notes.mp4").write_text("not a video at all\n")
    return ["frames", tmp / "notes.mp4", "-o", tmp / "out"]


def _truncated(tmp: Path, clip: Path) -> list:
    data = clip.read_bytes()
    (tmp / "cut.mp4").write_bytes(data[: len(data) * 2 // 3])
    return ["frames", tmp / "cut.mp4", "-o", tmp / "out"]


def _mixed_sizes(tmp: Path, clip: Path) -> list:
    folder = tmp / "mixed"
    folder.mkdir()
    for i, (w, h) in enumerate([(16, 8), (16, 8), (20, 8), (16, 8)]):
        cv2.imwrite(str(folder / f"{i}.png"), np.zeros((h, w, 3), np.uint8))
    return ["encode", folder, "-o", tmp / "out.mp4", "-q"]  # quiet: the error comes mid-stream


def _output_under_a_file(tmp: Path, clip: Path) -> list:
    (tmp / "afile").write_text("x")
    return ["frames", clip, "-o", tmp / "afile" / "out"]


def _bad_fps(tmp: Path, clip: Path) -> list:
    return ["encode", clip, "-o", tmp / "out.mp4", "--fps", "fast"]


def _audio_from_missing(tmp: Path, clip: Path) -> list:
    return ["encode", clip, "-o", tmp / "out.mp4", "--audio-from", tmp / "nope.wav"]


def _audio_from_silent(tmp: Path, clip: Path) -> list:
    folder = tmp / "f"
    folder.mkdir()
    cv2.imwrite(str(folder / "0.png"), np.zeros((8, 8, 3), np.uint8))
    return ["encode", clip, "-o", tmp / "out.mp4", "--audio-from", folder / "0.png"]


def _unknown_codec(tmp: Path, clip: Path) -> list:
    return ["encode", clip, "-o", tmp / "out.mp4", "--codec", "nosuchcodec"]


@pytest.mark.parametrize("case, needle", [
    (_missing, "does not exist"), (_empty_dir, "holds no images"), (_text_as_mp4, "notes.mp4"),
    (_truncated, "cut.mp4"), (_mixed_sizes, "2.png is 20x8"), (_output_under_a_file, "afile"),
    (_bad_fps, "fast"), (_audio_from_missing, "nope.wav"), (_audio_from_silent, "no audio"),
    (_unknown_codec, "nosuchcodec"),
], ids=lambda v: getattr(v, "__name__", "")[1:] or None)
def test_bad_input_is_one_line_exit_2(cli, clip: Path, tmp_path: Path, case, needle: str) -> None:
    args = case(tmp_path, clip)
    line = assert_one_error_line(cli(*args))
    assert needle in line
    out = Path(args[args.index("-o") + 1])
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if TMP_MARKER in p.name] if out.parent.is_dir() else True


@pytest.mark.parametrize("command", ["frames", "encode"])
def test_existing_output_is_untouched(cli, clip: Path, tmp_path: Path, command: str) -> None:
    out = tmp_path / ("out" if command == "frames" else "out.mp4")
    if command == "frames":
        out.mkdir()
        (out / "000000.png").write_bytes(b"an old frame")
    else:
        out.write_text("precious")
    stamp = out.stat().st_mtime_ns
    line = assert_one_error_line(cli(command, clip, "-o", out))
    assert "already exists" in line and "--overwrite" in line
    assert out.stat().st_mtime_ns == stamp
    result = cli(command, clip, "-o", out, "--overwrite", "-q")
    assert result.exit_code == 0, result.stderr
    assert media.probe(out).frame_count == 6


def test_overwrite_never_replaces_a_folder_holding_the_users_files(cli, clip: Path, tmp_path: Path) -> None:
    """A folder holding anything but frame files is the user's: refused with or without --overwrite,
    and the error does not suggest --overwrite."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    for extra in ([], ["--overwrite"]):
        line = assert_one_error_line(cli("frames", clip, "-o", out, *extra))
        assert "keep.txt" in line and "--overwrite" not in line
    assert (out / "keep.txt").read_text() == "precious"


def test_unwritable_output_folder(cli, clip: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):  # root (CAP_DAC_OVERRIDE): chmod cannot deny it anything
            pytest.skip("this user can write into any folder; the path-under-a-file case covers it")
        line = assert_one_error_line(cli("frames", clip, "-o", locked / "out"))
        assert "permission denied" in line
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)
