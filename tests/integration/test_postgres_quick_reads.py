"""PostgreSQL's bounded reads run in autocommit on a pool that pings a connection only when
it has sat idle: after the server dropped every connection (a restart), the next read still
succeeds."""

from __future__ import annotations

import weakref
from collections import Counter

import pytest
from asyncpg.exceptions._base import InternalClientError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shutterbox.adapters.db import engine as engines
from shutterbox.adapters.db import lean_reads
from shutterbox.adapters.db.engine import open_database
from shutterbox.adapters.db.metadata import SqlMetadata
from shutterbox.adapters.db.migrate import upgrade_to_head
from shutterbox.clock import utcnow
from tests.support.servers import postgres_database

_DROP_OTHER_CONNECTIONS = text(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


async def _read_once(metadata: SqlMetadata) -> None:
    async with metadata.quick_read() as tx:
        assert await tx.users.by_name("nobody") is None


@pytest.mark.parametrize("idle_seconds", [0.0, 3600.0])
async def test_a_read_after_the_server_dropped_its_connections(
    monkeypatch: pytest.MonkeyPatch, idle_seconds: float
) -> None:
    monkeypatch.setattr(engines, "IDLE_BEFORE_PING_SECONDS", idle_seconds)
    with postgres_database() as url:
        db = open_database(url)
        await upgrade_to_head(db)
        metadata = SqlMetadata(db)
        try:
            await _read_once(metadata)  # a pooled connection now exists
            async with db.writer.connect() as conn:
                await conn.execute(_DROP_OTHER_CONNECTIONS)
            if idle_seconds == 0.0:  # idle long enough: pinged, found dead, replaced
                await _read_once(metadata)
            else:  # in constant use, not pinged: that one read fails, the next one is fine
                with pytest.raises(DBAPIError) as failed:
                    await _read_once(metadata)
                assert failed.value.connection_invalidated  # so the pool replaces it
                await _read_once(metadata)
        finally:
            await db.dispose()


class _StuckProtocol:
    """An asyncpg connection that the server cut mid-exchange: not closed, yet every
    statement fails client-side, as asyncpg reports it ("cannot switch to state ...")."""

    def __init__(self, real: object) -> None:
        self._real = real

    def is_closed(self) -> bool:
        return False

    def __getattr__(self, name: str) -> object:
        if name in {"prepare", "fetch", "execute"}:

            async def _fail(*_args: object, **_kwargs: object) -> None:
                raise InternalClientError(
                    "cannot switch to state 12; another operation (2) is in progress"
                )

            return _fail
        return getattr(self._real, name)


async def _token_look_up(metadata: SqlMetadata) -> None:
    async with metadata.quick_read() as tx:  # a prebuilt statement: direct from its second run
        assert await tx.users.by_token("0" * 64, utcnow()) is None


async def test_a_connection_broken_on_the_client_side_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its read fails once, on the direct path and then through SQLAlchemy, which reports
    it and replaces the connection; the next read is fine."""
    monkeypatch.setattr(lean_reads, "runs", Counter())
    monkeypatch.setattr(lean_reads, "_compiled", weakref.WeakKeyDictionary())  # as if new
    monkeypatch.setattr(lean_reads, "_seen_once", weakref.WeakKeyDictionary())
    with postgres_database() as url:
        db = open_database(url)
        await upgrade_to_head(db)
        metadata = SqlMetadata(db)
        assert db.quick_reader is not None
        try:
            for _ in range(2):  # the second time, the statement runs direct
                await _token_look_up(metadata)
            assert lean_reads.runs == {"direct": 1}
            async with db.quick_reader.connect() as conn:  # the pool's one connection
                adapted = (await conn.get_raw_connection()).dbapi_connection
                adapted._connection = _StuckProtocol(adapted._connection)  # type: ignore[union-attr]
                adapted._prepared_statement_cache.clear()  # type: ignore[union-attr]  # stuck too
            with pytest.raises(DBAPIError) as failed:
                await _token_look_up(metadata)
            assert failed.value.connection_invalidated
            assert lean_reads.runs["failed"] == 1
            await _token_look_up(metadata)  # on a fresh connection, not the stuck one
            assert lean_reads.runs["direct"] == 2
        finally:
            await db.dispose()
