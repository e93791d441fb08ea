"""Where rate limits are counted, chosen by URL: memory:// (this process), db:// (the metadata
database, every node), redis://host:6379[/N] (Redis, every node)."""

from __future__ import annotations

from shutterbox.adapters.db.engine import Database
from shutterbox.adapters.rate_counters.memory import MemoryRateCounters
from shutterbox.domain.resilience import CircuitBreaker
from shutterbox.ports.rate_limits import RateCounters

__all__ = ["MemoryRateCounters", "open_rate_counters"]


def open_rate_counters(
    url: str, db: Database, timeout_seconds: float = 1.0, breaker: CircuitBreaker | None = None
) -> RateCounters:
    """``timeout_seconds`` and ``breaker``: those of a Redis server (``RedisRateCounters``)."""
    scheme = url.split("://", 1)[0].lower()
    if scheme == "memory":
        return MemoryRateCounters()
    if scheme == "db":
        from shutterbox.adapters.db.rate_counters import SqlRateCounters

        return SqlRateCounters(db)
    if scheme in ("redis", "rediss"):
        from shutterbox.adapters.rate_counters.redis import RedisRateCounters

        return RedisRateCounters(url, timeout_seconds, breaker)
    raise ValueError(f"unsupported rate-limit URL {url!r}: use memory://, db:// or redis://")
