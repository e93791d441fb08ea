"""The `shutterbox` command line run in-process (Typer's runner), as tests drive it."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

from typer.testing import CliRunner, Result

from shutterbox.entrypoints.cli import app


def invoke(env: Mapping[str, str], *args: str, stdin: str | None = None) -> Result:
    """`shutterbox ARGS` with ``env`` (and ``stdin`` as its input); the runner's result."""
    return CliRunner().invoke(app, list(args), env=dict(env), input=stdin)


def sqlite_rows(env: Mapping[str, str], sql: str) -> list[tuple]:
    """The rows ``sql`` reads from the SQLite database of ``env``'s data directory."""
    db = sqlite3.connect(Path(env["SHUTTERBOX_DATA_DIR"]) / "shutterbox.db")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()
