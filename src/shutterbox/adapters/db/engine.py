"""Async engines for the metadata database, with SQLite tuned for durability and concurrency."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from shutterbox.adapters.db.guarded import GuardedEngine, deadline_arguments
from shutterbox.domain.resilience import CircuitBreaker


@dataclass(frozen=True)
class DatabaseDeadlines:
    """How long PostgreSQL may take (``guarded.py``); SQLite, a local file, has none."""

    statement_seconds: float
    connect_seconds: float


@dataclass
class Database:
    """``writer`` runs transactions that write; ``reader`` runs read-only queries.

    On SQLite the writer opens every transaction with ``BEGIN IMMEDIATE`` so that
    writers from other processes queue on the busy timeout instead of failing with
    "database is locked" on a read-to-write upgrade; readers use WAL snapshots and
    never wait. On other databases both are the same engine.
    """

    writer: AsyncEngine
    reader: AsyncEngine
    url: str
    # SQLite only: the same file through the standard library's driver, for bounded reads
    # run on the event loop itself (``SqlMetadata.quick_read``), and for the group commit's
    # transactions, each run whole in one worker thread (``group_commit.py``).
    inline_reader: Engine | None = None
    inline_writer: Engine | None = None
    # PostgreSQL only: bounded reads (``SqlMetadata.quick_read``) in autocommit, on a pool of
    # their own that pings only connections left idle (``_ping_when_idle``): a page of a list
    # is then one round trip instead of four (ping, BEGIN, the query, ROLLBACK).
    quick_reader: AsyncEngine | None = None
    # The longest wait to open a connection of one's own (the LISTEN connection).
    connect_timeout_seconds: float = 60.0

    @property
    def is_sqlite(self) -> bool:
        return self.writer.dialect.name == "sqlite"

    async def dispose(self) -> None:
        for inline in (self.inline_reader, self.inline_writer):
            if inline is not None:
                inline.dispose()
        if self.quick_reader is not None:
            await self.quick_reader.dispose()
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


def _sqlite_engine(url: str, begin: str, **pool: Any) -> AsyncEngine:
    engine = create_async_engine(url, connect_args={"timeout": 30}, **pool)
    _tune_sqlite(engine.sync_engine, begin)
    return engine


def _tune_sqlite(engine: Engine, begin: str, busy_ms: int = 30000) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # a commit survives power loss
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)


def _inline_sqlite_reader(url: str) -> Engine:
    """Reads that never leave the event loop's thread: a pool that never makes a caller
    wait (an open read transaction may span an ``await``, so several can be open)."""
    parsed = make_url(url).set(drivername="sqlite")
    engine = create_engine(
        parsed, connect_args={"check_same_thread": False}, pool_size=4, max_overflow=-1
    )
    _tune_sqlite(engine, "BEGIN", busy_ms=100)  # WAL readers wait only on a rare recovery

    @event.listens_for(engine, "connect")
    def _bigger_cache(dbapi_connection: Any, _record: Any) -> None:
        # 32 MiB of pages instead of SQLite's 2 MiB: the top of the lists' indexes and the
        # newest rows stay in the process, not a system call away.
        dbapi_connection.execute("PRAGMA cache_size=-32768")

    return engine


def _inline_sqlite_writer(url: str) -> Engine:
    """One synchronous writer connection, used only while the process's ``writer`` connection
    is checked out (so that the two never contend with each other)."""
    parsed = make_url(url).set(drivername="sqlite")
    engine = create_engine(
        parsed, connect_args={"check_same_thread": False}, pool_size=1, max_overflow=0
    )
    _tune_sqlite(engine, "BEGIN IMMEDIATE")
    return engine


def is_server(url: str) -> bool:
    """Whether the database of ``url`` is another server (not a SQLite file)."""
    return make_url(url).get_backend_name() != "sqlite"


def open_database(
    url: str,
    *,
    deadlines: DatabaseDeadlines | None = None,
    breaker: CircuitBreaker | None = None,
) -> Database:
    """The engines of ``url``. On PostgreSQL, ``deadlines`` bound every wait (none: the
    driver's defaults, e.g. for migrations) and ``breaker`` guards every connection."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # One writer connection per process: SQLite runs one write transaction at a time
        # anyway, and waiting in the pool's FIFO queue is fair and prompt, while several
        # connections contending for the lock back off and sleep (long tail latencies).
        writer = _sqlite_engine(
            url, "BEGIN IMMEDIATE", pool_size=1, max_overflow=0, pool_timeout=60
        )
        reader = _sqlite_engine(url, "BEGIN")
        return Database(
            writer,
            reader,
            url,
            inline_reader=_inline_sqlite_reader(url),
            inline_writer=_inline_sqlite_writer(url),
        )
    bounds: dict[str, Any] = {}
    if deadlines is not None:
        bounds = deadline_arguments(deadlines.statement_seconds, deadlines.connect_seconds)
    engine = create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **bounds)
    quick = create_async_engine(
        url, isolation_level="AUTOCOMMIT", pool_size=5, max_overflow=15, **_no_parallel(bounds)
    )
    _ping_when_idle(quick.sync_engine)
    for pooled in (engine, quick):
        _replace_when_broken(pooled.sync_engine)
    if breaker is not None:
        engine, quick = GuardedEngine(engine, breaker), GuardedEngine(quick, breaker)
    return Database(
        writer=engine,
        reader=engine,
        url=url,
        quick_reader=quick,
        connect_timeout_seconds=deadlines.connect_seconds if deadlines else 60.0,
    )


def _no_parallel(arguments: dict[str, Any]) -> dict[str, Any]:
    """``arguments`` for connections whose statements are bounded reads (a page): without
    parallel workers, whose start costs more than such a statement (a search's gathering
    of a rare word's rows would otherwise start some)."""
    connect = dict(arguments.get("connect_args", {}))
    connect["server_settings"] = connect.get("server_settings", {}) | {
        "max_parallel_workers_per_gather": "0"
    }
    return arguments | {"connect_args": connect}


IDLE_BEFORE_PING_SECONDS = 5.0


def _replace_when_broken(engine: Engine) -> None:
    """Treat a client-side failure of the driver as a lost connection. A connection the
    server cut while it sat in the pool may fail its next statement not as "closed" but as
    a protocol in a state it cannot leave ("cannot switch to state ..."), and asyncpg does
    not always mark it closed: without this, the pool would hand the broken connection out
    again, and every read on it would fail."""

    @event.listens_for(engine, "handle_error")
    def _broken(context: Any) -> None:
        dbapi = context.dialect.dbapi
        if isinstance(
            context.original_exception, (dbapi.InterfaceError, dbapi.InternalClientError)
        ):
            context.is_disconnect = True


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection at checkout only if it sat unused for a while: one that is in
    constant use needs no round trip to prove it alive, and one that waited through a server
    restart is found dead here and replaced (the pool retries with a fresh connection)
    instead of failing a request. A connection cut while in use fails that one read, and
    the pool then replaces all of its connections."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < IDLE_BEFORE_PING_SECONDS:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:
            raise DisconnectionError("the pooled connection is gone") from exc
