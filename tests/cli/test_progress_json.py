"""--progress json and --log-file: machine-readable progress for render farms and GUIs.

Under --progress json stderr holds nothing but JSON lines: progress, messages, warnings, and one
closing event: the result on success, the error (with the exit code) on failure.
"""

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


def _clip(root, height: int = 48, width: int = 64):
    """4 line-art frames, keys at 0 and 3, a tiny random model."""
    from lacvid.models import ColorNetConfig, ModelConfig, TemporalNetConfig, build_net, save_checkpoint

    (root / "lines").mkdir()
    (root / "keys").mkdir()
    for i, (color, lines) in enumerate(render_shot(4, 0, 4, height, width)):
        cv2.imwrite(str(root / "lines" / f"{i:04d}.png"), lines)
        if i in (0, 3):
            cv2.imwrite(str(root / "keys" / f"{i:04d}.png"), cv2.cvtColor(color, cv2.COLOR_RGB2BGR))
    config = ModelConfig(color=ColorNetConfig(width=4, res_blocks=1), temporal=TemporalNetConfig(width=4))
    return save_checkpoint(root / "m.pt", config=config, nets={"color": build_net("color", config)})


def _events(stderr: str) -> list[dict]:
    """Every stderr line as JSON (a line that is not fails the test), the closing event checked."""
    events = [json.loads(line) for line in stderr.splitlines()]
    closing = [e for e in events if e["event"] in ("result", "error")]
    assert len(closing) == 1 and closing[0] is events[-1], stderr
    return events


def test_colorize_with_json_progress_and_a_log_file(cli, tmp_path) -> None:
    model = _clip(tmp_path)
    res = cli("colorize", tmp_path / "lines", "--keys", tmp_path / "keys", "-o", tmp_path / "out", "--model", model,
              "--cache", tmp_path / "cache", "--progress", "json", "--log-file", tmp_path / "run.log")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.strip() == str(tmp_path / "out")                 # stdout: results only
    events = _events(res.stderr)                                       # stderr: nothing but JSON lines
    stages = {e["stage"] for e in events if e["event"] == "progress"}
    assert {"scanning", "colorizing"} <= stages
    done = [e for e in events if e["event"] == "progress" and e["stage"] == "colorizing" and e.get("finished")]
    assert done and done[-1]["done"] == 4 and done[-1]["shot"] == 1
    assert any(e["event"] == "log" and "4 frames in 1 shot(s)" in e["message"] for e in events)
    log = (tmp_path / "run.log").read_text()
    assert "end colorizing" in log and "4 frames in 1 shot(s)" in log
    result = events[-1]
    assert result["event"] == "result" and result["output"] == str(tmp_path / "out")
    assert (result["frames"], result["shots"], result["warnings"]) == (4, 1, [])
    assert 0 < result["seconds"] < 600


def test_json_warnings_are_events_and_the_result_lists_them(cli, tmp_path) -> None:
    """An odd-sized input written to MP4 warns (4:4:4); under JSON that is a warning event, and the
    closing result lists it. --quiet does not silence the machine's events."""
    model = _clip(tmp_path, 47, 63)
    video = tmp_path / "out.mp4"
    res = cli("colorize", tmp_path / "lines", "--keys", tmp_path / "keys", "-o", video, "--model", model,
              "--cache", tmp_path / "cache", "--backend", "torch", "--progress", "json", "--quiet",
              "--log-file", tmp_path / "run.log")
    assert res.exit_code == 0, res.stderr
    events = _events(res.stderr)
    warnings = [e["message"] for e in events if e["event"] == "warning"]
    assert len(warnings) == 1 and "(odd)" in warnings[0] and str(video) in warnings[0]
    assert not [e for e in events if e["event"] == "log" and e["message"].startswith("warning")]
    assert events[-1]["warnings"] == warnings and events[-1]["output"] == str(video)
    assert f"warning: {warnings[0]}" in (tmp_path / "run.log").read_text()


@pytest.mark.parametrize("args, words", [
    (["--keys", "k", "-o", "out"], "does not exist"),             # bad input: InputError
    (["--keys", "k", "-o", "out", "--refs", "0"], "--refs"),     # a usage error, before the command runs
])
def test_json_errors_are_one_event_with_the_exit_code(cli, tmp_path, args, words) -> None:
    res = cli("colorize", tmp_path / "missing.mp4", *[str(tmp_path / a) if a in ("k", "out") else a for a in args],
              "--progress", "json")
    assert res.exit_code == 2 and res.stdout == ""
    (event,) = _events(res.stderr)
    assert event["event"] == "error" and event["exit_code"] == 2 and words in event["message"]
    assert "\n" not in event["message"] and "Traceback" not in res.stderr


def test_progress_json_in_lacvid_toml_makes_errors_json(cli, tmp_path, monkeypatch) -> None:
    """``progress = "json"`` (the README's spelling) in lacvid.toml is --progress json: its events and
    its error event too; a flag on the command line still wins."""
    config = tmp_path / "lacvid.toml"
    config.write_text('progress = "json"\n')
    monkeypatch.setenv("LACVID_CONFIG", str(config))
    args = ("colorize", tmp_path / "missing.mp4", "--keys", tmp_path / "keys", "-o", tmp_path / "out")
    res = cli(*args)
    assert res.exit_code == 2 and res.stdout == ""
    (event,) = _events(res.stderr)
    assert event["event"] == "error" and event["exit_code"] == 2 and "missing.mp4" in event["message"]
    plain = cli(*args, "--progress", "bar")
    assert plain.exit_code == 2 and plain.stderr.startswith("lacvid: error:")


def test_json_sigterm_ends_with_an_error_event_143(tmp_path) -> None:
    """A render farm stops a job with SIGTERM: under JSON the closing line is an error event with the
    process's own exit code, not the plain ``lacvid: terminated`` line."""
    import signal

    from tests.support.tiny_clip import colorize_args, lacvid_process, make_clip

    clip = make_clip(tmp_path / "clip", n=24)
    proc = lacvid_process(colorize_args(clip, tmp_path / "out", "--progress", "json"))
    first = json.loads(proc.stderr.readline())      # the run has started reporting
    proc.send_signal(signal.SIGTERM)
    stdout, rest = proc.communicate(timeout=120)
    assert first["event"] == "progress" and proc.returncode == 143, rest
    events = _events(rest)
    assert stdout == "" and events[-1] == {"event": "error", "message": "terminated", "exit_code": 143}
    assert not (tmp_path / "out").exists()
