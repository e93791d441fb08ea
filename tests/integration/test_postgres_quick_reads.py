"""PostgreSQL's bounded reads run in autocommit on a pool that pings a connection only when
it has sat idle: after the server dropped every connection (a restart), the next read still
succeeds."""

from __future__ import annotations

import pytest
from asyncpg.exceptions._base import InternalClientError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shutterbox.adapters.db import engine as engines
from shutterbox.adapters.db.engine import open_database
from shutterbox.adapters.db.metadata import SqlMetadata
from shutterbox.adapters.db.migrate import upgrade_to_head
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


async def test_a_connection_broken_on_the_client_side_is_replaced() -> None:
    with postgres_database() as url:
        db = open_database(url)
        assert db.quick_reader is not None
        try:
            async with db.quick_reader.connect() as conn:
                adapted = (await conn.get_raw_connection()).dbapi_connection
                adapted._connection = _StuckProtocol(adapted._connection)  # type: ignore[union-attr]
                with pytest.raises(DBAPIError) as failed:
                    await conn.execute(text("SELECT 1"))
            assert failed.value.connection_invalidated
            async with db.quick_reader.connect() as conn:  # a fresh connection, not the stuck one
                assert (await conn.execute(text("SELECT 1"))).scalar() == 1
        finally:
            await db.dispose()
