"""The README's Python API snippet runs as written (on a generated clip, with the bundled model)."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import pytest

from lacvid.models.runtime import default_model_path
from lacvid.synth import render_shot

README = Path(__file__).resolve().parents[2] / "README.md"


def snippet() -> str:
    section = README.read_text().split("## Python API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_python_api_snippet(tmp_path, monkeypatch, capsys, one_torch_thread) -> None:
    if not default_model_path().is_file():
        pytest.skip("the bundled model is not in this checkout")
    (tmp_path / "lines").mkdir()
    (tmp_path / "keys").mkdir()
    frames = list(render_shot(2, 0, 5, 48, 64))
    for i, (color, lines) in enumerate(frames):
        cv2.imwrite(str(tmp_path / "lines" / f"{i:04d}.png"), lines)
        if i in (0, 4):
            cv2.imwrite(str(tmp_path / "keys" / f"{i:04d}.png"), cv2.cvtColor(color, cv2.COLOR_RGB2BGR))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LACVID_CACHE", str(tmp_path / "cache"))
    exec(compile(snippet(), "README.md", "exec"), {})
    assert "5 frames in 1 shot(s) -> painted" in capsys.readouterr().out
    assert len(list((tmp_path / "painted").glob("*.png"))) == 5
