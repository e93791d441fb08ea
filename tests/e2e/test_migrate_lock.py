"""`shutterbox migrate` under a lock: two at once on a fresh database both succeed and the
schema is brought to head once (an advisory lock on PostgreSQL, a file lock on SQLite); a
migration waits while another process holds the lock."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from shutterbox.adapters.db.engine import Database, open_database
from shutterbox.adapters.db.migrate import MIGRATION_LOCK_KEY, lock_file, upgrade_to_head
from tests.support.processes import clean_env, shutterbox_command

pytestmark = pytest.mark.e2e

HEAD = sorted(
    p.name.split("_", 1)[0]
    for p in (
        Path(__file__).resolve().parents[2] / "src/shutterbox/adapters/db/migrations/versions"
    ).glob("0*.py")
)[-1]


async def _versions(url: str) -> list[str]:
    db = open_database(url)
    try:
        async with db.reader.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return [row[0] for row in rows]
    finally:
        await db.dispose()


def test_two_migrations_at_once_both_succeed(database_url: str, tmp_path: Path):
    processes = [
        subprocess.Popen(
            shutterbox_command("migrate"),
            env=clean_env(
                SHUTTERBOX_DATA_DIR=str(tmp_path / f"data{n}"),
                SHUTTERBOX_DATABASE_URL=database_url,
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    for process in processes:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err
        assert "database is at the latest schema" in out
    assert asyncio.run(_versions(database_url)) == [HEAD]


async def test_a_migration_waits_for_the_lock_another_process_holds(
    database_url: str, caplog: pytest.LogCaptureFixture
):
    db = open_database(database_url)
    caplog.set_level(logging.INFO, logger="shutterbox.adapters.db.migrate")
    try:
        release = await _hold_the_lock(db)
        migrating = asyncio.create_task(upgrade_to_head(db))
        while "waiting for another process's migrations" not in caplog.text:
            assert not migrating.done(), migrating.exception()
            await asyncio.sleep(0.05)
        assert not migrating.done()  # it waits as long as the lock is held
        await release()
        await migrating
        assert await _versions(database_url) == [HEAD]
    finally:
        await db.dispose()


async def _hold_the_lock(db: Database) -> Callable[[], Awaitable[None]]:
    """Take the migrations' lock as another process would; a coroutine function that
    lets it go."""
    if db.is_sqlite:
        path = lock_file(db)
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(descriptor, fcntl.LOCK_EX)

        async def release_file() -> None:
            os.close(descriptor)

        return release_file
    other = open_database(db.url)
    conn = await other.writer.connect()
    await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    await conn.commit()

    async def release_advisory() -> None:
        await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        await conn.commit()
        await conn.close()
        await other.dispose()

    return release_advisory
