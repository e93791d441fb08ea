"""Share links: an album or an image opened to whoever holds a token (its SHA-256 kept)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.tables import shares
from shutterbox.domain.albums import Share
from shutterbox.ports.albums import Position

_COLUMNS = (
    shares.c.id,
    shares.c.owner_id,
    shares.c.token_sha256,
    shares.c.album_id,
    shares.c.image_id,
    shares.c.expires_at,
    shares.c.password_hash,
    shares.c.hide_details,
    shares.c.created_at,
    shares.c.revoked_at,
)


def _share(row: Any) -> Share:
    values = list(row)
    values[7] = bool(values[7])
    return Share(*values)


class SqlShares:
    """``ShareRepository`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def create(self, share: Share) -> None:
        await self.conn.execute(
            insert(shares).values(
                id=share.id,
                owner_id=share.owner_id,
                token_sha256=share.token_sha256,
                album_id=share.album_id,
                image_id=share.image_id,
                expires_at=share.expires_at,
                password_hash=share.password_hash,
                hide_details=share.hide_details,
                created_at=share.created_at,
                revoked_at=share.revoked_at,
            )
        )

    async def get(self, share_id: str) -> Share | None:
        row = (await self.conn.execute(select(*_COLUMNS).where(shares.c.id == share_id))).first()
        return _share(row) if row is not None else None

    async def by_token(self, token_sha256: str) -> Share | None:
        query = select(*_COLUMNS).where(shares.c.token_sha256 == token_sha256)
        row = (await self.conn.execute(query)).first()
        return _share(row) if row is not None else None

    async def of_owner(self, owner_id: int, *, limit: int, cursor: Position | None) -> list[Share]:
        """One seek of ``ix_shares_owner``; revoked links are skipped on the way."""
        query = select(*_COLUMNS).where(
            shares.c.owner_id == owner_id, shares.c.revoked_at.is_(None)
        )
        if cursor is not None:
            query = query.where(tuple_(shares.c.created_at, shares.c.id) < tuple_(*cursor))
        query = query.order_by(shares.c.created_at.desc(), shares.c.id.desc()).limit(limit)
        return [_share(row) for row in (await self.conn.execute(query)).all()]

    async def revoke(self, share_id: str, when: datetime) -> None:
        await self.conn.execute(
            update(shares)
            .where(shares.c.id == share_id, shares.c.revoked_at.is_(None))
            .values(revoked_at=when)
        )

    async def forget_owner(self, owner_id: int) -> None:
        await self.conn.execute(delete(shares).where(shares.c.owner_id == owner_id))
