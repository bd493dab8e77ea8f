"""Assertions several test modules share: one error line, no temporaries left behind."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from lacvid.util.outputs import TMP_MARKER


def assert_one_error_line(result, *, only_line: bool = True) -> str:
    """Exit 2, nothing on stdout, exactly one ``lacvid: error:`` line, no traceback (and, with
    ``only_line``, nothing else on stderr); returns the line."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("lacvid: error:")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    if only_line:
        assert lines == errors, result.stderr
    return errors[0]


def assert_no_temporaries(folder: Path) -> None:
    """No ``.NAME.lacvid-tmp-*`` file or folder is left in ``folder``."""
    assert not [p.name for p in Path(folder).iterdir() if TMP_MARKER in p.name]


def skip_unless_ctrl_c_reaches_children() -> None:
    """Skip a test that sends SIGINT to a lacvid process where this process ignores SIGINT: its children
    inherit the ignoring (a test run started as a shell's background job, ``pytest &``), so the signal would
    never reach lacvid, which rightly keeps an inherited ignore as ``nohup`` and background jobs expect."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        pytest.skip("SIGINT is ignored in this test process (a background job?): a child ignores it too")
