"""Rate-limit counters in a Redis that stops answering (a TCP proxy in front of the real
server): a call ends at its deadline with ``Unavailable`` instead of waiting (redis-py would
otherwise retry ten times), a refused connection too; the failures open the ``rate_limit``
breaker, which then refuses at once; once Redis answers again a trial call closes it."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from shutterbox.adapters.rate_counters.redis import RedisRateCounters
from shutterbox.domain.errors import Unavailable
from shutterbox.domain.resilience import BreakerState, CircuitBreaker, DependencyDown
from shutterbox.entrypoints.http.app import create_app
from tests.support.clients import register
from tests.support.faults import TcpProxy
from tests.support.servers import require_redis
from tests.support.settings import make_settings
from tests.support.windows import window_start

GUARD_SECONDS = 30  # far above the deadline: a call without one would still be waiting


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    redis = urlsplit(require_redis())
    forwarding = TcpProxy(redis.hostname or "127.0.0.1", redis.port or 6379)
    forwarding.start()
    yield forwarding
    forwarding.stop()


def _counters(proxy: TcpProxy, breaker: CircuitBreaker | None = None) -> RedisRateCounters:
    return RedisRateCounters(
        f"redis://127.0.0.1:{proxy.port}/0?prefix=test-down-{uuid.uuid4().hex}:",
        timeout_seconds=0.5,
        breaker=breaker,
    )


async def _take(counters: RedisRateCounters) -> bool:
    return await asyncio.wait_for(
        counters.take("login:alice", 1, 5, time.time() + 60), GUARD_SECONDS
    )


async def test_a_redis_that_does_not_answer_is_unavailable_at_its_deadline(proxy: TcpProxy):
    counters = _counters(proxy)
    try:
        assert await _take(counters)
        proxy.black_hole()
        with pytest.raises(Unavailable, match="rate-limit counters"):
            await _take(counters)
        proxy.forward()
        assert await _take(counters)
    finally:
        await counters.close()


async def test_a_refused_connection_is_unavailable(proxy: TcpProxy):
    counters = _counters(proxy)
    try:
        proxy.stop()
        with pytest.raises(Unavailable):
            await _take(counters)
        with pytest.raises(Unavailable):
            await asyncio.wait_for(counters.give_back("login:alice", 1), GUARD_SECONDS)
    finally:
        await counters.close()


async def test_failures_open_the_breaker_and_a_trial_closes_it(proxy: TcpProxy):
    clock = [0.0]
    breaker = CircuitBreaker("rate_limit", failures=2, cooldown_seconds=10, clock=lambda: clock[0])
    counters = _counters(proxy, breaker)
    try:
        proxy.black_hole()
        for _ in range(2):
            with pytest.raises(Unavailable):
                await _take(counters)
        assert breaker.state == BreakerState.OPEN
        with pytest.raises(DependencyDown):
            await _take(counters)  # refused without a call
        proxy.forward()
        clock[0] += 10
        assert await _take(counters)
        assert breaker.state == BreakerState.CLOSED
    finally:
        await counters.close()


def test_requests_go_on_uncounted_while_redis_is_down_and_are_counted_again(
    proxy: TcpProxy, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    """Served with the limits in Redis: while Redis refuses, logins and uploads are answered
    as usual (no 429, no 500), the hits let through are counted in /metrics and one warning
    says so; once Redis is back the limit holds again."""
    settings = make_settings(
        tmp_path / "data",
        workers=0,
        login_rate="2/minute",
        rate_limit_url=f"redis://127.0.0.1:{proxy.port}/0?prefix=test-down-{uuid.uuid4().hex}:",
        rate_limit_timeout_seconds=0.5,
    )
    with TestClient(create_app(settings)) as client:
        register(client, "alice")
        proxy.stop()
        with caplog.at_level(logging.WARNING, logger="shutterbox.services.people.limits"):
            for _ in range(4):
                assert _token(client, "alice", "wrong horse") == 401
        warnings = [r for r in caplog.records if "not counted" in r.getMessage()]
        assert len(warnings) == 1
        assert _unchecked_logins(client) >= 4
        proxy.start()
        with window_start():
            answers = [_token(client, "alice", "wrong horse") for _ in range(3)]
        assert answers == [401, 401, 429]


def _token(client: TestClient, username: str, password: str) -> int:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return response.status_code


def _unchecked_logins(client: TestClient) -> float:
    found = re.search(
        r'^shutterbox_rate_limits_unchecked_total\{kind="login"\} (\S+)$',
        client.get("/metrics").text,
        re.M,
    )
    assert found, "no unchecked logins exported"
    return float(found.group(1))
