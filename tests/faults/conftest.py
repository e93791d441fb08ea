"""Fixtures of the fault-injection tests: TCP proxies that can be cut (the server factory
is the root conftest's; the helpers are in tests/support/faults.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.faults import TcpProxy


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
