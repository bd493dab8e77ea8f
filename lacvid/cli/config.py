"""``lacvid.toml``: a studio's defaults for every command's options, so scripts stay short.

Where it is read from, first found wins: ``$LACVID_CONFIG`` (a file), ``./lacvid.toml`` (the
working folder: a project's settings), then the user config folder (``platformdirs``:
``~/.config/lacvid/lacvid.toml`` on Linux). Command-line flags always win over the file.

Top-level keys apply to every command that has that option; a table names one command::

    device = "cuda"          # every command with --device
    cache = "/mnt/fast/lacvid-cache"

    [colorize]
    size = 384
    codec = "libx265"
    crf = 20

Keys are the options' names without dashes (``--log-file`` is ``log_file``); a key no command
knows is an error, so a typo never silently does nothing.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lacvid.errors import InputError

FILE_NAME = "lacvid.toml"
ENV_VAR = "LACVID_CONFIG"


def user_config_file() -> Path:
    """``lacvid.toml`` in the user's config folder."""
    try:
        import platformdirs
    except ImportError:  # pragma: no cover - platformdirs is a dependency; XDG as a fallback
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "lacvid"
    else:
        base = Path(platformdirs.user_config_dir("lacvid", appauthor=False))
    return base / FILE_NAME


def find_config_file(cwd: Path | None = None) -> Path | None:
    """The file this run reads its defaults from, or None."""
    named = os.environ.get(ENV_VAR)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise InputError(f"{ENV_VAR}={named} names no file; point it at a lacvid.toml or unset it")
        return path
    for candidate in (Path(cwd or Path.cwd()) / FILE_NAME, user_config_file()):
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class Config:
    path: Path | None
    shared: Mapping[str, Any]                     # top-level keys: every command that has the option
    commands: Mapping[str, Mapping[str, Any]]     # [command] tables

    def defaults_for(self, command: str, options: set[str]) -> dict[str, Any]:
        """The defaults ``command`` takes from the file: shared keys it has, then its own table."""
        values = {k: v for k, v in self.shared.items() if k in options}
        values.update(self.commands.get(command, {}))
        return values


def load_config(commands: Mapping[str, set[str]], cwd: Path | None = None) -> Config:
    """Read and check the config file against ``commands`` ({command: its option names})."""
    path = find_config_file(cwd)
    if path is None:
        return Config(None, {}, {})
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the config file {path} ({getattr(exc, 'strerror', None) or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"config file {path} is not valid TOML ({exc}); fix it or remove it") from exc
    every_option = set().union(*commands.values()) if commands else set()
    shared, tables = {}, {}
    for key, value in data.items():
        if isinstance(value, dict):
            if key not in commands:
                raise InputError(f"config file {path} has a table [{key}], but lacvid has no command {key!r}; "
                                 f"tables name commands: {', '.join(sorted(commands))}")
            unknown = sorted(set(value) - commands[key])
            if unknown:
                raise InputError(f"config file {path}: [{key}] sets {unknown[0]!r}, which lacvid {key} does not "
                                 f"take; its options are {', '.join(sorted(commands[key]))}")
            tables[key] = dict(value)
        elif key not in every_option:
            raise InputError(f"config file {path} sets {key!r}, which no lacvid command takes; check the spelling "
                             "(options without dashes, e.g. log_file for --log-file)")
        else:
            shared[key] = value
    return Config(path, shared, tables)
