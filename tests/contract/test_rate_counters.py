"""One suite for every place rate limits are counted: this process's memory, the metadata
database (SQLite and PostgreSQL) and Redis. Keys are new in each test, so a shared Redis
needs no cleaning."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from shutterbox.adapters.db.engine import open_database
from shutterbox.adapters.db.migrate import upgrade_to_head
from shutterbox.adapters.db.rate_counters import SqlRateCounters
from shutterbox.adapters.rate_counters import MemoryRateCounters
from shutterbox.adapters.rate_counters.redis import RedisRateCounters
from shutterbox.domain.rates import Rate
from shutterbox.ports.rate_limits import RateCounters
from tests.support.servers import require_redis

MINUTE = Rate(3, 60.0)
NOW = 1_700_000_000.0  # the windows' numbers are what matter, not the machine's clock


@pytest.fixture(params=["memory", "sqlite", "postgresql", "redis"])
async def counters(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[RateCounters]:
    kind = request.param
    if kind == "memory":
        yield MemoryRateCounters()
        return
    if kind == "redis":
        redis_counters = RedisRateCounters(require_redis())
        yield redis_counters
        await redis_counters.close()
        return
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'metadata.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    db = open_database(url)
    await upgrade_to_head(db)
    try:
        yield SqlRateCounters(db)
    finally:
        await db.dispose()


def _key() -> str:
    return f"upload:{uuid.uuid4().hex}"


async def _take(counters: RateCounters, key: str, now: float = NOW) -> bool:
    window = MINUTE.window(now)
    return await counters.take(key, window, MINUTE.count, MINUTE.window_end(window))


async def test_a_window_takes_its_limit_then_refuses(counters: RateCounters):
    key, other = _key(), _key()
    assert [await _take(counters, key) for _ in range(4)] == [True, True, True, False]
    assert await _take(counters, key) is False  # a refusal counts nothing, and stays one
    assert await _take(counters, other) is True  # keys count on their own


async def test_the_next_window_starts_over(counters: RateCounters):
    key = _key()
    for _ in range(3):
        assert await _take(counters, key)
    assert not await _take(counters, key)
    assert [await _take(counters, key, NOW + 60) for _ in range(4)] == [True, True, True, False]


async def test_a_hit_given_back_may_be_taken_again(counters: RateCounters):
    key = _key()
    window = MINUTE.window(NOW)
    for _ in range(3):
        assert await _take(counters, key)
    await counters.give_back(key, window)
    assert await _take(counters, key)
    assert not await _take(counters, key)
    await counters.give_back(key, window - 1)  # a window that is over: left alone
    assert not await _take(counters, key)
    never = _key()
    await counters.give_back(never, window)  # never counted: never below zero
    assert [await _take(counters, never) for _ in range(4)] == [True, True, True, False]


async def test_takes_at_once_never_pass_the_limit(counters: RateCounters):
    """Many hits at once, as from several nodes: exactly the limit is counted."""
    key = _key()
    window = MINUTE.window(NOW)
    results = await asyncio.gather(
        *(counters.take(key, window, 5, MINUTE.window_end(window)) for _ in range(20))
    )
    assert sum(results) == 5


async def test_a_long_key_is_counted_like_any_other(counters: RateCounters):
    key = "login:" + "x" * 300 + uuid.uuid4().hex
    assert [await _take(counters, key) for _ in range(4)] == [True, True, True, False]
