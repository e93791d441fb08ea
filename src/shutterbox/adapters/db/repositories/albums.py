"""Albums: their rows, their entries (image and position) and the album's page of images."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    Select,
    String,
    bindparam,
    delete,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.repositories.image_lists import IMAGES_BY_ID
from shutterbox.adapters.db.repositories.images import SqlImages
from shutterbox.adapters.db.tables import album_images, albums, images, users
from shutterbox.domain.albums import Album, position_between
from shutterbox.domain.images import Image, Status, Visibility
from shutterbox.ports.albums import EntryPosition, Position

_LIMIT = bindparam("limit", type_=Integer)
_ALBUM_COLUMNS = (
    albums.c.id,
    albums.c.owner_id,
    users.c.username,
    albums.c.title,
    albums.c.description,
    albums.c.visibility,
    albums.c.cover_image_id,
    albums.c.created_at,
    albums.c.updated_at,
)


def _album(row: Any) -> Album:
    values = list(row)
    values[5] = Visibility(values[5])
    return Album(*values)


def _with_owner() -> Select[Any]:
    return select(*_ALBUM_COLUMNS).join(users, users.c.id == albums.c.owner_id)


@cache
def albums_list(*, include_private: bool, after_cursor: bool) -> Select[Any]:
    """An owner's albums, newest first: one seek of ``ix_albums_owner`` (or, public ones
    only, ``ix_albums_owner_visible``). Parameters: ``owner_id``, ``limit``, ``at`` and
    ``after_id`` after a cursor."""
    conditions = [albums.c.owner_id == bindparam("owner_id", type_=Integer)]
    if not include_private:
        conditions.append(albums.c.visibility == Visibility.PUBLIC.value)
    if after_cursor:
        at, after_id = bindparam("at", type_=DateTime), bindparam("after_id", type_=String)
        conditions.append(tuple_(albums.c.created_at, albums.c.id) < tuple_(at, after_id))
    return (
        _with_owner()
        .where(*conditions)
        .order_by(albums.c.created_at.desc(), albums.c.id.desc())
        .limit(_LIMIT)
    )


@cache
def album_images_list(
    *, include_private: bool, ready_only: bool, after_cursor: bool
) -> Select[Any]:
    """An album's undeleted images in order (position, then image id): one seek of
    ``ix_album_images_order``, each image by its primary key. Parameters: ``album_id``,
    ``limit``, ``at`` and ``after_id`` after a cursor."""
    entry = album_images.c
    conditions = [
        entry.album_id == bindparam("album_id", type_=String),
        images.c.deleted_at.is_(None),
    ]
    if ready_only:
        conditions.append(images.c.status == Status.READY.value)
    if not include_private:
        conditions.append(images.c.visibility == Visibility.PUBLIC.value)
    if after_cursor:
        at, after_id = bindparam("at", type_=BigInteger), bindparam("after_id", type_=String)
        conditions.append(tuple_(entry.position, entry.image_id) > tuple_(at, after_id))
    return (
        select(entry.position, images.c.id, images.c.version)
        .select_from(album_images)
        .join(images, images.c.id == entry.image_id)
        .where(*conditions)
        .order_by(entry.position, entry.image_id)
        .limit(_LIMIT)
    )


class SqlAlbums:
    """``AlbumRepository`` on one connection; the images come through ``SqlImages`` (and its
    caches)."""

    def __init__(self, conn: AsyncConnection, image_repository: SqlImages) -> None:
        self.conn = conn
        self.image_repository = image_repository

    async def create(self, album: Album) -> None:
        await self.conn.execute(
            insert(albums).values(
                id=album.id,
                owner_id=album.owner_id,
                title=album.title,
                description=album.description,
                visibility=album.visibility.value,
                cover_image_id=album.cover_image_id,
                created_at=album.created_at,
                updated_at=album.updated_at,
            )
        )

    async def get(self, album_id: str) -> Album | None:
        row = (await self.conn.execute(_with_owner().where(albums.c.id == album_id))).first()
        return _album(row) if row is not None else None

    async def update(self, album_id: str, values: Mapping[str, Any]) -> None:
        changes = dict(values)
        if isinstance(changes.get("visibility"), Visibility):
            changes["visibility"] = changes["visibility"].value
        await self.conn.execute(update(albums).where(albums.c.id == album_id).values(changes))

    async def remove(self, album_id: str) -> None:
        await self.conn.execute(delete(albums).where(albums.c.id == album_id))

    async def forget_owner(self, owner_id: int) -> None:
        await self.conn.execute(delete(albums).where(albums.c.owner_id == owner_id))

    async def of_owner(
        self, owner_id: int, *, include_private: bool, limit: int, cursor: Position | None
    ) -> list[Album]:
        query = albums_list(include_private=include_private, after_cursor=cursor is not None)
        parameters: dict[str, Any] = {"owner_id": owner_id, "limit": limit}
        if cursor is not None:
            parameters["at"], parameters["after_id"] = cursor
        return [_album(row) for row in (await self.conn.execute(query, parameters)).all()]

    async def add_image(self, album_id: str, image_id: str, added_at: datetime) -> bool:
        if await self._position(album_id, image_id) is not None:
            return False
        last = await self.conn.scalar(
            select(func.max(album_images.c.position)).where(album_images.c.album_id == album_id)
        )
        position = position_between(None if last is None else int(last), None)
        await self.conn.execute(
            insert(album_images).values(
                album_id=album_id, image_id=image_id, position=position, added_at=added_at
            )
        )
        return True

    async def _position(self, album_id: str, image_id: str) -> int | None:
        found = await self.conn.scalar(
            select(album_images.c.position).where(
                album_images.c.album_id == album_id, album_images.c.image_id == image_id
            )
        )
        return None if found is None else int(found)

    async def remove_image(self, album_id: str, image_id: str) -> bool:
        result = await self.conn.execute(
            delete(album_images).where(
                album_images.c.album_id == album_id, album_images.c.image_id == image_id
            )
        )
        return bool(result.rowcount)

    async def has_image(self, album_id: str, image_id: str) -> bool:
        found = await self.conn.scalar(
            select(album_images.c.image_id)
            .join(images, images.c.id == album_images.c.image_id)
            .where(
                album_images.c.album_id == album_id,
                album_images.c.image_id == image_id,
                images.c.deleted_at.is_(None),
            )
        )
        return found is not None

    async def positions(self, album_id: str) -> list[tuple[str, int]]:
        rows = await self.conn.execute(
            select(album_images.c.image_id, album_images.c.position)
            .where(album_images.c.album_id == album_id)
            .order_by(album_images.c.position, album_images.c.image_id)
        )
        return [(str(image_id), int(position)) for image_id, position in rows.all()]

    async def set_positions(self, album_id: str, positions: Sequence[tuple[str, int]]) -> None:
        if not positions:
            return
        statement = (
            update(album_images)
            .where(
                album_images.c.album_id == bindparam("the_album"),
                album_images.c.image_id == bindparam("the_image"),
            )
            .values(position=bindparam("the_position"))
        )
        await self.conn.execute(
            statement,
            [
                {"the_album": album_id, "the_image": image_id, "the_position": position}
                for image_id, position in positions
            ],
        )

    async def images(
        self,
        album_id: str,
        *,
        include_private: bool,
        ready_only: bool,
        limit: int,
        cursor: EntryPosition | None,
    ) -> list[tuple[int, Image]]:
        query = album_images_list(
            include_private=include_private, ready_only=ready_only, after_cursor=cursor is not None
        )
        parameters: dict[str, Any] = {"album_id": album_id, "limit": limit}
        if cursor is not None:
            parameters["at"], parameters["after_id"] = cursor
        listed = (await self.conn.execute(query, parameters)).all()
        positions = {image_id: int(position) for position, image_id, _ in listed}

        def still_shown(image: Image) -> bool:  # an image that changed since the list was read
            return (
                image.deleted_at is None
                and (include_private or image.visibility == Visibility.PUBLIC)
                and (not ready_only or image.status == Status.READY)
            )

        found = await self.image_repository._listed_images(
            [(image_id, version) for _, image_id, version in listed], still_shown
        )
        return [(positions[image.id], image) for image in found]

    async def covers(self, image_ids: Sequence[str]) -> list[Image]:
        if not image_ids:
            return []
        rows = (await self.conn.execute(IMAGES_BY_ID, {"image_ids": list(image_ids)})).all()
        found = await self.image_repository._attach_variants(rows)
        return [image for image in found if image.deleted_at is None]
