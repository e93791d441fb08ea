"""PostgreSQL's bounded reads run in autocommit on a pool that pings a connection only when
it has sat idle: after the server dropped every connection (a restart), the next read still
succeeds."""

from __future__ import annotations

import pytest
from sqlalchemy import text

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
                with pytest.raises(Exception, match="connection"):
                    await _read_once(metadata)
                await _read_once(metadata)
        finally:
            await db.dispose()
