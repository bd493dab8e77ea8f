"""A run reads each painted key three times (checked when found, compared with its drawing, when its shot is
coloured): decoded once while the file is unchanged, decoded again once it is saved again."""

from __future__ import annotations

import os

import numpy as np

import lacvid.pipeline.keys as keys_module
from lacvid.media.images import write_image
from lacvid.pipeline.keys import KeyFrame


def test_a_key_is_decoded_once_until_it_is_saved_again(tmp_path, monkeypatch) -> None:
    decoded: list[str] = []
    original = keys_module.read_image_alpha

    def counted(path):
        decoded.append(path.name)
        return original(path)
    monkeypatch.setattr(keys_module, "read_image_alpha", counted)
    monkeypatch.setattr(keys_module, "_DECODED", keys_module._DecodedKeys(1 << 20))
    path = tmp_path / "0003.png"
    first = np.full((12, 16, 3), 40, np.uint8)
    write_image(path, first)
    key = KeyFrame(3, path)
    a, b = key.load((12, 16)), key.load((12, 16))
    np.testing.assert_array_equal(a, first)
    assert decoded == ["0003.png"]
    a[0, 0] = 0  # each read is the caller's own: painting into one changes no later read
    np.testing.assert_array_equal(b, first)
    np.testing.assert_array_equal(key.load((12, 16)), first)
    second = np.full((12, 16, 3), 200, np.uint8)
    write_image(path, second)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # saved again, even within a tick
    np.testing.assert_array_equal(key.load((12, 16)), second)
    assert decoded == ["0003.png", "0003.png"]


def test_the_decoded_keys_stay_within_their_budget(tmp_path, monkeypatch) -> None:
    memo = keys_module._DecodedKeys(2 * 12 * 16 * 3)  # two keys' bytes
    for i in range(4):
        write_image(tmp_path / f"{i}.png", np.full((12, 16, 3), 10 * i, np.uint8))
        memo.read(tmp_path / f"{i}.png")
    assert len(memo._images) == 2
    assert [k[0] for k in memo._images] == [str((tmp_path / f"{i}.png").resolve()) for i in (2, 3)]
