"""Queries over the metadata tables, returning domain objects."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.rows import image_columns, image_from_row, user_from_row
from shutterbox.adapters.db.tables import follows, image_tags, images, users, variants
from shutterbox.domain.images import Image, Status, Variant, Visibility
from shutterbox.domain.storage import StorageClass
from shutterbox.domain.users import User


async def _attach_variants(conn: AsyncConnection, rows: Sequence[Any]) -> list[Image]:
    if not rows:
        return []
    ids = [row.id for row in rows]
    by_image: dict[str, list[Any]] = {i: [] for i in ids}
    for v in await conn.execute(select(variants).where(variants.c.image_id.in_(ids))):
        by_image[v.image_id].append(v)
    return [image_from_row(row, by_image[row.id]) for row in rows]


async def get_image(conn: AsyncConnection, image_id: str) -> Image | None:
    row = (
        await conn.execute(
            select(*image_columns)
            .join(users, users.c.id == images.c.owner_id)
            .where(images.c.id == image_id)
        )
    ).first()
    if row is None:
        return None
    return (await _attach_variants(conn, [row]))[0]


async def find_duplicate(conn: AsyncConnection, owner_id: int, sha256: str) -> Image | None:
    """The owner's live image with exactly these original bytes, if any."""
    image_id = await conn.scalar(
        select(images.c.id)
        .where(
            images.c.owner_id == owner_id,
            images.c.original_sha256 == sha256,
            images.c.deleted_at.is_(None),
        )
        .order_by(images.c.created_at)
        .limit(1)
    )
    return await get_image(conn, image_id) if image_id else None


async def insert_image(conn: AsyncConnection, image: Image) -> None:
    await conn.execute(
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
        await conn.execute(
            image_tags.insert(),
            [{"image_id": image.id, "tag": t, "created_at": image.created_at} for t in image.tags],
        )


async def save_processed(
    conn: AsyncConnection, image_id: str, fields: dict[str, Any], new_variants: list[Variant]
) -> bool:
    """Mark the image ready with its variants; False if it was deleted meanwhile."""
    result = await conn.execute(
        update(images)
        .where(images.c.id == image_id, images.c.deleted_at.is_(None))
        .values(status=Status.READY.value, failure_reason=None, **fields)
    )
    if result.rowcount != 1:
        return False
    await conn.execute(delete(variants).where(variants.c.image_id == image_id))
    await conn.execute(
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
            for v in new_variants
        ],
    )
    return True


async def mark_failed(conn: AsyncConnection, image_id: str, reason: str, when: datetime) -> None:
    await conn.execute(
        update(images)
        .where(images.c.id == image_id, images.c.status != Status.READY.value)
        .values(status=Status.FAILED.value, failure_reason=reason[:500], processed_at=when)
    )


async def update_details(conn: AsyncConnection, image: Image, values: dict[str, Any]) -> bool:
    """Change an undeleted image's columns; new ``tags`` replace its tag rows, which keep the
    image's own created_at (tag pages stay in upload order). False if it was deleted."""
    result = await conn.execute(
        update(images)
        .where(images.c.id == image.id, images.c.deleted_at.is_(None))
        .values(**values)
    )
    if result.rowcount != 1:
        return False
    if "tags" in values:
        await conn.execute(delete(image_tags).where(image_tags.c.image_id == image.id))
        if values["tags"]:
            await conn.execute(
                image_tags.insert(),
                [
                    {"image_id": image.id, "tag": t, "created_at": image.created_at}
                    for t in values["tags"]
                ],
            )
    return True


async def mark_processing_again(conn: AsyncConnection, image_id: str) -> bool:
    """Put a failed, undeleted image back to processing; False if it is not one."""
    result = await conn.execute(
        update(images)
        .where(
            images.c.id == image_id,
            images.c.status == Status.FAILED.value,
            images.c.deleted_at.is_(None),
        )
        .values(status=Status.PROCESSING.value, failure_reason=None, processed_at=None)
    )
    return bool(result.rowcount == 1)


async def mark_deleted(conn: AsyncConnection, image_id: str, when: datetime) -> None:
    await conn.execute(
        update(images)
        .where(images.c.id == image_id, images.c.deleted_at.is_(None))
        .values(deleted_at=when)
    )


async def remove_image(conn: AsyncConnection, image_id: str) -> None:
    await conn.execute(delete(images).where(images.c.id == image_id))


def _before(cursor: tuple[datetime, str] | None, created: Any, ident: Any) -> Any:
    if cursor is None:
        return True
    at, image_id = cursor
    return or_(created < at, and_(created == at, ident < image_id))


async def list_images(
    conn: AsyncConnection,
    *,
    limit: int,
    cursor: tuple[datetime, str] | None,
    owner_id: int | None = None,
    tag: str | None = None,
    include_private: bool = False,
    home_of: int | None = None,
) -> list[Image]:
    """Ready, undeleted images, newest first, strictly after ``cursor`` (keyset pagination).
    ``home_of``: that user's own images and the public ones of the people they follow."""
    query = select(*image_columns).join(users, users.c.id == images.c.owner_id)
    conditions = [images.c.status == Status.READY.value, images.c.deleted_at.is_(None)]
    if home_of is not None:
        followed = select(follows.c.followee_id).where(follows.c.follower_id == home_of)
        conditions.append(
            or_(
                images.c.owner_id == home_of,
                and_(
                    images.c.owner_id.in_(followed),
                    images.c.visibility == Visibility.PUBLIC.value,
                ),
            )
        )
    elif not include_private:
        conditions.append(images.c.visibility == Visibility.PUBLIC.value)
    if owner_id is not None:
        conditions.append(images.c.owner_id == owner_id)
    if tag is not None:
        query = query.join(image_tags, image_tags.c.image_id == images.c.id)
        conditions.append(image_tags.c.tag == tag)
        conditions.append(_before(cursor, image_tags.c.created_at, image_tags.c.image_id))
        order = [image_tags.c.created_at.desc(), image_tags.c.image_id.desc()]
    else:
        conditions.append(_before(cursor, images.c.created_at, images.c.id))
        order = [images.c.created_at.desc(), images.c.id.desc()]
    rows = (await conn.execute(query.where(*conditions).order_by(*order).limit(limit))).all()
    return await _attach_variants(conn, rows)


async def get_user_by_name(conn: AsyncConnection, username: str) -> User | None:
    row = (await conn.execute(select(users).where(users.c.username == username))).first()
    return user_from_row(row) if row else None


async def restore_deleted(conn: AsyncConnection, image_id: str, deleted_after: datetime) -> bool:
    """Take an image out of the trash if it went there after ``deleted_after``."""
    result = await conn.execute(
        update(images)
        .where(
            images.c.id == image_id,
            images.c.deleted_at.is_not(None),
            images.c.deleted_at > deleted_after,
        )
        .values(deleted_at=None)
    )
    return bool(result.rowcount == 1)


async def list_trash(
    conn: AsyncConnection, owner_id: int, *, limit: int, cursor: tuple[datetime, str] | None
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
    return await _attach_variants(conn, (await conn.execute(query)).all())


async def set_original_class(
    conn: AsyncConnection, image_id: str, storage_class: StorageClass
) -> None:
    await conn.execute(
        update(images)
        .where(images.c.id == image_id)
        .values(original_storage_class=storage_class.value)
    )


async def set_original_restore(
    conn: AsyncConnection,
    image_id: str,
    *,
    requested_at: datetime | None,
    restored_until: datetime | None,
) -> None:
    await conn.execute(
        update(images)
        .where(images.c.id == image_id)
        .values(original_restore_requested_at=requested_at, original_restored_until=restored_until)
    )


async def originals_due(
    conn: AsyncConnection,
    *,
    created_before: datetime,
    classes: list[StorageClass],
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Any]:
    """Ready, undeleted images created before ``created_before`` whose original is recorded
    in one of ``classes``: (id, created_at, original_key, original_storage_class) rows,
    oldest first, after the ``after`` position."""
    conditions = [
        images.c.status == Status.READY.value,
        images.c.deleted_at.is_(None),
        images.c.created_at <= created_before,
        images.c.original_storage_class.in_([c.value for c in classes]),
    ]
    if after is not None:
        at, image_id = after
        conditions.append(
            or_(images.c.created_at > at, and_(images.c.created_at == at, images.c.id > image_id))
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
    return list((await conn.execute(query)).all())


async def restores_ended(conn: AsyncConnection, now: datetime, limit: int) -> list[Any]:
    """(id, original_key) of originals whose restored copy ran out."""
    query = (
        select(images.c.id, images.c.original_key)
        .where(images.c.original_restored_until <= now)
        .limit(limit)
    )
    return list((await conn.execute(query)).all())


async def trash_expired(conn: AsyncConnection, deleted_before: datetime, limit: int) -> list[str]:
    query = select(images.c.id).where(images.c.deleted_at <= deleted_before).limit(limit)
    return list((await conn.scalars(query)).all())


async def failed_expired(conn: AsyncConnection, created_before: datetime, limit: int) -> list[str]:
    query = (
        select(images.c.id)
        .where(
            images.c.status == Status.FAILED.value,
            images.c.deleted_at.is_(None),
            images.c.created_at <= created_before,
        )
        .limit(limit)
    )
    return list((await conn.scalars(query)).all())
