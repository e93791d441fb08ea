"""Likes: a row per (user, image), and the image's ``like_count`` kept with it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.dialect import upsert
from shutterbox.adapters.db.tables import images, likes

_COUNT_LIKES = (
    update(images)
    .where(images.c.id == bindparam("image_id"))
    .values(like_count=images.c.like_count + bindparam("added"))
)
_LIKED = select(likes.c.image_id).where(
    likes.c.user_id == bindparam("user_id"),
    likes.c.image_id.in_(bindparam("image_ids", expanding=True)),
)


class SqlLikes:
    """``LikeRepository`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, user_id: int, image_id: str, created_at: datetime) -> bool:
        values = {"user_id": user_id, "image_id": image_id, "created_at": created_at}
        result = await self.conn.execute(upsert(self.conn, likes, values))
        if result.rowcount != 1:
            return False
        await self.conn.execute(_COUNT_LIKES, {"image_id": image_id, "added": 1})
        return True

    async def remove(self, user_id: int, image_id: str) -> bool:
        result = await self.conn.execute(
            delete(likes).where(likes.c.user_id == user_id, likes.c.image_id == image_id)
        )
        if result.rowcount != 1:
            return False
        await self.conn.execute(_COUNT_LIKES, {"image_id": image_id, "added": -1})
        return True

    async def liked(self, user_id: int, image_ids: Sequence[str]) -> set[str]:
        if not image_ids:
            return set()
        found = await self.conn.execute(_LIKED, {"user_id": user_id, "image_ids": list(image_ids)})
        return {str(image_id) for image_id in found.scalars().all()}

    async def forget_user(self, user_id: int) -> None:
        given = select(likes.c.image_id).where(likes.c.user_id == user_id)
        for image_id in (await self.conn.execute(given)).scalars().all():
            await self.remove(user_id, str(image_id))
