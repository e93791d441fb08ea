"""Rate-limit counters in the metadata database (``SHUTTERBOX_RATE_LIMIT_URL=db://``, the
default on PostgreSQL and with several API processes): every node counts in the same row.

A hit is one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING`` on the key's row,
the same statement on SQLite and PostgreSQL: it starts the row over in a newer window, adds
one while the window is under its limit, and returns nothing (so nothing is counted) once it
is full. The row is locked for the statement, so two nodes never both take the last hit. A
node whose clock lags counts into the newer window it finds. Rows of windows long over are
deleted at most once a minute per process."""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import case, delete, or_, update

from shutterbox.adapters.db.dialect import insert_for
from shutterbox.adapters.db.engine import Database
from shutterbox.adapters.db.tables_limits import rate_limit_counters as counters

MAX_KEY = 200  # the column's length; longer keys are hashed
SWEEP_SECONDS = 60.0


def _stored(key: str) -> str:
    if len(key) <= MAX_KEY:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


class SqlRateCounters:
    """``RateCounters`` in the ``rate_limit_counters`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._next_sweep = 0.0

    async def take(self, key: str, window: int, limit: int, ends_at: float) -> bool:
        async with self.db.writer.begin() as conn:
            statement = insert_for(conn, counters).values(
                key=_stored(key), window_index=window, hits=1, ends_at=ends_at
            )
            newer = counters.c.window_index < statement.excluded.window_index
            statement = statement.on_conflict_do_update(
                index_elements=[counters.c.key],
                set_={
                    "hits": case((newer, 1), else_=counters.c.hits + 1),
                    "window_index": case(
                        (newer, statement.excluded.window_index), else_=counters.c.window_index
                    ),
                    "ends_at": case((newer, statement.excluded.ends_at), else_=counters.c.ends_at),
                },
                where=or_(newer, counters.c.hits < limit),
            ).returning(counters.c.hits)
            counted = (await conn.execute(statement)).first() is not None
        if time.monotonic() >= self._next_sweep:
            await self._sweep(started=ends_at * window / (window + 1))
        return counted

    async def give_back(self, key: str, window: int) -> None:
        async with self.db.writer.begin() as conn:
            await conn.execute(
                update(counters)
                .where(
                    counters.c.key == _stored(key),
                    counters.c.window_index == window,
                    counters.c.hits > 0,
                )
                .values(hits=counters.c.hits - 1)
            )

    async def _sweep(self, started: float) -> None:
        """Delete the rows whose window ended before ``started`` (the start of a current
        window, so no earlier than now): they would be started over anyway."""
        self._next_sweep = time.monotonic() + SWEEP_SECONDS
        async with self.db.writer.begin() as conn:
            await conn.execute(delete(counters).where(counters.c.ends_at <= started))

    async def close(self) -> None:
        """The database is the metadata's, closed with it."""
