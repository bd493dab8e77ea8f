"""Issue 22's exit-1 cases that were not bugs: a damaged done flag or ``zarr.json`` in the cache,
a full disk while the model is exported, an output folder that cannot be renamed. Each must be
recomputed, or be one line with exit 2.

Faults are made for real (bytes of a chunk flipped, metadata rewritten); the full disk and the
busy folder are injected at the OS boundary (``os.replace`` and friends raising the real errno).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.e2e.test_bad_inputs import _store, tiny  # noqa: F401 - the tiny job, colorized once
from tests.support.checks import assert_no_temporaries, assert_one_error_line
from tests.support.tiny_clip import colorize_args, folder_hashes

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x5A
    path.write_bytes(bytes(data))


def _edit_metadata(array: Path, **changes) -> None:
    meta = json.loads((array / "zarr.json").read_text())
    meta.update(changes)
    (array / "zarr.json").write_text(json.dumps(meta))


def _fresh_copy(tiny: dict, tmp_path: Path) -> dict:  # noqa: F811 - the fixture's value
    """The tiny job with a private copy of its warm cache, to damage."""
    cache = Path(shutil.copytree(tiny["cache"], tmp_path / "cache"))
    return dict(tiny, cache=cache)


DAMAGE = {
    # (a) the completeness marker of frame 0: before, KeyError 'frame 0 of lines_full is not complete'
    "done flag flipped": lambda s: _flip(next(s.glob("prep-*/done/c/0"))),
    "done flag deleted": lambda s: next(s.glob("prep-*/done/c/0")).unlink(),
    "drawing flag flipped": lambda s: _flip(next(s.glob("prep-*/drawn/done/c/0"))),
    # (b) metadata holding a wrong shape: before, ValueError: could not broadcast / BoundsCheckError
    "frame shape": lambda s: _edit_metadata(next(s.glob("prep-*/lines_full")), shape=[8, 40, 64]),
    "frame count": lambda s: _edit_metadata(next(s.glob("prep-*/lines_full")), shape=[5, 48, 64]),
    "dtype": lambda s: _edit_metadata(next(s.glob("prep-*/dist")), data_type="float32"),
    "finished layer shape": lambda s: _edit_metadata(next(s.glob("run-*/*/finished/paint")),
                                                     shape=[8, 48, 60, 4]),
}
# Frames whose data is lost are computed again with the warning; a damaged flag over intact data is
# restored from the frame's checksum, and a run stage's lost layout is just computed again.
RECOMPUTED = {"done flag deleted", "frame shape", "frame count", "dtype"}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_cache_metadata_and_flags_are_recomputed(cli, tiny, tmp_path, damage) -> None:  # noqa: F811
    clip = _fresh_copy(tiny, tmp_path)
    DAMAGE[damage](_store(clip))
    out = tmp_path / "out"
    result = cli(*colorize_args(clip, out))
    assert result.exit_code == 0, result.stderr
    if damage in RECOMPUTED:
        assert "missing or damaged" in result.stderr, result.stderr
    assert folder_hashes(out) == tiny["reference"]
    again = cli(*colorize_args(clip, tmp_path / "again"))  # repaired: no warning the second time
    assert again.exit_code == 0 and "damaged" not in again.stderr, again.stderr
    assert folder_hashes(tmp_path / "again") == tiny["reference"]


def test_disk_full_while_the_model_is_exported_says_how_much(cli, tiny, tmp_path, monkeypatch) -> None:  # noqa: F811
    """Before: OSError: [Errno 28] (exit 1). The disk fills as the exporter creates its first graph
    file in the fresh cache: injected at ``open``, the OS boundary the exporter writes through."""
    import builtins
    import errno

    real_open = builtins.open

    def full_disk(file, mode="r", *args, **kwargs):
        if "w" in str(mode) and str(file).endswith(".onnx"):
            raise OSError(errno.ENOSPC, "No space left on device", str(file))
        return real_open(file, mode, *args, **kwargs)

    onnx = [*colorize_args(dict(tiny, cache=tmp_path / "cache"), tmp_path / "out")[:-1], "onnx", "-q"]
    monkeypatch.setattr(builtins, "open", full_disk)
    line = assert_one_error_line(cli(*onnx))
    assert "no space left on /" in line and "needed about" in line and " MB" in line, line
    assert str(tmp_path / "cache" / "onnx") in line, line
    assert not (tmp_path / "out").exists()
    assert_no_temporaries(tmp_path / "cache" / "onnx")
    monkeypatch.undo()
    result = cli(*onnx)
    assert result.exit_code == 0, result.stderr


def _unmovable(monkeypatch, output: Path) -> None:
    """``output`` cannot be renamed, as a mount point cannot (rename(2) fails with EBUSY)."""
    import errno
    import os

    real_replace = os.replace

    def replace(src, dst, **kwargs):
        if Path(src) == output:
            raise OSError(errno.EBUSY, "Device or resource busy", str(src))
        return real_replace(src, dst, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


def test_overwrite_of_a_frame_folder_that_cannot_be_renamed_writes_into_it(cli, tiny, tmp_path, monkeypatch) -> None:  # noqa: F811
    """Before: OSError: [Errno 16] Device or resource busy (exit 1), and the temporary folder left behind."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "0003.png").write_bytes(b"an old frame")
    (out / "0099.png").write_bytes(b"an old frame this input does not have")
    _unmovable(monkeypatch, out)
    result = cli(*colorize_args(tiny, out, "-q", "--overwrite"))
    assert result.exit_code == 0, result.stderr
    assert folder_hashes(out) == tiny["reference"]
    assert_no_temporaries(tmp_path)


def test_overwrite_of_a_video_that_cannot_be_renamed_says_why(cli, make_video, tmp_path, monkeypatch) -> None:
    src = make_video(tmp_path / "in.mp4", n_frames=3, size=(32, 24), audio=False)
    out = tmp_path / "out.mp4"
    out.write_bytes(b"the old video")
    _unmovable(monkeypatch, out)
    line = assert_one_error_line(cli("encode", src, "-o", out, "--overwrite", "-q"))
    assert f"cannot replace {out}" in line and "mount point" in line, line
    assert out.read_bytes() == b"the old video"
    assert_no_temporaries(tmp_path)
