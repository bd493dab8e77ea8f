"""A ``CliRunner`` that keeps stderr apart from stdout on every Click the project supports.

Click >= 8.2 always captures them apart (and has no ``mix_stderr``); Click 8.1, which typer
0.15.4 (the declared floor, tested in CI) installs, mixes them unless told not to.
"""

from __future__ import annotations

from typer.testing import CliRunner


def cli_runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # Click < 8.2
    except TypeError:
        return CliRunner()
