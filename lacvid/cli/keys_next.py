"""``lacvid keys INPUT --keys KEYDIR --next N -o DIR``: the frames to paint next (``lacvid.pipeline.next_keys``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from lacvid.cli.common import make_progress, read_input, use_threads


def keys_next(source: Path, painted: Path | None, output: Path, n: int | None, overwrite: bool,
              force_replace_painted: bool, quiet: bool, debug: bool, threads: int | None,
              flags: dict[str, Any]) -> None:
    """Write the line art of the ``n`` frames to paint next into ``output``; the table of why on stdout,
    then ``output`` on its last line."""
    if painted is None or n is None:
        raise typer.BadParameter("--next and --keys go together: --next N suggests frames from the keys painted "
                                 "so far in --keys KEYDIR", param_hint="'--next'")
    from lacvid.pipeline.keys import check_no_painted_keys
    from lacvid.pipeline.next_keys import suggest_next
    from lacvid.pipeline.options import ColorizeOptions

    if not force_replace_painted:  # first: the "already exists" line must not suggest --overwrite here
        check_no_painted_keys(output)
    progress = make_progress(quiet, debug)
    use_threads(threads)
    source = read_input(source, progress, flags.get("cache"))
    result = suggest_next(source, painted, output, n, ColorizeOptions(**flags, overwrite=overwrite), progress)
    typer.echo(next_table(result.rows))
    sys.stdout.flush()
    typer.echo(str(result.output))


def next_table(rows: list) -> str:
    """The frames to paint next and why: their shot, how doubtful they and their shot are now, and how
    much of the shot's doubt painting each would take out."""
    head = ["frame", "shot", "frame doubtful", "shot doubtful", "removes", "line art"]
    cells = [[str(r.frame), str(r.shot), f"{r.frame_doubtful:.1%}", f"{r.shot_doubtful:.1%}",
              f"{r.removes:.0%} of the shot's doubt", str(r.path)] for r in rows]
    if not cells:
        return "no frame left to suggest: every frame of every shot is a key or holds no doubt"
    widths = [max(len(h), *(len(c[j]) for c in cells)) for j, h in enumerate(head)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [head, *cells])
