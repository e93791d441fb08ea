"""The `shutterbox` command line run in-process (Typer's runner), as tests drive it."""

from __future__ import annotations

from collections.abc import Mapping

from typer.testing import CliRunner, Result

from shutterbox.entrypoints.cli import app


def invoke(env: Mapping[str, str], *args: str, stdin: str | None = None) -> Result:
    """`shutterbox ARGS` with ``env`` (and ``stdin`` as its input); the runner's result."""
    return CliRunner().invoke(app, list(args), env=dict(env), input=stdin)
