"""Who follows whom."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.dialect import upsert
from shutterbox.adapters.db.repositories import timeline
from shutterbox.adapters.db.tables import follows, users


def _username(user_id: int) -> Any:
    return select(users.c.username).where(users.c.id == user_id).scalar_subquery()


class SqlFollows:
    """``FollowRepository`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, follower_id: int, followee_id: int, created_at: datetime) -> None:
        values = {
            "follower_id": follower_id,
            "followee_id": followee_id,
            "created_at": created_at,
            "follower_name": _username(follower_id),
            "followee_name": _username(followee_id),
        }
        await self.conn.execute(upsert(self.conn, follows, values))
        await timeline.add_followee(self.conn, follower_id, followee_id)

    async def remove(self, follower_id: int, followee_id: int) -> None:
        await self.conn.execute(
            delete(follows).where(
                follows.c.follower_id == follower_id, follows.c.followee_id == followee_id
            )
        )
        await timeline.remove_followee(self.conn, follower_id, followee_id)

    async def forget(self, user_id: int) -> None:
        followers = select(follows.c.follower_id).where(follows.c.followee_id == user_id)
        for follower_id in (await self.conn.execute(followers)).scalars().all():
            await self.remove(follower_id, user_id)  # their homes lose the user's images
        await self.conn.execute(delete(follows).where(follows.c.follower_id == user_id))

    async def exists(self, follower_id: int, followee_id: int) -> bool:
        link = await self.conn.scalar(
            select(follows.c.follower_id).where(
                follows.c.follower_id == follower_id, follows.c.followee_id == followee_id
            )
        )
        return link is not None

    async def count_followers(self, user_id: int) -> int:
        count = await self.conn.scalar(
            select(func.count()).select_from(follows).where(follows.c.followee_id == user_id)
        )
        return int(count or 0)

    async def count_following(self, user_id: int) -> int:
        count = await self.conn.scalar(
            select(func.count()).select_from(follows).where(follows.c.follower_id == user_id)
        )
        return int(count or 0)

    async def people(
        self, user_id: int, *, of_followers: bool, after: str | None, limit: int
    ) -> list[str]:
        if of_followers:  # through ix_follows_follower_names
            this_side, name = follows.c.followee_id, follows.c.follower_name
        else:  # through ix_follows_following_names
            this_side, name = follows.c.follower_id, follows.c.followee_name
        query = select(name).where(this_side == user_id)
        if after:
            query = query.where(name > after)
        query = query.order_by(name).limit(limit)
        return list((await self.conn.scalars(query)).all())
