"""The image aggregate: an image row with its variants and tag rows, and the feeds over them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, true, tuple_, update

from shutterbox.adapters.db.repositories import timeline
from shutterbox.adapters.db.repositories.image_upkeep import ImageUpkeep
from shutterbox.adapters.db.rows import image_columns, image_from_row
from shutterbox.adapters.db.tables import home_timeline, image_tags, images, users, variants
from shutterbox.domain.images import Image, Status, Variant, Visibility
from shutterbox.ports.metadata import Position


def _before(cursor: Position | None, created: Any, ident: Any) -> Any:
    """Keyset pagination as a row value, ``(created, ident) < (at, id)``: one range of an
    index ending in ``(created_at, id)`` on SQLite and PostgreSQL alike (the spelled-out
    ``created < at OR (created = at AND ident < id)`` is not, on SQLite)."""
    if cursor is None:
        return true()
    at, image_id = cursor
    return tuple_(created, ident) < tuple_(at, image_id)


_NEWEST_FIRST = (images.c.created_at.desc(), images.c.id.desc())
_SHOWN = (images.c.status == Status.READY.value, images.c.deleted_at.is_(None))


class SqlImages(ImageUpkeep):
    """``ImageRepository`` on one connection."""

    async def _attach_variants(self, rows: Sequence[Any]) -> list[Image]:
        if not rows:
            return []
        ids = [row.id for row in rows]
        by_image: dict[str, list[Any]] = {i: [] for i in ids}
        for v in await self.conn.execute(select(variants).where(variants.c.image_id.in_(ids))):
            by_image[v.image_id].append(v)
        return [image_from_row(row, by_image[row.id]) for row in rows]

    async def get(self, image_id: str) -> Image | None:
        row = (
            await self.conn.execute(
                select(*image_columns)
                .join(users, users.c.id == images.c.owner_id)
                .where(images.c.id == image_id)
            )
        ).first()
        if row is None:
            return None
        return (await self._attach_variants([row]))[0]

    async def find_duplicate(self, owner_id: int, sha256: str) -> Image | None:
        """The owner's live image with exactly these original bytes, if any."""
        image_id = await self.conn.scalar(
            select(images.c.id)
            .where(
                images.c.owner_id == owner_id,
                images.c.original_sha256 == sha256,
                images.c.deleted_at.is_(None),
            )
            .order_by(images.c.created_at)
            .limit(1)
        )
        return await self.get(image_id) if image_id else None

    async def insert(self, image: Image) -> None:
        await self.conn.execute(
            images.insert().values(
                id=image.id,
                owner_id=image.owner_id,
                status=image.status.value,
                visibility=image.visibility.value,
                caption=image.caption,
                alt_text=image.alt_text,
                tags=image.tags,
                location_name=image.location_name,
                lat=image.lat,
                lon=image.lon,
                original_key=image.original_key,
                original_media_type=image.original_media_type,
                original_bytes=image.original_bytes,
                original_sha256=image.original_sha256,
                original_storage_class=image.original_storage_class.value,
                created_at=image.created_at,
            )
        )
        if image.tags:
            await self.conn.execute(
                image_tags.insert(),
                [
                    {"image_id": image.id, "tag": t, "created_at": image.created_at}
                    for t in image.tags
                ],
            )

    async def save_processed(
        self, image_id: str, fields: Mapping[str, Any], variants_made: list[Variant]
    ) -> bool:
        """Mark the image ready with its variants; False if it was deleted meanwhile."""
        result = await self.conn.execute(
            update(images)
            .where(images.c.id == image_id, images.c.deleted_at.is_(None))
            .values(status=Status.READY.value, failure_reason=None, **fields)
        )
        if result.rowcount != 1:
            return False
        await self.conn.execute(delete(variants).where(variants.c.image_id == image_id))
        await self.conn.execute(
            variants.insert(),
            [
                {
                    "image_id": image_id,
                    "name": v.name,
                    "format": v.format,
                    "key": v.key,
                    "media_type": v.media_type,
                    "width": v.width,
                    "height": v.height,
                    "bytes": v.bytes,
                    "sha256": v.sha256,
                }
                for v in variants_made
            ],
        )
        await timeline.refresh_image(self.conn, image_id)
        return True

    async def mark_failed(self, image_id: str, reason: str, when: datetime) -> None:
        await self.conn.execute(
            update(images)
            .where(images.c.id == image_id, images.c.status != Status.READY.value)
            .values(status=Status.FAILED.value, failure_reason=reason[:500], processed_at=when)
        )

    async def update_details(self, image: Image, values: Mapping[str, Any]) -> bool:
        """Change an undeleted image's columns; new ``tags`` replace its tag rows, which keep
        the image's own created_at (tag pages stay in upload order). False if it was
        deleted."""
        result = await self.conn.execute(
            update(images)
            .where(images.c.id == image.id, images.c.deleted_at.is_(None))
            .values(**values)
        )
        if result.rowcount != 1:
            return False
        if "tags" in values:
            await self.conn.execute(delete(image_tags).where(image_tags.c.image_id == image.id))
            if values["tags"]:
                await self.conn.execute(
                    image_tags.insert(),
                    [
                        {"image_id": image.id, "tag": t, "created_at": image.created_at}
                        for t in values["tags"]
                    ],
                )
        if "visibility" in values:
            await timeline.refresh_image(self.conn, image.id)
        return True

    async def mark_processing_again(self, image_id: str) -> bool:
        """Put a failed, undeleted image back to processing; False if it is not one."""
        result = await self.conn.execute(
            update(images)
            .where(
                images.c.id == image_id,
                images.c.status == Status.FAILED.value,
                images.c.deleted_at.is_(None),
            )
            .values(status=Status.PROCESSING.value, failure_reason=None, processed_at=None)
        )
        return bool(result.rowcount == 1)

    async def mark_deleted(self, image_id: str, when: datetime) -> None:
        await self.conn.execute(
            update(images)
            .where(images.c.id == image_id, images.c.deleted_at.is_(None))
            .values(deleted_at=when)
        )
        await timeline.refresh_image(self.conn, image_id)

    async def remove(self, image_id: str) -> None:
        await self.conn.execute(delete(images).where(images.c.id == image_id))

    async def restore_deleted(self, image_id: str, deleted_after: datetime) -> bool:
        """Take an image out of the trash if it went there after ``deleted_after``."""
        result = await self.conn.execute(
            update(images)
            .where(
                images.c.id == image_id,
                images.c.deleted_at.is_not(None),
                images.c.deleted_at > deleted_after,
            )
            .values(deleted_at=None)
        )
        if result.rowcount != 1:
            return False
        await timeline.refresh_image(self.conn, image_id)
        return True

    async def feed(
        self,
        *,
        limit: int,
        cursor: Position | None,
        owner_id: int | None = None,
        tag: str | None = None,
        include_private: bool = False,
        home_of: int | None = None,
    ) -> list[Image]:
        """Ready, undeleted images, newest first, strictly after ``cursor`` (keyset
        pagination). ``home_of``: that user's own images and the public ones of the people
        they follow. Each form is one seek of an index that ends in the page's order."""
        if home_of is not None:
            return await self._home(home_of, limit, cursor)
        query = select(*image_columns).join(users, users.c.id == images.c.owner_id)
        conditions = list(_SHOWN)
        if not include_private:
            conditions.append(images.c.visibility == Visibility.PUBLIC.value)
        if owner_id is not None:
            conditions.append(images.c.owner_id == owner_id)
        if tag is not None:
            query = query.join(image_tags, image_tags.c.image_id == images.c.id)
            conditions.append(image_tags.c.tag == tag)
            conditions.append(_before(cursor, image_tags.c.created_at, image_tags.c.image_id))
            order: tuple[Any, ...] = (image_tags.c.created_at.desc(), image_tags.c.image_id.desc())
        else:
            conditions.append(_before(cursor, images.c.created_at, images.c.id))
            order = _NEWEST_FIRST
        query = query.where(*conditions).order_by(*order).limit(limit)
        return await self._attach_variants((await self.conn.execute(query)).all())

    async def _home(self, user_id: int, limit: int, cursor: Position | None) -> list[Image]:
        """The user's home from its materialised timeline (``timeline.py``); the image's own
        state is checked again, so a stale row can never show what it should not."""
        entry = home_timeline.c
        query = (
            select(*image_columns)
            .select_from(home_timeline)
            .join(images, images.c.id == entry.image_id)
            .join(users, users.c.id == images.c.owner_id)
            .where(
                entry.user_id == user_id,
                _before(cursor, entry.created_at, entry.image_id),
                *_SHOWN,
                or_(
                    images.c.visibility == Visibility.PUBLIC.value,
                    images.c.owner_id == user_id,
                ),
            )
            .order_by(entry.created_at.desc(), entry.image_id.desc())
            .limit(limit)
        )
        return await self._attach_variants((await self.conn.execute(query)).all())

    async def list_trash(
        self, owner_id: int, *, limit: int, cursor: Position | None
    ) -> list[Image]:
        """An owner's deleted images still kept, most recently deleted first."""
        conditions = [
            images.c.owner_id == owner_id,
            images.c.deleted_at.is_not(None),
            _before(cursor, images.c.deleted_at, images.c.id),
        ]
        query = (
            select(*image_columns)
            .join(users, users.c.id == images.c.owner_id)
            .where(*conditions)
            .order_by(images.c.deleted_at.desc(), images.c.id.desc())
            .limit(limit)
        )
        return await self._attach_variants((await self.conn.execute(query)).all())
