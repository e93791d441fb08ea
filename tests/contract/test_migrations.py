"""The migrations and the table definitions describe the same schema, on both databases, and
every migration can be undone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from shutterbox.adapters.db.engine import open_database
from shutterbox.adapters.db.migrate import alembic_config, upgrade_to_head
from shutterbox.adapters.db.tables import metadata


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": False})
    return list(compare_metadata(context, metadata))


def _down_and_up(connection: Connection) -> None:
    command.downgrade(alembic_config(connection), "0005")
    command.upgrade(alembic_config(connection), "head")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


async def test_the_migrated_schema_matches_the_tables(database_url: str):
    db = open_database(database_url)
    try:
        await upgrade_to_head(db)
        async with db.writer.connect() as conn:
            assert await conn.run_sync(_differences) == []
            await conn.run_sync(_down_and_up)
            await conn.commit()
            assert await conn.run_sync(_differences) == []
    finally:
        await db.dispose()
