"""Fixtures of the contract suites (``database_url`` is the root conftest's)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shutterbox.adapters.db.engine import open_database
from shutterbox.adapters.db.metadata import SqlMetadata
from shutterbox.adapters.db.migrate import upgrade_to_head


@pytest.fixture
async def sql(database_url: str) -> AsyncIterator[SqlMetadata]:
    """``SqlMetadata`` on a migrated database of each kind (a SQLite file, then PostgreSQL)."""
    db = open_database(database_url)
    await upgrade_to_head(db)
    try:
        yield SqlMetadata(db)
    finally:
        await db.dispose()


@pytest.fixture
async def two_processes(database_url: str) -> AsyncIterator[tuple[SqlMetadata, SqlMetadata]]:
    """Two ``SqlMetadata`` on one database: two processes, each with its own caches."""
    first, second = open_database(database_url), open_database(database_url)
    await upgrade_to_head(first)
    try:
        yield SqlMetadata(first), SqlMetadata(second)
    finally:
        await first.dispose()
        await second.dispose()
