"""Fixtures of the fault-injection tests: server processes and TCP proxies that can be cut
(the helpers themselves are in tests/support/faults.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.faults import TcpProxy
from tests.support.server import ServerProcess


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """`shutterbox serve` subprocesses on one data directory; all stopped at the end."""
    started: list[ServerProcess] = []

    def make(serve_args: tuple[str, ...] = (), **env: str) -> ServerProcess:
        server = ServerProcess(tmp_path / "data", serve_args=serve_args, **env)
        server.data_dir.mkdir(parents=True, exist_ok=True)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def proxies() -> Iterator[Callable[..., TcpProxy]]:
    made: list[TcpProxy] = []

    def make(host: str, port: int) -> TcpProxy:
        proxy = TcpProxy(host, port)
        proxy.start()
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.stop()
