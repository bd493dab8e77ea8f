"""``lacvid frames`` and ``lacvid encode``: plumbing for shell pipelines."""

from __future__ import annotations

from lacvid.cli.app import app  # noqa: F401
