"""Rates of rate limits: "N/second", "N/minute" or "N/hour", and the fixed windows they count
in."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour)s?\s*$", re.IGNORECASE)
RATE_FORMS = "N/second, N/minute or N/hour (e.g. 10/minute); 0 or empty: no limit"


@dataclass(frozen=True)
class Rate:
    count: int
    period_seconds: float

    def __str__(self) -> str:
        name = {v: k for k, v in _PERIODS.items()}.get(self.period_seconds, "window")
        return f"{self.count}/{name}"

    def window(self, now: float) -> int:
        """The number of the fixed window ``now`` (seconds since the epoch) falls in: the
        same on every node whose clock is right."""
        return math.floor(now / self.period_seconds)

    def window_end(self, window: int) -> float:
        return (window + 1) * self.period_seconds


def parse_rate(raw: str) -> Rate | None:
    """``"10/minute"`` → Rate(10, 60). Empty, ``0`` or a count of 0: no limit (None)."""
    if not raw or not raw.strip() or raw.strip() == "0":
        return None
    match = _RATE.match(raw)
    if match is None:
        raise ValueError(f"{raw!r} is not a rate: write {RATE_FORMS}")
    count = int(match[1])
    if count == 0:
        return None
    return Rate(count, _PERIODS[match[2].lower()])
