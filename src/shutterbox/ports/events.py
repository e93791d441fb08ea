"""Where the wake-ups of the live-status streams (``GET /api/v1/events``) come from.

A feed only says whose streams should look again; the streams read what is new from the
metadata themselves, so a wake-up that is lost delays an event but never loses it. The
adapters (``shutterbox.adapters.db.event_feeds``): on PostgreSQL one ``LISTEN`` connection
per process, on SQLite one poller per process.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Protocol

# The ids of the users who may have something new, or None: anyone may (after a reconnect).
Wake = Callable[[Collection[int] | None], None]


class EventFeed(Protocol):
    async def follow(self, wake: Wake) -> None:
        """Call ``wake`` whenever users may have something new, until cancelled. Never
        raises for a database that cannot be reached: it tries again, and says so in the
        log."""
