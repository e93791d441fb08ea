"""Apply the Alembic migrations that ship inside the package, one process at a time.

Several processes may bring the schema up to date at once: two `shutterbox migrate` run by a
deployment, the API nodes and workers of a scaled installation starting together (each runs
the migrations at start). Without a lock both would find the schema behind and both would
create the same tables, and one would fail. So the migrations run under a lock that the
others wait for; they then find the schema at head and have nothing to do.

- PostgreSQL: an advisory lock (``pg_advisory_lock``) held by the migration's own connection,
  so the server releases it if the process dies.
- SQLite: ``fcntl.flock`` on a file beside the database (as ``migration_record.py`` does):
  the standard library, and the kernel releases it when the process dies, so no stale lock
  file can block a start. (The ``filelock`` package would add Windows, where shutterbox does
  not run: its sandbox needs POSIX resource limits.)
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.engine import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The advisory lock's key: a fixed number of our own (advisory locks are per database).
MIGRATION_LOCK_KEY = int.from_bytes(b"sbx-migr", "big") >> 1
log = logging.getLogger(__name__)


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


def lock_file(db: Database) -> Path | None:
    """The file that SQLite migrations lock (None for an in-memory database)."""
    database = make_url(db.url).database
    if not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".migrate-lock")


@contextlib.asynccontextmanager
async def _file_locked(path: Path) -> AsyncIterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for another process's migrations (%s)", path)
            await asyncio.to_thread(fcntl.flock, descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


@contextlib.asynccontextmanager
async def _advisory_locked(conn: AsyncConnection) -> AsyncIterator[None]:
    key = {"key": MIGRATION_LOCK_KEY}
    got = (await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), key)).scalar()
    if not got:
        log.info("waiting for another process's migrations (advisory lock %d)", key["key"])
        await conn.execute(text("SELECT pg_advisory_lock(:key)"), key)
    await conn.commit()
    try:
        yield
    finally:
        await conn.rollback()  # a failed migration leaves its transaction to end first
        await conn.execute(text("SELECT pg_advisory_unlock(:key)"), key)
        await conn.commit()


async def upgrade_to_head(db: Database) -> None:
    """Bring the schema to the latest revision, waiting for any other process doing so."""
    path = lock_file(db) if db.is_sqlite else None
    async with contextlib.AsyncExitStack() as stack:
        if path is not None:
            await stack.enter_async_context(_file_locked(path))
        conn = await stack.enter_async_context(db.writer.connect())
        if not db.is_sqlite:
            await stack.enter_async_context(_advisory_locked(conn))
        await conn.run_sync(_upgrade)
        await conn.commit()
