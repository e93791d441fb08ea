"""The metadata port on SQL: a unit of work over ``Database``'s writer and reader engines.

``write()`` is one ``writer.begin()`` (on SQLite ``BEGIN IMMEDIATE``, one writer at a time);
``read()`` is one ``reader.connect()`` (on SQLite a WAL snapshot that never waits).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.engine import Database
from shutterbox.adapters.db.repositories.bill import SqlBill
from shutterbox.adapters.db.repositories.egress import SqlEgress
from shutterbox.adapters.db.repositories.follows import SqlFollows
from shutterbox.adapters.db.repositories.images import SqlImages
from shutterbox.adapters.db.repositories.scrub import ScrubRepository
from shutterbox.adapters.db.repositories.uploads import SqlUploads
from shutterbox.adapters.db.repositories.users import SqlUsers


class SqlTransaction:
    """The repositories on one open connection (``Transaction`` and ``WriteTransaction``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.connection = conn
        self.images = SqlImages(conn)
        self.users = SqlUsers(conn)
        self.follows = SqlFollows(conn)
        self.uploads = SqlUploads(conn)
        self.egress = SqlEgress(conn)
        self.bill = SqlBill(conn)


class SqlMetadata:
    """``Metadata`` on a ``Database``."""

    failures: tuple[type[Exception], ...] = (SQLAlchemyError,)

    def __init__(self, db: Database) -> None:
        self.db = db

    @property
    def dialect(self) -> str:
        return self.db.writer.dialect.name

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqlTransaction]:
        async with self.db.reader.connect() as conn:
            yield SqlTransaction(conn)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[SqlTransaction]:
        async with self.db.writer.begin() as conn:
            yield SqlTransaction(conn)

    async def ping(self) -> None:
        async with self.db.reader.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.db.dispose()

    def scrub_queries(self) -> ScrubRepository:
        return ScrubRepository(self.db)
