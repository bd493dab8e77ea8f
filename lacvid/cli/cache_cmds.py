"""``lacvid cache ls`` and ``lacvid cache clean``: see and trim what colorize keeps to resume."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from lacvid.cli.app import app, set_debug
from lacvid.cli.common import Debug, Quiet

cache_app = typer.Typer(help="See and remove what colorize keeps to resume (the cache folder).",
                        no_args_is_help=True, rich_markup_mode=None)
app.add_typer(cache_app, name="cache")

CacheDir = Annotated[Path | None, typer.Option("--cache", help="Cache folder (default: ~/.cache/lacvid or "
                                               "$LACVID_CACHE).", show_default=False)]


def _root(cache: Path | None) -> Path:
    from lacvid.util.cache_home import default_cache_dir

    return cache or default_cache_dir()


@cache_app.command("ls")
def ls_cmd(
    cache: CacheDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list instead of a table.")] = False,
    debug: Debug = False,
) -> None:
    """List the cache's entries, least recently used first (name, size, last use, input)."""
    from lacvid.pipeline.cache_admin import human_size, list_entries

    set_debug(debug)
    root = _root(cache)
    entries = list_entries(root)
    if as_json:
        typer.echo(json.dumps([{"name": e.name, "path": str(e.path), "bytes": e.size, "last_used": e.last_used,
                                "input": e.input} for e in entries]))
        return
    rows = [("entry", "size", "last used", "input")]
    for e in entries:
        rows.append((e.name, human_size(e.size), time.strftime("%Y-%m-%d %H:%M", time.localtime(e.last_used)),
                     e.input or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(r[:3], widths)) + "  " + r[3])
    total = sum(e.size for e in entries)
    print(f"lacvid: {len(entries)} entries, {human_size(total)} in {root}", file=sys.stderr, flush=True)


@cache_app.command("clean")
def clean_cmd(
    entries: Annotated[list[str] | None, typer.Argument(
        metavar="ENTRY", help="Entries to remove, as 'lacvid cache ls' names "
                                                             "them. Default: every entry.", show_default=False)]
    = None,
    older_than: Annotated[str | None, typer.Option("--older-than", metavar="AGE",
                                                   help="Only entries not used for AGE: 30d, 12h, 2w ...",
                                                   show_default=False)] = None,
    cache: CacheDir = None,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Remove cache entries; prints each removed path.

    A later run computes again what it needs; entries a running lacvid holds are kept.
    """
    from lacvid.pipeline.cache_admin import clean, human_size, parse_age

    set_debug(debug)
    age = parse_age(older_than) if older_than is not None else None
    removed, busy = clean(_root(cache), entries or None, age)
    for entry in removed:
        typer.echo(str(entry.path))
    if not quiet:
        freed = human_size(sum(e.size for e in removed))
        kept = f"; kept {len(busy)} in use by a running lacvid" if busy else ""
        print(f"lacvid: removed {len(removed)} entries ({freed}){kept}", file=sys.stderr, flush=True)
