"""``lacvid config``: which config file this folder reads, and every option's effective default."""

from __future__ import annotations

from typing import Annotated

import typer

from lacvid.cli.app import app, option_keys


@app.command("config")
def config_cmd(
    ctx: typer.Context,
    command: Annotated[str, typer.Argument(help="The command whose settings to show.")] = "colorize",
) -> None:
    """Print the config file in use (lacvid.toml) and COMMAND's settings: value and where it comes from."""
    from lacvid.cli.config import ENV_VAR, FILE_NAME, find_config_file, user_config_file
    from lacvid.errors import InputError

    group = ctx.find_root().command
    commands = group.commands  # type: ignore[attr-defined]
    if command not in commands:
        raise InputError(f"lacvid has no command {command!r}; pick one of {', '.join(sorted(commands))}")
    path = find_config_file()
    where = str(path) if path else f"none (looked for ${ENV_VAR}, ./{FILE_NAME}, {user_config_file()})"
    typer.echo(f"config file: {where}")
    from_file = (ctx.find_root().default_map or {}).get(command, {})
    names = set(option_keys(commands[command]).values())
    rows = []
    for param in commands[command].params:
        if param.name not in names:
            continue
        value = from_file.get(param.name, param.default)
        source = "file" if param.name in from_file else "default"
        flag = max(param.opts, key=len)
        rows.append((flag, "-" if value is None else str(value), source))
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    typer.echo(f"{command}:")
    for flag, value, source in rows:
        typer.echo(f"  {flag:<{width}}  {value:<{vwidth}}  {source}")
