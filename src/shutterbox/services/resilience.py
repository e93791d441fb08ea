"""The circuit breakers of this process, one per dependency that is another server, wired to
the metrics; and retrying a call that may safely run twice."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from shutterbox.config import Settings
from shutterbox.domain.resilience import CircuitBreaker, jittered_backoff
from shutterbox.services import metrics

T = TypeVar("T")

DEPENDENCIES = ("database", "store", "replica", "queue", "edge", "rate_limit")


def _record(breaker: CircuitBreaker) -> None:
    metrics.BREAKER_STATE.labels(breaker.name).set(breaker.state)
    if breaker.state == breaker.state.OPEN:
        metrics.BREAKER_OPENINGS.labels(breaker.name).inc()


def make_breaker(settings: Settings, name: str) -> CircuitBreaker:
    """The breaker of the dependency ``name`` (one of ``DEPENDENCIES``), closed, its state
    exported as ``shutterbox_breaker_state{dependency=name}``."""
    breaker = CircuitBreaker(
        name,
        failures=settings.breaker_failures,
        cooldown_seconds=settings.breaker_cooldown_seconds,
        on_change=_record,
    )
    _record(breaker)
    metrics.BREAKER_OPENINGS.labels(name)  # exported as 0 before the first opening
    return breaker


async def retried(
    call: Callable[[], Awaitable[T]],
    *,
    retries: int,
    retry_on: tuple[type[BaseException], ...],
    base_seconds: float = 0.1,
    cap_seconds: float = 2.0,
) -> T:
    """``call()``, tried again up to ``retries`` times after an error in ``retry_on``, each
    after a jittered exponential backoff. Only for calls that may run twice (a read, a
    purge, a write of a whole object under its own key)."""
    attempt = 0
    while True:
        try:
            return await call()
        except retry_on:
            attempt += 1
            if attempt > retries:
                raise
            await asyncio.sleep(jittered_backoff(attempt, base_seconds, cap_seconds))
