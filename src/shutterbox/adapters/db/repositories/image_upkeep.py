"""The image queries of background upkeep: the storage lifecycle (originals to move, restores
that ran out, trash and failed uploads past their retention), reprocessing and polling."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.tables import images, users
from shutterbox.domain.images import Status, Visibility
from shutterbox.domain.storage import StorageClass
from shutterbox.ports.metadata import ImageState, OriginalDue, Position, StoredOriginal

_UNSETTLED = (Status.PROCESSING.value, Status.FAILED.value)
_STATE_COLUMNS = (
    images.c.id,
    images.c.status,
    images.c.failure_reason,
    images.c.processed_at,
    images.c.created_at,
    images.c.deleted_at,
)


def _state(row: Any) -> ImageState:
    return ImageState(
        row.id, row.status, row.failure_reason, row.processed_at, row.created_at, row.deleted_at
    )


# Built once: read for every upload when a quota is set.
_STORED_BYTES = select(users.c.stored_bytes).where(users.c.id == bindparam("owner_id"))


class ImageUpkeep:
    """Queries over the images table that return ids and columns, not whole images."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def set_original_class(self, image_id: str, storage_class: StorageClass) -> None:
        await self.conn.execute(
            update(images)
            .where(images.c.id == image_id)
            .values(original_storage_class=storage_class.value)
        )

    async def set_original_restore(
        self, image_id: str, *, requested_at: datetime | None, restored_until: datetime | None
    ) -> None:
        await self.conn.execute(
            update(images)
            .where(images.c.id == image_id)
            .values(
                original_restore_requested_at=requested_at, original_restored_until=restored_until
            )
        )

    async def originals_due(
        self,
        *,
        created_before: datetime,
        classes: list[StorageClass],
        after: Position | None,
        limit: int,
    ) -> list[OriginalDue]:
        """Ready, undeleted images created before ``created_before`` whose original is
        recorded in one of ``classes``, oldest first, after the ``after`` position."""
        conditions = [
            images.c.status == Status.READY.value,
            images.c.deleted_at.is_(None),
            images.c.created_at <= created_before,
            images.c.original_storage_class.in_([c.value for c in classes]),
        ]
        if after is not None:
            at, image_id = after
            conditions.append(
                or_(
                    images.c.created_at > at,
                    and_(images.c.created_at == at, images.c.id > image_id),
                )
            )
        query = (
            select(
                images.c.id,
                images.c.created_at,
                images.c.original_key,
                images.c.original_storage_class,
            )
            .where(*conditions)
            .order_by(images.c.created_at, images.c.id)
            .limit(limit)
        )
        return [OriginalDue(*row) for row in (await self.conn.execute(query)).all()]

    async def restores_ended(self, now: datetime, limit: int) -> list[StoredOriginal]:
        """Originals whose restored copy ran out."""
        query = (
            select(images.c.id, images.c.original_key)
            .where(images.c.original_restored_until <= now)
            .limit(limit)
        )
        return [StoredOriginal(*row) for row in (await self.conn.execute(query)).all()]

    async def trash_expired(self, deleted_before: datetime, limit: int) -> list[str]:
        query = select(images.c.id).where(images.c.deleted_at <= deleted_before).limit(limit)
        return list((await self.conn.scalars(query)).all())

    async def failed_expired(self, created_before: datetime, limit: int) -> list[str]:
        query = (
            select(images.c.id)
            .where(
                images.c.status == Status.FAILED.value,
                images.c.deleted_at.is_(None),
                images.c.created_at <= created_before,
            )
            .limit(limit)
        )
        return list((await self.conn.scalars(query)).all())

    async def count_ready(self, owner_id: int, *, include_private: bool) -> int:
        """The owner's ready, undeleted images (only the public ones unless
        ``include_private``)."""
        shown = [
            images.c.owner_id == owner_id,
            images.c.status == Status.READY.value,
            images.c.deleted_at.is_(None),
        ]
        if not include_private:
            shown.append(images.c.visibility == Visibility.PUBLIC.value)
        count = await self.conn.scalar(select(func.count()).select_from(images).where(*shown))
        return int(count or 0)

    async def original_bytes(self, owner_id: int) -> int:
        """Bytes of the owner's originals: live images and those in the trash (the count the
        images repository keeps with every insert and purge)."""
        total = await self.conn.scalar(_STORED_BYTES, {"owner_id": owner_id})
        return int(total or 0)

    async def ready_since(self, moment: datetime) -> int:
        """Images that became ready since ``moment`` (one range of an index)."""
        count = await self.conn.scalar(
            select(func.count())
            .select_from(images)
            .where(images.c.processed_at >= moment, images.c.status == Status.READY.value)
        )
        return int(count or 0)

    async def live_ids(
        self,
        ids: Sequence[str] | None,
        *,
        failed_only: bool,
        processed_before: datetime | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[str]:
        query = select(images.c.id).where(images.c.deleted_at.is_(None))
        if after is not None:
            query = query.where(images.c.id > after)
        if processed_before is not None:
            query = query.where(
                or_(images.c.processed_at.is_(None), images.c.processed_at < processed_before)
            )
        if failed_only:
            query = query.where(images.c.status == Status.FAILED.value)
        elif ids is not None:
            query = query.where(images.c.id.in_(list(ids)))
        query = query.order_by(images.c.id).limit(limit)  # the primary key's order
        return list((await self.conn.execute(query)).scalars())

    async def failed_since(self, moment: datetime, limit: int) -> tuple[int, list[ImageState]]:
        failed = and_(
            images.c.processed_at >= moment,  # one range of an index
            images.c.status == Status.FAILED.value,
            images.c.deleted_at.is_(None),
        )
        count = await self.conn.scalar(select(func.count()).select_from(images).where(failed))
        query = (
            select(*_STATE_COLUMNS)
            .where(failed)
            .order_by(images.c.processed_at.desc())
            .limit(limit)
        )
        return int(count or 0), [_state(row) for row in (await self.conn.execute(query)).all()]

    async def states(self, ids: Sequence[str]) -> list[ImageState]:
        query = select(*_STATE_COLUMNS).where(images.c.id.in_(list(ids)))
        return [_state(row) for row in (await self.conn.execute(query)).all()]

    async def changing(
        self, owner_id: int, created_since: datetime, watched: Sequence[str]
    ) -> list[ImageState]:
        """In one indexed query: the owner's images created since ``created_since``, the
        owner's processing or failed ones, and the ``watched`` ones (deleted ones included)."""
        branches = [
            select(*_STATE_COLUMNS).where(
                images.c.owner_id == owner_id, images.c.created_at >= created_since
            ),
            # The owner's unsettled images, through the (owner_id, status) index: an owner's
            # library grows without end, their unsettled images stay few.
            select(*_STATE_COLUMNS).where(
                images.c.owner_id == owner_id, images.c.status.in_(_UNSETTLED)
            ),
        ]
        if watched:
            branches.append(select(*_STATE_COLUMNS).where(images.c.id.in_(list(watched))))
        return [_state(row) for row in await self.conn.execute(union(*branches))]
