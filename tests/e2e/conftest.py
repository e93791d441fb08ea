from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import ServerProcess


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator:
    started: list[ServerProcess] = []

    def make(serve_args: tuple[str, ...] = (), **env: str) -> ServerProcess:
        server = ServerProcess(tmp_path / "data", serve_args=serve_args, **env)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a `shutterbox` command over a data directory of this test's."""
    return {"SHUTTERBOX_DATA_DIR": str(tmp_path / "data"), "SHUTTERBOX_WORKERS": "2"}
