"""Rate limits: how many login attempts and uploads a client may make in a window of time.

A fixed-window counter per (kind, key), kept in this process's memory: with several API nodes
behind a load balancer each node counts on its own, so a client spread over N nodes gets up to
N times the limit. The windows follow ``shutterbox.clock.utcnow`` so that tests can move time.

The limiter is built once by ``bootstrap`` (``Services.rate_limiter``); what is HTTP about
limiting (the client's address, the 429 answer) is in
``shutterbox.entrypoints.http.middleware.rate_limiting``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from shutterbox.clock import utcnow
from shutterbox.config import Settings
from shutterbox.domain.errors import RateLimited

LOGIN = "login"
UPLOAD = "upload"
COMMENT = "comment"
REPORT = "report"

_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour)s?\s*$", re.IGNORECASE)
_MAX_KEYS = 100_000  # beyond this, windows that have ended are dropped first


@dataclass(frozen=True)
class Rate:
    count: int
    period_seconds: float

    def __str__(self) -> str:
        name = {v: k for k, v in _PERIODS.items()}.get(self.period_seconds, "window")
        return f"{self.count}/{name}"


def parse_rate(raw: str) -> Rate | None:
    """``"10/minute"`` → Rate(10, 60). Empty or a count of 0: no limit (None)."""
    if not raw or not raw.strip():
        return None
    match = _RATE.match(raw)
    if match is None:
        raise ValueError(
            f"{raw!r} is not a rate: write N/second, N/minute or N/hour (0 or empty: no limit)"
        )
    count = int(match[1])
    if count == 0:
        return None
    return Rate(count, _PERIODS[match[2].lower()])


def _now() -> float:
    return utcnow().timestamp()


class RateLimiter:
    """Fixed windows: at most ``rate.count`` hits per key in each ``rate.period_seconds``."""

    def __init__(self, rates: dict[str, Rate | None]) -> None:
        self.rates = rates
        self._windows: dict[tuple[str, str], tuple[int, int]] = {}  # key → (window, hits)

    def _window(self, rate: Rate, now: float) -> int:
        return math.floor(now / rate.period_seconds)

    def hit(self, kind: str, key: str, message: str) -> None:
        """Count one hit; over the limit raise RateLimited (nothing is counted then)."""
        rate = self.rates.get(kind)
        if rate is None:
            return
        now = _now()
        window = self._window(rate, now)
        seen, hits = self._windows.get((kind, key), (window, 0))
        if seen != window:
            hits = 0
        if hits >= rate.count:
            retry_after = max(1, math.ceil((window + 1) * rate.period_seconds - now))
            raise RateLimited(f"{message} ({rate}): try again in {retry_after} s", retry_after)
        if len(self._windows) >= _MAX_KEYS:
            self._forget_ended(now)
        self._windows[(kind, key)] = (window, hits + 1)

    def refund(self, kind: str, key: str) -> None:
        """Take back one hit of the current window (e.g. a login that succeeded)."""
        rate = self.rates.get(kind)
        entry = self._windows.get((kind, key))
        if rate is None or entry is None:
            return
        window, hits = entry
        if window == self._window(rate, _now()) and hits > 0:
            self._windows[(kind, key)] = (window, hits - 1)

    def _forget_ended(self, now: float) -> None:
        for (kind, key), (window, _hits) in list(self._windows.items()):
            rate = self.rates.get(kind)
            if rate is None or window != self._window(rate, now):
                del self._windows[(kind, key)]
        if len(self._windows) >= _MAX_KEYS:  # all current: start over rather than grow
            self._windows.clear()


def limiter_from(settings: Settings) -> RateLimiter:
    """The limiter for the configured rates (``login_rate``, ``upload_rate``,
    ``comment_rate``, ``report_rate``)."""
    return RateLimiter(
        {
            LOGIN: parse_rate(settings.login_rate),
            UPLOAD: parse_rate(settings.upload_rate),
            COMMENT: parse_rate(settings.comment_rate),
            REPORT: parse_rate(settings.report_rate),
        }
    )


def login_key(username: str, client: str) -> str:
    """The key login attempts are counted by: the username (as it is looked up) and the
    client's address."""
    return f"{username.strip().lower()}|{client}"


def hit_login(limiter: RateLimiter, username: str, client: str) -> None:
    """Count a login attempt for this username from this client (before checking the
    password); call ``login_succeeded`` afterwards so that only failures use up the limit."""
    limiter.hit(LOGIN, login_key(username, client), "too many login attempts")


def login_succeeded(limiter: RateLimiter, username: str, client: str) -> None:
    limiter.refund(LOGIN, login_key(username, client))


def hit_upload(limiter: RateLimiter, user_id: int) -> None:
    limiter.hit(UPLOAD, str(user_id), "too many uploads")


def hit_comment(limiter: RateLimiter, user_id: int) -> None:
    limiter.hit(COMMENT, str(user_id), "too many comments")
