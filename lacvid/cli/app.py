"""The typer app every command registers on, and the one place errors become exit codes.

Exit codes: 0 success; 2 bad input or usage; 1 an internal failure (a bug in lacvid);
130 interrupted, 143 terminated. Without ``--debug`` (or ``LACVID_DEBUG=1``) every error is one
line on stderr: ``lacvid: error: <what was wrong, with the path, and what to do>``; under
``--progress json`` (the flag, or ``progress = "json"`` in lacvid.toml) it is a JSON line
instead, ``{"event": "error", "message": ..., "exit_code": ...}``, so stderr stays parseable.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperGroup

try:  # typer >= 0.2x vendors its own click
    from typer._click import exceptions as _cx
except ImportError:  # pragma: no cover - older typer on real click
    import click.exceptions as _cx

from lacvid.errors import LacvidError

# A bare group (``lacvid``, ``lacvid cache``) is a usage error on Click >= 8.2; Click 8.1 (what typer
# 0.15.4, the declared floor, installs) prints the help and exits 0 instead, and has no such class.
_NO_ARGS_IS_HELP: type[Exception] | tuple[()] = getattr(_cx, "NoArgsIsHelpError", ())

_state = {"debug": os.environ.get("LACVID_DEBUG", "") not in ("", "0", "false", "no")}


def set_debug(debug: bool) -> None:
    if debug:
        _state["debug"] = True


def set_json(on: bool) -> None:
    """Errors and the interrupt line as JSON events (``--progress json``), or as plain lines."""
    _state["json"] = on


def _json_requested(args: list[str], default_map: dict[str, dict[str, Any]]) -> bool:
    """Whether this command line asks for ``--progress json`` (the flag's last value, else the config's),
    known before typer parses it, so even a usage error comes out as a JSON event."""
    mode = None
    for i, arg in enumerate(args):
        if arg == "--progress" and i + 1 < len(args):
            mode = args[i + 1]
        elif arg.startswith("--progress="):
            mode = arg.partition("=")[2]
    if mode is None:
        command = next((a for a in args if a in default_map), None)
        mode = (default_map.get(command) or {}).get("progress_mode") if command else None
    return mode == "json"


_cleanups: list[Callable[[], None]] = []


def on_exit(cleanup: Callable[[], None]) -> None:
    """Run ``cleanup`` before the final line is printed (e.g. stop live progress bars, which hold
    stderr and the cursor: without this an interrupted run prints nothing and ends mid-line)."""
    _cleanups.append(cleanup)


def _run_cleanups() -> None:
    for cleanup in _cleanups:
        try:
            cleanup()
        except Exception:  # noqa: BLE001 - a cleanup must never hide the error being reported
            pass


def _error_line(message: str, code: int = 2) -> None:
    message = " ".join(str(message).split())  # one line, whatever the message held
    if _state.get("json"):
        from lacvid.cli.progress_json import emit_event

        emit_event({"event": "error", "message": message, "exit_code": code})
    else:
        print(f"lacvid: error: {message}", file=sys.stderr, flush=True)


def option_keys(command: Any) -> dict[str, str]:
    """{config key: parameter name} of one command's options. A key is the option's long flag without
    dashes (``--log-file`` is ``log_file``, ``--progress`` is ``progress``); the parameter's own
    name (``progress_mode``) is accepted too, as earlier files spelled it."""
    keys: dict[str, str] = {}
    for p in command.params:
        if p.param_type_name != "option" or p.name == "help":
            continue
        keys[p.name] = p.name
        flags = [o for o in p.opts if o.startswith("--")]
        if flags:
            keys[flags[0][2:].replace("-", "_")] = p.name
    return keys


def config_defaults(group: Any) -> dict[str, dict[str, Any]]:
    """Click's ``default_map`` from ``lacvid.toml`` (``lacvid.cli.config``): flags given still win."""
    from lacvid.cli.config import load_config

    keys = {name: option_keys(cmd) for name, cmd in group.commands.items()}
    config = load_config({name: set(k) for name, k in keys.items()})
    return {name: {keys[name][key]: value for key, value in config.defaults_for(name, set(k)).items()}
            for name, k in keys.items()}


class Terminated(KeyboardInterrupt):
    """SIGTERM (``timeout``, a render farm, Kubernetes): stopped as Ctrl-C stops a run, so outputs
    under their temporary names are removed and the cache keeps what is done; exit 143."""


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """While a command runs in the main thread, SIGTERM raises ``Terminated`` there."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: Any) -> None:
        _state["terminated"] = True
        raise Terminated()

    old = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _stopped_by_signal() -> int:
    """The one line and the exit code of a run stopped by Ctrl-C (130) or SIGTERM (143)."""
    word, code = ("terminated", 143) if _state.pop("terminated", False) else ("interrupted", 130)
    if _state.get("json"):
        from lacvid.cli.progress_json import emit_event

        emit_event({"event": "error", "message": word, "exit_code": code})
    else:
        print(f"lacvid: {word}", file=sys.stderr, flush=True)
    return code


class LacvidGroup(TyperGroup):
    """A typer group whose ``main`` maps every failure to one line and an exit code."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        code = 0
        # zarr runs its I/O on an asyncio loop; a Ctrl-C mid-write leaves tasks that asyncio reports at exit
        # ("Task was destroyed but it is pending!") after our one line, and a signal that lands inside zarr's
        # call that hands a read or write to that loop leaves the coroutine it had just made unscheduled, which
        # Python warns about when it is collected. The write itself is safe (lacvid.util.store), and under
        # --progress json stderr carries JSON only.
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        warnings.filterwarnings("ignore", message=r"coroutine '.*' was never awaited", category=RuntimeWarning)
        try:
            try:
                argv = [str(a) for a in (sys.argv[1:] if args is None else args)]
                set_json(_json_requested(argv, {}))  # a bad config file's error, too
                extra.setdefault("default_map", config_defaults(self))
                set_json(_json_requested(argv, extra["default_map"]))
                with _sigterm_as_interrupt():
                    rv = super().main(args=args, prog_name=prog_name or "lacvid", complete_var=complete_var,
                                      standalone_mode=False, **extra)
            finally:
                _run_cleanups()
            code = rv if isinstance(rv, int) else 0
            if code == 130:  # typer turns Ctrl-C (KeyboardInterrupt, Terminated) into this return value
                code = _stopped_by_signal()
        except _NO_ARGS_IS_HELP as exc:  # a bare group: its help, as a usage error
            print(exc.format_message(), flush=True)
            code = 2
        except typer.Abort:
            code = _stopped_by_signal()
        except _cx.ClickException as exc:  # usage errors: bad option, missing argument
            hint = ""
            ctx = getattr(exc, "ctx", None)
            if ctx is not None:
                hint = f"; see '{ctx.command_path} --help'"
            _error_line(f"{exc.format_message().rstrip('.')}{hint}", 2)
            code = 2
        except LacvidError as exc:
            if _state["debug"]:
                traceback.print_exc()
            _error_line(str(exc), exc.exit_code)
            code = exc.exit_code
        except KeyboardInterrupt:
            code = _stopped_by_signal()
        except Exception as exc:  # a bug in lacvid, not the user's fault
            if _state["debug"]:
                traceback.print_exc()
            _error_line(f"internal error ({type(exc).__name__}: {exc}); rerun with --debug for the "
                        "traceback and report it", 1)
            code = 1
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    cls=LacvidGroup,
    name="lacvid",
    help="Colour line-art animation from a few painted key frames.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    # Plain help: flags without "<bool>", and wrapped to the terminal (80 columns when piped),
    # not to the narrow columns of a boxed table.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        from lacvid.cli.versions import versions

        for name, version in versions():
            typer.echo(f"{name} {version}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", "-V", callback=_version_callback, is_eager=True,
                                 help="Print the versions of lacvid, Python, torch, ONNX Runtime and FFmpeg, "
                                      "and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks (also LACVID_DEBUG=1)."),
) -> None:
    """Colour line-art animation from a few painted key frames."""
    set_debug(debug)
