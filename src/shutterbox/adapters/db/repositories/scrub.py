"""The scrub's queries: image rows with every variant they name, paged by id, and which of a
batch of stored keys some row still names.

The repository takes the ``Database`` and opens its own read connections; the scrub writes
nothing through it (remaking variants goes through the processing service)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.engine import Database
from shutterbox.adapters.db.rows import (
    image_columns,
    image_from_row,
    image_variants,
    variant_columns,
    variant_from_row,
)
from shutterbox.adapters.db.tables import direct_uploads, images, users, variants
from shutterbox.domain.images import Variant
from shutterbox.ports.scrub import ImageBlobs


class ScrubRepository:
    """``ScrubQueries`` on the metadata database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def count_images(self) -> int:
        async with self._db.reader.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(images)) or 0)

    async def images_after(self, after: str, limit: int) -> list[ImageBlobs]:
        """Up to ``limit`` images whose id sorts after ``after``, by id."""
        async with self._db.reader.connect() as conn:
            return await _load(conn, images.c.id > after, limit=limit)

    async def image(self, image_id: str) -> ImageBlobs | None:
        """One image read afresh, or None if it no longer exists."""
        async with self._db.reader.connect() as conn:
            found = await _load(conn, images.c.id == image_id, limit=1)
        return found[0] if found else None

    @asynccontextmanager
    async def key_lookup(self) -> AsyncIterator[SqlKeyLookup]:
        """Lookups of stored keys against the rows, all from one read of the database."""
        async with self._db.reader.connect() as conn:
            yield SqlKeyLookup(conn)


class SqlKeyLookup:
    """Which rows name which keys. ``kept_after``: a direct upload still wants its bytes if it
    is not completed and expires after this moment."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def original_keys(self, image_ids: Collection[str]) -> dict[str, str]:
        """The original's key of each of these images that exists, by image id."""
        if not image_ids:
            return {}
        query = select(images.c.id, images.c.original_key).where(
            images.c.id.in_(sorted(set(image_ids)))
        )
        return {row.id: row.original_key for row in await self._conn.execute(query)}

    async def open_upload_keys(
        self, upload_ids: Collection[str], kept_after: datetime
    ) -> dict[str, str]:
        """The key of each of these direct uploads that is still open, by upload id."""
        if not upload_ids:
            return {}
        query = select(direct_uploads.c.id, direct_uploads.c.key).where(
            direct_uploads.c.id.in_(sorted(set(upload_ids))), _open_upload(kept_after)
        )
        return {row.id: row.key for row in await self._conn.execute(query)}

    async def named_keys(self, keys: Collection[str], kept_after: datetime) -> set[str]:
        """Those of ``keys`` that an image's original, a variant or an open upload names."""
        candidates = list(keys)
        named: set[str] = set()
        for query in (
            select(images.c.original_key).where(images.c.original_key.in_(candidates)),
            select(variants.c.key).where(variants.c.key.in_(candidates)),
            select(direct_uploads.c.key).where(
                direct_uploads.c.key.in_(candidates), _open_upload(kept_after)
            ),
        ):
            named.update(await self._conn.scalars(query))
        return named


def _open_upload(kept_after: datetime) -> ColumnElement[bool]:
    return and_(direct_uploads.c.completed_at.is_(None), direct_uploads.c.expires_at > kept_after)


async def _load(conn: AsyncConnection, *conditions: Any, limit: int) -> list[ImageBlobs]:
    rows = (
        await conn.execute(
            select(*image_columns)
            .join(users, users.c.id == images.c.owner_id)
            .where(*conditions)
            .order_by(images.c.id)
            .limit(limit)
        )
    ).all()
    if not rows:
        return []
    by_image: dict[str, list[Variant]] = {row.id: [] for row in rows}
    query = select(*variant_columns).where(variants.c.image_id.in_(list(by_image)))
    for v in await conn.execute(query.order_by(variants.c.image_id, variants.c.key)):
        by_image[v.image_id].append(variant_from_row(v))
    return [
        ImageBlobs(image_from_row(row, image_variants(by_image[row.id])), by_image[row.id])
        for row in rows
    ]
