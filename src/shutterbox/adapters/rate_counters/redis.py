"""Rate-limit counters in Redis (``SHUTTERBOX_RATE_LIMIT_URL=redis://host:6379[/N][?prefix=P]``):
shared by every node like the database's, without a write to the database for each hit.

One key per (limited key, window), expiring with the window; a hit and a give-back are each
one Lua script, which Redis runs alone, so two nodes never both take the last hit. Keys start
with ``prefix`` (default ``shutterbox:rate:``): installations that share a Redis need
prefixes (or database numbers) of their own, as their user ids are alike.

Each call has a deadline (``timeout_seconds``, for the connection and for the answer) and is
not retried: a hit taken twice would count twice. A Redis that refuses, cuts or does not
answer in time raises ``Unavailable`` and counts against the ``rate_limit`` breaker."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shutterbox.domain.errors import Unavailable
from shutterbox.domain.resilience import CircuitBreaker, guarded, is_unavailable

PREFIX = "shutterbox:rate:"

# KEYS[1]: the window's counter; ARGV: the limit, the counter's lifetime in milliseconds.
_TAKE = """
local hits = tonumber(redis.call('GET', KEYS[1]) or '0')
if hits >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
if hits == 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
"""
_GIVE_BACK = """
local hits = tonumber(redis.call('GET', KEYS[1]) or '0')
if hits > 0 then redis.call('DECR', KEYS[1]) end
return hits
"""
MIN_LIFETIME_MS = 1000  # a counter outlives its window a little (clocks differ)
UNREACHABLE = "temporarily unavailable: the rate-limit counters (Redis) cannot be reached"


class RedisRateCounters:
    """``RateCounters`` in Redis."""

    def __init__(
        self, url: str, timeout_seconds: float = 1.0, breaker: CircuitBreaker | None = None
    ) -> None:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        self.prefix = query.pop("prefix", PREFIX)
        plain = urlunsplit(parts._replace(query=urlencode(query)))
        self.client: Any = redis.Redis.from_url(
            plain,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            retry=Retry(NoBackoff(), 0),
        )
        self.breaker = breaker
        self._take = self.client.register_script(_TAKE)
        self._give_back = self.client.register_script(_GIVE_BACK)

    def _key(self, key: str, window: int) -> str:
        return f"{self.prefix}{key}:{window}"

    async def take(self, key: str, window: int, limit: int, ends_at: float) -> bool:
        lifetime = max(MIN_LIFETIME_MS, int((ends_at - time.time()) * 1000) + MIN_LIFETIME_MS)
        counted = await self._run(self._take, [self._key(key, window)], [limit, lifetime])
        return bool(counted)

    async def give_back(self, key: str, window: int) -> None:
        await self._run(self._give_back, [self._key(key, window)], [])

    async def _run(self, script: Any, keys: list[str], args: list[object]) -> Any:
        with guarded(self.breaker, is_unavailable):
            try:
                return await script(keys=keys, args=args)
            except (RedisConnectionError, RedisTimeoutError, OSError) as error:
                raise Unavailable(UNREACHABLE) from error

    async def close(self) -> None:
        await self.client.aclose()
