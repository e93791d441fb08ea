"""Counters of the rate limits: hits per key in fixed windows.

One process may keep them in its memory; several API nodes (or ``serve --api-processes N``)
must keep them where all of them count together (the database, Redis), or a client spread
over N nodes would get N times its limit. ``tests/contract/test_rate_counters.py`` holds every
adapter to the same behaviour. Counters on a server of their own (Redis) raise ``Unavailable``
when it cannot be reached or does not answer in time."""

from __future__ import annotations

from typing import Protocol


class RateCounters(Protocol):
    async def take(self, key: str, window: int, limit: int, ends_at: float) -> bool:
        """Count one hit of ``key`` in ``window`` unless it already has ``limit`` there: True
        if the hit was counted, False if the limit was reached (nothing counted then). Two
        takes at once never both get the last hit. ``ends_at`` (seconds since the epoch) is
        when the window ends, after which its count may be forgotten."""
        ...

    async def give_back(self, key: str, window: int) -> None:
        """Take back one hit of ``key`` in ``window`` (never below 0; a window already over
        or never counted is left alone)."""
        ...

    async def close(self) -> None: ...
