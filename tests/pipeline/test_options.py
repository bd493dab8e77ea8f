"""ColorizeOptions: named as the CLI's flags, the earlier names still accepted, unknown names refused."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import typer

from lacvid import ColorizeOptions
from lacvid.errors import InputError
from lacvid.pipeline.batch import read_jobs


def test_every_option_is_named_as_its_colorize_flag() -> None:
    """Each field of ColorizeOptions is a flag of ``lacvid colorize`` without dashes."""
    from lacvid.cli import app
    from lacvid.cli.app import option_keys

    flags = set(option_keys(typer.main.get_command(app).commands["colorize"]))
    fields = {f.name for f in dataclasses.fields(ColorizeOptions)}
    assert fields <= flags, fields - flags


def test_earlier_names_are_aliases() -> None:
    old = ColorizeOptions(max_refs=2, line_mode="color", cache_dir=Path("/c"))
    new = ColorizeOptions(refs=2, lines="color", cache=Path("/c"))
    assert old == new and hash(old) == hash(new)
    assert (new.max_refs, new.line_mode, new.cache_dir) == (2, "color", Path("/c"))  # readable by both names
    assert dataclasses.replace(new, refs=5).refs == 5
    with pytest.raises(InputError, match=r"refs \(--refs\)"):  # checked as the flag, by either name
        ColorizeOptions(max_refs=0)


def test_unknown_or_doubled_names_are_one_clear_type_error() -> None:
    with pytest.raises(TypeError, match="no option 'max_ref'; the options are .*refs"):
        ColorizeOptions(max_ref=2)
    with pytest.raises(TypeError, match="'refs' twice"):
        ColorizeOptions(refs=2, max_refs=3)


def test_colorize_takes_options_as_keywords(tmp_path) -> None:
    """``lacvid.colorize(..., refs=0)`` reaches the same checks as ``--refs 0`` before any work;
    an unknown keyword is a TypeError, as Python's own."""
    from lacvid import colorize

    with pytest.raises(InputError, match="--refs"):
        colorize(tmp_path / "in", tmp_path / "keys", tmp_path / "out", refs=0)
    with pytest.raises(TypeError, match="no option 'colour'"):
        colorize(tmp_path / "in", tmp_path / "keys", tmp_path / "out", colour="red")


def test_batch_jobs_take_both_names(tmp_path) -> None:
    path = tmp_path / "jobs.json"
    path.write_text(json.dumps([
        {"input": "a.mp4", "keys": "k", "output": "a_out.mp4", "options": {"refs": 2, "cache": "c1"}},
        {"input": "b.mp4", "keys": "k", "output": "b_out.mp4", "options": {"max_refs": 4, "cache_dir": "c2"}},
    ]))
    first, second = read_jobs(path)
    assert (first.options.refs, first.options.cache) == (2, tmp_path / "c1")
    assert (second.options.refs, second.options.cache) == (4, tmp_path / "c2")
    path.write_text(json.dumps([{"input": "a", "keys": "k", "output": "o", "options": {"refs": 2, "max_refs": 3}}]))
    with pytest.raises(InputError, match="job 1 .*'refs' twice"):
        read_jobs(path)
