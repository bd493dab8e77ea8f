"""Shell completion (issue 22): ``lacvid --show-completion SHELL`` prints a script for bash, zsh
and fish, and the protocol those scripts call completes lacvid's commands and flags. Bash's
completion function is run for real (zsh and fish are not on the test machine)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# typer detects the shell it runs in; this lets ``--show-completion`` take the shell's name instead.
NO_DETECTION = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}


def _lacvid(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lacvid", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("shell, marker", [
    ("bash", "complete -o default -F _lacvid_completion lacvid"),
    ("zsh", "compdef _lacvid_completion lacvid"),
    ("fish", "complete --command lacvid"),
])
def test_show_completion_prints_each_shells_script(shell, marker) -> None:
    result = _lacvid("--show-completion", shell, env=NO_DETECTION)
    assert result.returncode == 0, result.stderr
    assert marker in result.stdout and "_LACVID_COMPLETE=complete_" in result.stdout, result.stdout


@pytest.mark.parametrize("shell, env", [
    ("zsh", {"_TYPER_COMPLETE_ARGS": "lacvid colo"}),
    ("fish", {"_TYPER_COMPLETE_ARGS": "lacvid colo", "_TYPER_COMPLETE_FISH_ACTION": "get-args"}),
])
def test_the_completion_protocol_completes_commands(shell, env) -> None:
    """What the zsh and fish scripts run on each <Tab>."""
    result = _lacvid(env={"_LACVID_COMPLETE": f"complete_{shell}", **env})
    assert result.returncode == 0, result.stderr
    assert "colorize" in result.stdout and "frames" not in result.stdout, result.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_commands_and_flags(tmp_path: Path) -> None:
    """The script sourced into a real bash, its function called as bash calls it on <Tab>."""
    wrapper = tmp_path / "bin" / "lacvid"  # the script calls ``lacvid``: this test's lacvid
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m lacvid "$@"\n')
    wrapper.chmod(0o755)
    script = _lacvid("--show-completion", "bash", env=NO_DETECTION).stdout
    (tmp_path / "lacvid.bash").write_text(script)
    probe = ('source "$1"; complete -p lacvid >/dev/null || exit 3\n'
             'COMP_WORDS=(lacvid colo); COMP_CWORD=1; _lacvid_completion lacvid; echo "${COMPREPLY[*]}"\n'
             'COMP_WORDS=(lacvid colorize --overw); COMP_CWORD=2; _lacvid_completion lacvid; echo "${COMPREPLY[*]}"\n')
    env = {**os.environ, "PATH": f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-c", probe, "bash", str(tmp_path / "lacvid.bash")], capture_output=True,
                            text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["colorize", "--overwrite"], result.stdout
