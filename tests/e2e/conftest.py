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
