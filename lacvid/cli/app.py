"""The typer app every command registers on, and the one place errors become exit codes.

Exit codes: 0 success; 2 bad input or usage; 1 an internal failure (a bug in lacvid);
130 interrupted. Without ``--debug`` (or ``LACVID_DEBUG=1``) every error is one line on
stderr: ``lacvid: error: <what was wrong, with the path, and what to do>``.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import typer
from typer.core import TyperGroup

try:  # typer >= 0.2x vendors its own click
    from typer._click import exceptions as _cx
except ImportError:  # pragma: no cover - older typer on real click
    import click.exceptions as _cx

from lacvid import __version__
from lacvid.errors import LacvidError

_state = {"debug": os.environ.get("LACVID_DEBUG", "") not in ("", "0", "false", "no")}


def set_debug(debug: bool) -> None:
    if debug:
        _state["debug"] = True


def _error_line(message: str) -> None:
    message = " ".join(str(message).split())  # one line, whatever the message held
    print(f"lacvid: error: {message}", file=sys.stderr, flush=True)


class LacvidGroup(TyperGroup):
    """A typer group whose ``main`` maps every failure to one line and an exit code."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        code = 0
        try:
            rv = super().main(args=args, prog_name=prog_name or "lacvid", complete_var=complete_var,
                              standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else 0
        except _cx.NoArgsIsHelpError:  # help was printed; nothing more to say
            code = 2
        except typer.Abort:
            print("lacvid: interrupted", file=sys.stderr)
            code = 130
        except _cx.ClickException as exc:  # usage errors: bad option, missing argument
            hint = ""
            ctx = getattr(exc, "ctx", None)
            if ctx is not None:
                hint = f"; see '{ctx.command_path} --help'"
            _error_line(f"{exc.format_message().rstrip('.')}{hint}")
            code = 2
        except LacvidError as exc:
            if _state["debug"]:
                traceback.print_exc()
            _error_line(str(exc))
            code = exc.exit_code
        except KeyboardInterrupt:
            print("lacvid: interrupted", file=sys.stderr)
            code = 130
        except Exception as exc:  # a bug in lacvid, not the user's fault
            if _state["debug"]:
                traceback.print_exc()
            _error_line(f"internal error ({type(exc).__name__}: {exc}); rerun with --debug for the "
                        "traceback and report it")
            code = 1
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    cls=LacvidGroup,
    name="lacvid",
    help="Colour line-art animation from a few painted key frames.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"lacvid {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", "-V", callback=_version_callback, is_eager=True,
                                 help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks (also LACVID_DEBUG=1)."),
) -> None:
    """Colour line-art animation from a few painted key frames."""
    set_debug(debug)
