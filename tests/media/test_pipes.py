"""``-`` as ffmpeg takes it (issue 22): a video read from stdin, a video written to stdout in a
streamable container, and ``-`` refused in one line where a folder of frames (or a sheet) is meant.

Real pipes: lacvid runs as a subprocess whose stdin is a file and whose stdout is read back and
decoded with PyAV."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tests.conftest import read_index
from tests.support.checks import assert_one_error_line
from tests.support.tiny_clip import make_clip, read_rgb


def _run(*args: str | Path, stdin: Path | None = None, cache: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m lacvid ARGS`` with ``stdin`` piped from a file; stdout as bytes."""
    env = {**os.environ, "LACVID_THREADS": "1", **({"LACVID_CACHE": str(cache)} if cache else {})}
    with open(stdin if stdin is not None else os.devnull, "rb") as source:
        return subprocess.run([sys.executable, "-m", "lacvid", *map(str, args)], stdin=source, capture_output=True,
                              env=env, timeout=300)


def _decode(data: bytes) -> tuple[str, list[np.ndarray]]:
    with av.open(io.BytesIO(data)) as container:
        return container.format.name, [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def test_encode_reads_stdin_and_writes_a_streamable_video_to_stdout(make_video, tmp_path) -> None:
    clip = make_video(tmp_path / "in.mp4", n_frames=10, size=(64, 48), audio=True)
    for fmt, expected in ((None, "matroska"), ("nut", "nut")):
        result = _run("encode", "-", "-o", "-", "-q", *(["--format", fmt] if fmt else []), stdin=clip,
                      cache=tmp_path / "cache")
        assert result.returncode == 0, result.stderr.decode()
        name, frames = _decode(result.stdout)  # stdout is the video from its first byte: nothing else went there
        assert expected in name and len(frames) == 10, (name, len(frames))
        assert frames[0].shape == (48, 64, 3) and [read_index(f) for f in frames] == list(range(10))
    assert len(list((tmp_path / "cache" / "stdin").iterdir())) == 1  # the same bytes twice: one spool


def _lines_video(clip: dict, path: Path) -> Path:
    """The tiny clip's line art as a lossless video (keys name frames by index)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("ffv1", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "bgr0"
        for i, ink in enumerate(clip["lines"]):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(np.repeat(ink[..., None], 3, 2)), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 24)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def test_colorize_from_stdin_to_stdout(tmp_path) -> None:
    clip = make_clip(tmp_path / "tiny")
    video = _lines_video(clip, tmp_path / "lines.mkv")
    common = ["--keys", clip["keys_dir"], "--model", clip["model"], "--cache", clip["cache"], "--backend", "torch",
              "--codec", "ffv1"]
    result = _run("colorize", "-", "-o", "-", *common, stdin=video)
    assert result.returncode == 0, result.stderr.decode()
    assert b"reading the input video from stdin" in result.stderr
    _, piped = _decode(result.stdout)
    assert len(piped) == 8 and piped[0].shape == (48, 64, 3)
    reference = _run("colorize", video, "-o", tmp_path / "frames", *common[:-2], "-q")
    assert reference.returncode == 0, reference.stderr.decode()
    for i, frame in enumerate(piped):  # the same colours (ffv1 in yuv: within rounding)
        expected = read_rgb(tmp_path / "frames" / f"{i:06d}.png").astype(int)
        assert np.abs(frame.astype(int) - expected).mean() < 3, i
    again = _run("colorize", "-", "-o", "-", *common, stdin=video)  # the same bytes: the cache entry resumes
    assert again.returncode == 0 and b"scanning" not in again.stderr, again.stderr.decode()


@pytest.mark.parametrize("args, what", [
    (["frames", "IN", "-o", "-"], "-o '-' would be a folder of frames"),
    (["keys", "IN", "-o", "-"], "-o '-' would be a folder of frames"),
    (["colorize", "IN", "--keys", "-", "-o", "out.mkv"], "--keys '-' would be a folder of frames"),
    (["colorize", "IN", "--keys", "KEYS", "-o", "out.mkv", "--layers", "-"], "--layers '-' would be a folder"),
    (["preview", "IN", "--keys", "KEYS", "-o", "-"], "-o '-' would be a PNG contact sheet"),
    (["encode", "IN", "-o", "-", "--format", "mp4"], "--format mp4 cannot be written to a pipe"),
    (["encode", "IN", "-o", "out.mkv", "--format", "nonsense"], "--format nonsense is not a container"),
])
def test_dash_where_no_pipe_can_go_is_one_line(cli, make_video, tmp_path, monkeypatch, args, what) -> None:
    """Before: ``lacvid frames x.mp4 -o -`` created a folder named ``-``."""
    monkeypatch.chdir(tmp_path)
    clip = make_video(tmp_path / "in.mp4", n_frames=3, size=(32, 24), audio=False)
    (tmp_path / "keys").mkdir()
    args = [str(clip) if a == "IN" else str(tmp_path / "keys") if a == "KEYS" else a for a in args]
    line = assert_one_error_line(cli(*args, "-q"))
    assert what in line, line
    assert not (tmp_path / "-").exists() and not (tmp_path / "out.mkv").exists()


def test_empty_stdin_is_one_line(tmp_path) -> None:
    result = _run("frames", "-", "-o", tmp_path / "f", "-q", cache=tmp_path / "cache")
    assert result.returncode == 2, result.stderr.decode()
    assert result.stderr.decode().startswith("lacvid: error: input '-' reads a video from stdin, but stdin held no")
    assert not (tmp_path / "f").exists()


def test_a_reader_that_stops_early_is_one_line(make_video, tmp_path) -> None:
    """``lacvid encode ... -o - | head -c 1000``: the reader goes away mid-video."""
    clip = make_video(tmp_path / "in.mp4", n_frames=60, size=(320, 240), audio=False)
    lacvid = subprocess.Popen([sys.executable, "-m", "lacvid", "encode", str(clip), "-o", "-", "-q", "--codec", "ffv1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "LACVID_THREADS": "1"})
    lacvid.stdout.read(1000)
    lacvid.stdout.close()
    stderr = lacvid.stderr.read().decode()
    assert lacvid.wait(timeout=120) == 2, stderr
    assert stderr.count("lacvid: error:") == 1 and "broken pipe" in stderr and "Traceback" not in stderr, stderr


def test_cache_ls_and_clean_know_the_videos_read_from_stdin(cli, make_video, tmp_path) -> None:
    clip = make_video(tmp_path / "in.mp4", n_frames=3, size=(32, 24), audio=False)
    result = _run("frames", "-", "-o", tmp_path / "f", "-q", stdin=clip, cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr.decode()
    spool = next((tmp_path / "cache" / "stdin").iterdir())
    listed = cli("cache", "ls", "--cache", tmp_path / "cache")
    assert f"stdin/{spool.name}" in listed.stdout, listed.stdout
    cleaned = cli("cache", "clean", "--cache", tmp_path / "cache", f"stdin/{spool.name}", "-q")
    assert cleaned.exit_code == 0 and not spool.exists(), cleaned.stderr
