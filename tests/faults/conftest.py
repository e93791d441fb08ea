"""Fixtures of the fault-injection tests: TCP proxies that can be cut, and an S3 bucket
reached through one (the server factory is the root conftest's; the helpers are in
tests/support/faults.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from tests.support.faults import TcpProxy
from tests.support.servers import S3Endpoint


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


@dataclass(frozen=True)
class ProxiedBucket:
    """A bucket of a real S3 endpoint, reached through ``proxy``; ``env``: the AWS_*
    variables a server needs to reach it that way."""

    bucket: str
    proxy: TcpProxy
    env: dict[str, str]


@pytest.fixture
def proxied_bucket(proxies: Callable[..., TcpProxy]) -> Iterator[ProxiedBucket]:
    endpoint = S3Endpoint()
    endpoint.start()
    try:
        bucket = endpoint.create_bucket()
        proxy = proxies("127.0.0.1", endpoint.port)
        env = {**endpoint.env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{proxy.port}"}
        yield ProxiedBucket(bucket, proxy, env)
    finally:
        endpoint.stop()
