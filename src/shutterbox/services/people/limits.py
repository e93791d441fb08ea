"""Rate limits: how many login attempts, share-link passwords, uploads, comments and reports
a client may make in a window of time.

Fixed windows (``shutterbox.domain.rates``), numbered from the epoch so that every node agrees
on them, counted in ``RateCounters``: in this process's memory for the embedded default, in
the metadata database or Redis when several processes or nodes answer (``bootstrap`` picks
them by ``SHUTTERBOX_RATE_LIMIT_URL``). The windows follow ``shutterbox.clock.utcnow`` so that
tests can move time.

Counters on a server of their own (Redis) may be unreachable: the limiter then lets the
request through uncounted rather than refuse it, since a limit is a guard and not what the
request is for. A warning is logged when that starts and a line when counting works again;
``shutterbox_rate_limits_unchecked_total`` counts the hits let through. The counters' breaker
keeps each of those requests from waiting for the deadline.

The limiter is built once by ``bootstrap`` (``Services.rate_limiter``); what is HTTP about
limiting (the client's address, the 429 answer) is in
``shutterbox.entrypoints.http.middleware.rate_limiting``.
"""

from __future__ import annotations

import logging
import math

from shutterbox.clock import utcnow
from shutterbox.config import Settings
from shutterbox.domain.errors import RateLimited, Unavailable
from shutterbox.domain.rates import Rate, parse_rate
from shutterbox.ports.rate_limits import RateCounters
from shutterbox.services import metrics

__all__ = ["Rate", "RateLimiter", "limiter_from", "parse_rate"]

LOGIN = "login"
UPLOAD = "upload"
COMMENT = "comment"
REPORT = "report"

log = logging.getLogger(__name__)


def _now() -> float:
    return utcnow().timestamp()


class RateLimiter:
    """At most ``rate.count`` hits per key of a kind in each window of ``rate.period_seconds``;
    kinds without a rate are not limited (and never reach the counters)."""

    def __init__(self, rates: dict[str, Rate | None], counters: RateCounters | None = None):
        if counters is None and any(rates.values()):
            raise ValueError("rates need counters to count in")
        self.rates = rates
        self.counters = counters
        self.counting = True  # false while the counters cannot be reached

    async def hit(self, kind: str, key: str, message: str) -> None:
        """Count one hit; over the limit raise RateLimited (nothing is counted then)."""
        rate = self.rates.get(kind)
        if rate is None or self.counters is None:
            return
        now = _now()
        window = rate.window(now)
        ends_at = rate.window_end(window)
        try:
            counted = await self.counters.take(f"{kind}:{key}", window, rate.count, ends_at)
        except Unavailable as down:
            self._not_counting(kind, down)
            return
        self._counting()
        if not counted:
            retry_after = max(1, math.ceil(ends_at - now))
            raise RateLimited(f"{message} ({rate}): try again in {retry_after} s", retry_after)

    async def refund(self, kind: str, key: str) -> None:
        """Take back one hit of the current window (e.g. a login that succeeded)."""
        rate = self.rates.get(kind)
        if rate is None or self.counters is None:
            return
        try:
            await self.counters.give_back(f"{kind}:{key}", rate.window(_now()))
        except Unavailable as down:
            self._not_counting(kind, down)
            return
        self._counting()

    def _not_counting(self, kind: str, down: Unavailable) -> None:
        metrics.RATE_LIMITS_UNCHECKED.labels(kind).inc()
        if self.counting:
            self.counting = False
            log.warning("rate limits are not counted until their counters answer: %s", down)

    def _counting(self) -> None:
        if not self.counting:
            self.counting = True
            log.info("rate limits are counted again")

    async def close(self) -> None:
        if self.counters is not None:
            await self.counters.close()


def limiter_from(settings: Settings, counters: RateCounters) -> RateLimiter:
    """The limiter for the configured rates (``login_rate``, ``upload_rate``,
    ``comment_rate``, ``report_rate``), counting in ``counters``."""
    return RateLimiter(
        {
            LOGIN: parse_rate(settings.login_rate),
            UPLOAD: parse_rate(settings.upload_rate),
            COMMENT: parse_rate(settings.comment_rate),
            REPORT: parse_rate(settings.report_rate),
        },
        counters,
    )


def login_key(username: str, client: str) -> str:
    """The key login attempts are counted by: the username (as it is looked up) and the
    client's address."""
    return f"{username.strip().lower()}|{client}"


async def hit_login(limiter: RateLimiter, username: str, client: str) -> None:
    """Count a login attempt for this username from this client (before checking the
    password); call ``login_succeeded`` afterwards so that only failures use up the limit."""
    await limiter.hit(LOGIN, login_key(username, client), "too many login attempts")


async def login_succeeded(limiter: RateLimiter, username: str, client: str) -> None:
    await limiter.refund(LOGIN, login_key(username, client))


async def hit_upload(limiter: RateLimiter, user_id: int) -> None:
    await limiter.hit(UPLOAD, str(user_id), "too many uploads")


async def hit_comment(limiter: RateLimiter, user_id: int) -> None:
    await limiter.hit(COMMENT, str(user_id), "too many comments")
