"""Blocks between people."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.dialect import upsert
from shutterbox.adapters.db.tables import blocks, users

# Built once: read on every list a signed-in person asks for. Each half is one seek of an
# index (the primary key, then ix_blocks_blocked).
_HIDDEN_FROM = union_all(
    select(blocks.c.blocked_id).where(blocks.c.blocker_id == bindparam("user_id")),
    select(blocks.c.blocker_id).where(blocks.c.blocked_id == bindparam("user_id")),
)


class SqlBlocks:
    """``BlockRepository`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, blocker_id: int, blocked_id: int, created_at: datetime) -> None:
        name = select(users.c.username).where(users.c.id == blocked_id).scalar_subquery()
        values = {
            "blocker_id": blocker_id,
            "blocked_id": blocked_id,
            "blocked_name": name,
            "created_at": created_at,
        }
        await self.conn.execute(upsert(self.conn, blocks, values))

    async def remove(self, blocker_id: int, blocked_id: int) -> None:
        await self.conn.execute(
            delete(blocks).where(
                blocks.c.blocker_id == blocker_id, blocks.c.blocked_id == blocked_id
            )
        )

    async def has_blocked(self, blocker_id: int, blocked_id: int) -> bool:
        found = await self.conn.scalar(
            select(blocks.c.blocker_id).where(
                blocks.c.blocker_id == blocker_id, blocks.c.blocked_id == blocked_id
            )
        )
        return found is not None

    async def between(self, first_id: int, second_id: int) -> bool:
        return second_id in await self.hidden_from(first_id)

    async def hidden_from(self, user_id: int) -> set[int]:
        rows = await self.conn.execute(_HIDDEN_FROM, {"user_id": user_id})
        return {row[0] for row in rows}

    async def blocked_names(self, blocker_id: int, *, after: str | None, limit: int) -> list[str]:
        query = select(blocks.c.blocked_name).where(blocks.c.blocker_id == blocker_id)
        if after:
            query = query.where(blocks.c.blocked_name > after)
        query = query.order_by(blocks.c.blocked_name).limit(limit)
        return list((await self.conn.scalars(query)).all())
