"""The metadata port on SQL: a unit of work over ``Database``'s writer and reader engines.

``write()`` is one ``writer.begin()`` (on SQLite ``BEGIN IMMEDIATE``, one writer at a time);
``read()`` is one ``reader.connect()`` (on SQLite a WAL snapshot that never waits).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar, cast

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.engine import Database
from shutterbox.adapters.db.group_commit import GroupCommit
from shutterbox.adapters.db.image_cache import ImageCache
from shutterbox.adapters.db.inline_connection import InlineConnection
from shutterbox.adapters.db.inline_reads import InlineSqliteReads
from shutterbox.adapters.db.lean_reads import LeanConnection
from shutterbox.adapters.db.repositories.albums import SqlAlbums
from shutterbox.adapters.db.repositories.bill import SqlBill
from shutterbox.adapters.db.repositories.blocks import SqlBlocks
from shutterbox.adapters.db.repositories.egress import SqlEgress
from shutterbox.adapters.db.repositories.follows import SqlFollows
from shutterbox.adapters.db.repositories.images import SqlImages
from shutterbox.adapters.db.repositories.moderation import SqlModeration, SqlReports
from shutterbox.adapters.db.repositories.scrub import ScrubRepository
from shutterbox.adapters.db.repositories.search import SqlSearch
from shutterbox.adapters.db.repositories.shares import SqlShares
from shutterbox.adapters.db.repositories.social import social_repositories
from shutterbox.adapters.db.repositories.uploads import SqlUploads
from shutterbox.adapters.db.repositories.users import SqlUsers
from shutterbox.adapters.db.variant_cache import VariantCache
from shutterbox.domain.resilience import DependencyDown
from shutterbox.ports.metadata import VariantFiles

T = TypeVar("T")


class SqlTransaction:
    """The repositories on one open connection (``Transaction`` and ``WriteTransaction``)."""

    def __init__(
        self,
        conn: AsyncConnection,
        variant_cache: VariantCache | None = None,
        image_cache: ImageCache | None = None,
    ) -> None:
        self.connection = conn
        self.images = SqlImages(conn, variant_cache, image_cache)
        self.users = SqlUsers(conn)
        self.follows = SqlFollows(conn)
        self.uploads = SqlUploads(conn)
        self.egress = SqlEgress(conn)
        self.bill = SqlBill(conn)
        self.search = SqlSearch(conn, self.images)
        self.albums, self.shares = SqlAlbums(conn, self.images), SqlShares(conn)
        self.likes, self.comments, self.notifications = social_repositories(conn)
        self.reports, self.moderation = SqlReports(conn), SqlModeration(conn)
        self.blocks = SqlBlocks(conn)


class SqlMetadata:
    """``Metadata`` on a ``Database``."""

    # what a read that could not be made raises (``DependencyDown``: the breaker is open)
    failures: tuple[type[Exception], ...] = (SQLAlchemyError, sqlite3.Error, DependencyDown)

    def __init__(self, db: Database) -> None:
        self.db = db
        self.variant_cache = VariantCache()
        self.image_cache = ImageCache()
        self._group_commit = (
            GroupCommit(
                db,
                db.inline_writer,
                lambda conn: SqlTransaction(
                    cast(AsyncConnection, conn), self.variant_cache, self.image_cache
                ),
            )
            if db.inline_writer is not None
            else None
        )
        inline = db.inline_reader
        self._inline = InlineSqliteReads(inline) if inline is not None else None
        # Called after each write this process commits (on SQLite the streams' poller looks
        # at once: ``event_feeds.SqliteEventPoller.committed``).
        self.after_commit: list[Callable[[], None]] = []

    @property
    def dialect(self) -> str:
        return self.db.writer.dialect.name

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqlTransaction]:
        async with self.db.reader.connect() as conn:
            yield SqlTransaction(conn, self.variant_cache, self.image_cache)

    @asynccontextmanager
    async def quick_read(self) -> AsyncIterator[SqlTransaction]:
        """``read()`` for bounded queries (a page of a list): on SQLite it runs on the event
        loop's thread (``inline_connection.py``); on PostgreSQL each statement runs on its
        own (autocommit, ``Database.quick_reader``; a repeated statement straight on asyncpg,
        ``lean_reads.py``), so the statements of one block do not
        share a snapshot."""
        inline = self.db.inline_reader
        if inline is not None:
            with inline.connect() as conn:
                yield SqlTransaction(
                    cast(AsyncConnection, InlineConnection(conn)),
                    self.variant_cache,
                    self.image_cache,
                )
            return
        quick = self.db.quick_reader
        if quick is not None:
            async with quick.connect() as conn:
                driver = (await conn.get_raw_connection()).driver_connection
                lean = cast(AsyncConnection, LeanConnection(conn, driver))
                yield SqlTransaction(lean, self.variant_cache, self.image_cache)
            return
        async with self.read() as tx:
            yield tx

    @asynccontextmanager
    async def write(self) -> AsyncIterator[SqlTransaction]:
        async with self.db.writer.begin() as conn:
            yield SqlTransaction(conn, self.variant_cache, self.image_cache)
        self._committed()

    async def write_together(self, work: Callable[[SqlTransaction], Awaitable[T]]) -> T:
        """``work`` in a write transaction that, on SQLite, it may share with other small
        writes arriving at the same time (``group_commit.py``); its result once committed."""
        if self._group_commit is not None:
            result = await self._group_commit.run(work)
            self._committed()
            return result
        async with self.write() as tx:
            return await work(tx)

    def _committed(self) -> None:
        for callback in self.after_commit:
            callback()

    async def variant_files(self, image_id: str, name: str) -> VariantFiles | None:
        if self._inline is not None:
            return self._inline.variant_files(image_id, name)
        async with self.quick_read() as tx:
            return await tx.images.variant_files(image_id, name)

    async def ping(self) -> None:
        async with self.db.reader.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.db.dispose()

    def scrub_queries(self) -> ScrubRepository:
        return ScrubRepository(self.db)
