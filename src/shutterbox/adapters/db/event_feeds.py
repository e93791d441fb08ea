"""Wake-ups of the live-status streams, from the database (port: ``ports/events.EventFeed``).

The triggers of migration 0020 name the user whose streams should look again, in the
transaction that changed an image's status or added a notification, whichever process ran
it (the API, a worker, the CLI).

* PostgreSQL: they ``NOTIFY`` the user's id on ``CHANNEL`` at commit. ``PostgresEventListener``
  keeps one connection per process listening (asyncpg's ``add_listener``, on a connection of
  its own, out of the pool). When that connection drops it reconnects, with jittered backoff,
  and then wakes every stream: what was sent meanwhile is gone. A connection that looks
  alive but hears nothing (a half-open TCP connection) is found by a ``SELECT 1`` every
  ``check_seconds``.
* SQLite: they add a row to ``event_wakeups``. ``SqliteEventPoller`` reads the rows after the
  last it saw (one seek of the primary key, nothing found most of the time) every
  ``interval``, and at once when this process commits a write (``committed``, called by
  ``SqlMetadata``): one poller for all the process's streams, not one per stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
from collections.abc import Collection
from typing import Any

from sqlalchemy import Engine

from shutterbox.adapters.db.engine import Database
from shutterbox.ports.events import EventFeed, Wake

log = logging.getLogger(__name__)

CHANNEL = "shutterbox_events"  # the triggers' channel (migration 0020)
APPLICATION_NAME = "shutterbox events"  # how the listener shows in pg_stat_activity
RECONNECT_FIRST_SECONDS = 0.5
RECONNECT_MOST_SECONDS = 30.0
CONNECT_TIMEOUT_SECONDS = 10.0
_BATCH = 1000  # event_wakeups rows read at a time


class PostgresEventListener:
    """One ``LISTEN`` connection for the process, kept open for as long as ``follow`` runs."""

    def __init__(self, db: Database, check_seconds: float) -> None:
        self.url = db.writer.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.check_seconds = check_seconds

    def __repr__(self) -> str:
        return f"{type(self).__name__}({CHANNEL})"

    async def follow(self, wake: Wake) -> None:
        import asyncpg

        unreachable = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
        delay = RECONNECT_FIRST_SECONDS
        missed = False  # streams were open while nobody listened
        while True:
            lost = asyncio.Event()
            try:
                connection = await self._listen(wake, lost)
            except unreachable as error:
                log.warning("cannot LISTEN for stream wake-ups (%s); trying again", error)
                missed = True
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, RECONNECT_MOST_SECONDS)
                continue
            delay = RECONNECT_FIRST_SECONDS
            if missed:  # what was notified meanwhile is gone: every stream looks again
                log.info("listening for stream wake-ups again")
                wake(None)
            try:
                await self._hold(connection, lost, unreachable)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.close(), CONNECT_TIMEOUT_SECONDS)
            log.warning("the stream wake-ups' LISTEN connection was lost; reconnecting")
            missed = True

    async def _listen(self, wake: Wake, lost: asyncio.Event) -> Any:
        import asyncpg

        connection = await asyncpg.connect(
            self.url,
            timeout=CONNECT_TIMEOUT_SECONDS,
            server_settings={"application_name": APPLICATION_NAME},
        )

        def heard(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
            try:
                wake((int(payload),))
            except ValueError:  # not one of ours: look everywhere rather than miss one
                wake(None)

        try:
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(CHANNEL, heard)
        except BaseException:
            connection.terminate()
            raise
        return connection

    async def _hold(
        self, connection: Any, lost: asyncio.Event, unreachable: tuple[type[Exception], ...]
    ) -> None:
        """Until the connection is lost, or fails to answer a check."""
        while True:
            try:
                async with asyncio.timeout(self.check_seconds):
                    await lost.wait()
                return  # the server or the network closed it
            except TimeoutError:  # quiet for a while: is it still there?
                pass
            try:
                await asyncio.wait_for(connection.fetchval("SELECT 1"), CONNECT_TIMEOUT_SECONDS)
            except unreachable:
                return


class SqliteEventPoller:
    """One reader of ``event_wakeups`` for the process's streams."""

    def __init__(self, engine: Engine, interval: float) -> None:
        self.engine = engine  # synchronous: the bounded read runs on the event loop's thread
        self.interval = interval
        self._commit = asyncio.Event()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(every {self.interval}s)"

    def committed(self) -> None:
        """This process committed a write: look now, not at the next tick."""
        self._commit.set()

    async def follow(self, wake: Wake) -> None:
        last: int | None = None
        while True:
            self._commit.clear()
            try:
                last = self.read_after(last, wake)
            except sqlite3.Error as error:  # looked at again at the next tick
                log.warning("cannot read the stream wake-ups (%s)", error)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._commit.wait()

    def read_after(self, last: int | None, wake: Wake) -> int:
        """Wake the users of the rows after ``last`` (None: only find where the rows end);
        the last row's number."""
        with self.engine.connect() as conn:
            if last is None:
                query = "SELECT coalesce(max(seq), 0) FROM event_wakeups"
                return int(conn.exec_driver_sql(query).scalar_one())
            while True:
                rows = conn.exec_driver_sql(
                    "SELECT seq, user_id FROM event_wakeups WHERE seq > ? ORDER BY seq LIMIT ?",
                    (last, _BATCH),
                ).all()
                if not rows:
                    return last
                # The numbers follow each other (one writer, the newest row never dropped):
                # a gap means rows were dropped before this process read them.
                users: Collection[int] | None = {row[1] for row in rows}
                if rows[0][0] > last + 1:
                    users = None
                wake(users)
                last = int(rows[-1][0])
                if len(rows) < _BATCH:
                    return last


def open_event_feed(db: Database, poll_seconds: float, check_seconds: float) -> EventFeed:
    """The feed of ``db``: a listener on PostgreSQL, a poller every ``poll_seconds`` on
    SQLite."""
    if db.inline_reader is not None:
        return SqliteEventPoller(db.inline_reader, poll_seconds)
    return PostgresEventListener(db, check_seconds)
