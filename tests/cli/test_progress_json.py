"""--progress json and --log-file: machine-readable progress for render farms and GUIs."""

from __future__ import annotations

import io
import json

import cv2
import pytest

from lacvid.cli.progress_json import JsonLinesProgress
from lacvid.synth import render_shot

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_json_lines_carry_stage_shot_counts_rate_and_eta() -> None:
    stream = io.StringIO()
    progress = JsonLinesProgress(stream, interval=0.0)
    task = progress.task("colorizing", total=4)
    task.update(description="colorizing shot 2/3")
    task.advance(2)
    progress.log("warning: something")
    task.close()
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    first = events[0]
    assert first["event"] == "progress" and first["stage"] == "colorizing" and first["shot"] == 2
    assert first["done"] == 2 and first["total"] == 4 and first["unit"] == "frames"
    assert first["rate"] > 0 and first["eta_s"] >= 0 and "elapsed_s" in first
    assert events[1] == {"event": "log", "message": "warning: something"}
    assert events[-1]["finished"] is True


def test_colorize_with_json_progress_and_a_log_file(cli, tmp_path) -> None:
    from lacvid.models import ColorNetConfig, ModelConfig, TemporalNetConfig, build_net, save_checkpoint

    (tmp_path / "lines").mkdir()
    (tmp_path / "keys").mkdir()
    for i, (color, lines) in enumerate(render_shot(4, 0, 4, 48, 64)):
        cv2.imwrite(str(tmp_path / "lines" / f"{i:04d}.png"), lines)
        if i in (0, 3):
            cv2.imwrite(str(tmp_path / "keys" / f"{i:04d}.png"), cv2.cvtColor(color, cv2.COLOR_RGB2BGR))
    config = ModelConfig(color=ColorNetConfig(width=4, res_blocks=1), temporal=TemporalNetConfig(width=4))
    model = save_checkpoint(tmp_path / "m.pt", config=config, nets={"color": build_net("color", config)})
    res = cli("colorize", tmp_path / "lines", "--keys", tmp_path / "keys", "-o", tmp_path / "out", "--model", model,
              "--cache", tmp_path / "cache", "--progress", "json", "--log-file", tmp_path / "run.log")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.strip() == str(tmp_path / "out")                 # stdout: results only
    events = [json.loads(line) for line in res.stderr.splitlines()]    # stderr: nothing but JSON lines
    stages = {e["stage"] for e in events if e["event"] == "progress"}
    assert {"scanning", "colorizing"} <= stages
    done = [e for e in events if e["event"] == "progress" and e["stage"] == "colorizing" and e.get("finished")]
    assert done and done[-1]["done"] == 4 and done[-1]["shot"] == 1
    assert any(e["event"] == "log" and "4 frames in 1 shot(s)" in e["message"] for e in events)
    log = (tmp_path / "run.log").read_text()
    assert "end colorizing" in log and "4 frames in 1 shot(s)" in log
