"""Uploads on their way in: Idempotency-Keys of finished uploads, and direct uploads (the
client sends the bytes straight to the store, then asks for the image)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.tables import direct_uploads, idempotency_keys
from shutterbox.ports.metadata import AlreadyExists

# Built once: used by every upload that carries an Idempotency-Key.
_IDEMPOTENT_IMAGE = select(idempotency_keys.c.image_id).where(
    idempotency_keys.c.user_id == bindparam("user_id"),
    idempotency_keys.c.key == bindparam("key"),
    idempotency_keys.c.created_at > bindparam("created_after"),
)

_FORGET_EXPIRED_KEY = delete(idempotency_keys).where(
    idempotency_keys.c.user_id == bindparam("user_id"),
    idempotency_keys.c.key == bindparam("key"),
    idempotency_keys.c.created_at <= bindparam("expired_before"),
)
_REMEMBER_KEY = idempotency_keys.insert()


class SqlUploads:
    """``UploadRepository`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def idempotent_image(self, user_id: int, key: str, created_after: datetime) -> str | None:
        parameters = {"user_id": user_id, "key": key, "created_after": created_after}
        image_id = await self.conn.scalar(_IDEMPOTENT_IMAGE, parameters)
        return str(image_id) if image_id is not None else None

    async def remember_key(
        self, user_id: int, key: str, image_id: str, created_at: datetime, expired_before: datetime
    ) -> None:
        parameters = {"user_id": user_id, "key": key}
        await self.conn.execute(  # an expired use of the same key no longer counts
            _FORGET_EXPIRED_KEY, {**parameters, "expired_before": expired_before}
        )
        try:
            await self.conn.execute(
                _REMEMBER_KEY, {**parameters, "image_id": image_id, "created_at": created_at}
            )
        except IntegrityError as exc:
            raise AlreadyExists("this Idempotency-Key is already in use") from exc

    async def start_direct(self, upload: Mapping[str, Any]) -> None:
        await self.conn.execute(direct_uploads.insert().values(**upload))

    async def get_direct(self, upload_id: str) -> dict[str, Any] | None:
        row = (
            await self.conn.execute(select(direct_uploads).where(direct_uploads.c.id == upload_id))
        ).first()
        return dict(row._mapping) if row is not None else None

    async def claim_completion(self, upload_id: str, now: datetime, stale_before: datetime) -> bool:
        result = await self.conn.execute(
            update(direct_uploads)
            .where(
                direct_uploads.c.id == upload_id,
                direct_uploads.c.completed_at.is_(None),
                or_(
                    direct_uploads.c.completing_at.is_(None),
                    direct_uploads.c.completing_at < stale_before,
                ),
            )
            .values(completing_at=now)
        )
        return bool(result.rowcount == 1)

    async def release_claim(self, upload_id: str) -> None:
        await self.conn.execute(
            update(direct_uploads)
            .where(direct_uploads.c.id == upload_id, direct_uploads.c.completed_at.is_(None))
            .values(completing_at=None)
        )

    async def mark_completed(self, upload_id: str, image_id: str, when: datetime) -> None:
        await self.conn.execute(
            update(direct_uploads)
            .where(direct_uploads.c.id == upload_id)
            .values(completed_at=when, image_id=image_id)
        )

    async def forget(self, upload_id: str, *, only_incomplete: bool = False) -> None:
        query = delete(direct_uploads).where(direct_uploads.c.id == upload_id)
        if only_incomplete:
            query = query.where(direct_uploads.c.completed_at.is_(None))
        await self.conn.execute(query)

    async def abandoned(self, expired_before: datetime, limit: int) -> list[tuple[str, str]]:
        rows = (
            await self.conn.execute(
                select(direct_uploads.c.id, direct_uploads.c.key)
                .where(
                    direct_uploads.c.completed_at.is_(None),
                    direct_uploads.c.expires_at < expired_before,
                )
                .limit(limit)
            )
        ).all()
        return [(row.id, row.key) for row in rows]

    async def pending_bytes(self, user_id: int, now: datetime) -> int:
        total = await self.conn.scalar(
            select(func.coalesce(func.sum(direct_uploads.c.size), 0)).where(
                direct_uploads.c.user_id == user_id,
                direct_uploads.c.completed_at.is_(None),
                direct_uploads.c.expires_at > now,
            )
        )
        return int(total or 0)

    async def add_part(
        self,
        upload_id: str,
        received_before: int,
        part: tuple[int, int, str],
        expires_at: datetime,
    ) -> bool:
        row = (
            await self.conn.execute(
                select(direct_uploads.c.parts).where(
                    direct_uploads.c.id == upload_id,
                    direct_uploads.c.received == received_before,
                    direct_uploads.c.completed_at.is_(None),
                )
            )
        ).first()
        if row is None:
            return False
        result = await self.conn.execute(
            update(direct_uploads)
            .where(  # compare and set: a concurrent part for the same offset loses here
                direct_uploads.c.id == upload_id,
                direct_uploads.c.received == received_before,
            )
            .values(
                received=received_before + part[1],
                parts=[*(row.parts or []), list(part)],
                expires_at=expires_at,
            )
        )
        return bool(result.rowcount == 1)
