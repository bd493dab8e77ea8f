"""The ``lacvid`` command line: a thin layer of typer commands over the library.

Each command group lives in its own module and registers on ``app`` when imported here.
"""

from __future__ import annotations

from lacvid.cli.app import app

# Importing a command module registers its commands on ``app``, in this order: the order
# ``lacvid --help`` lists them (the pipeline's order, not the alphabet's).
# isort: off
from lacvid.cli import media_cmds  # noqa: E402,F401
from lacvid.cli import model_cmds  # noqa: E402,F401
from lacvid.cli import preprocess_cmds  # noqa: E402,F401
from lacvid.cli import train_cmds  # noqa: E402,F401
from lacvid.cli import colorize_cmd  # noqa: E402,F401
from lacvid.cli import repalette_cmd  # noqa: E402,F401
from lacvid.cli import cache_cmds  # noqa: E402,F401
from lacvid.cli import config_cmd  # noqa: E402,F401
from lacvid.cli import batch_cmd  # noqa: E402,F401
# isort: on


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
