"""Users and their API tokens (which are also the web pages' sessions)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.rows import user_from_row
from shutterbox.adapters.db.tables import api_tokens, images, users
from shutterbox.domain.users import CLOSED_ACCOUNT_HASH, User
from shutterbox.ports.metadata import AlreadyExists, Credentials

# Built once: the look-up behind every authenticated request.
_BY_TOKEN = (
    select(users)
    .join(api_tokens, api_tokens.c.user_id == users.c.id)
    .where(
        api_tokens.c.token_sha256 == bindparam("token_sha256"),
        api_tokens.c.revoked_at.is_(None),
        api_tokens.c.expires_at > bindparam("now"),
    )
)


class SqlUsers:
    """``UserRepository`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def create(
        self, username: str, password_hash: str, *, is_admin: bool, created_at: datetime
    ) -> User:
        try:
            row = (
                await self.conn.execute(
                    users.insert()
                    .values(
                        username=username,
                        password_hash=password_hash,
                        is_admin=is_admin,
                        created_at=created_at,
                    )
                    .returning(*users.c)
                )
            ).one()
        except IntegrityError as exc:
            raise AlreadyExists(f"the username {username!r} is taken") from exc
        return user_from_row(row)

    async def by_name(self, username: str) -> User | None:
        row = (await self.conn.execute(select(users).where(users.c.username == username))).first()
        return user_from_row(row) if row else None

    async def credentials(self, username: str) -> Credentials | None:
        row = (await self.conn.execute(select(users).where(users.c.username == username))).first()
        return Credentials(row.id, row.password_hash) if row else None

    async def add_token(
        self, token_sha256: str, user_id: int, created_at: datetime, expires_at: datetime
    ) -> None:
        await self.conn.execute(
            api_tokens.insert().values(
                token_sha256=token_sha256,
                user_id=user_id,
                created_at=created_at,
                expires_at=expires_at,
            )
        )

    async def by_token(self, token_sha256: str, now: datetime) -> User | None:
        parameters = {"token_sha256": token_sha256, "now": now}
        row = (await self.conn.execute(_BY_TOKEN, parameters)).first()
        return user_from_row(row) if row else None

    async def close(self, user_id: int) -> None:
        await self.conn.execute(
            update(users).where(users.c.id == user_id).values(password_hash=CLOSED_ACCOUNT_HASH)
        )
        await self.conn.execute(delete(api_tokens).where(api_tokens.c.user_id == user_id))

    async def remove_closed(self, user_id: int) -> bool:
        owns_images = select(images.c.id).where(images.c.owner_id == user_id).exists()
        result = await self.conn.execute(
            delete(users).where(
                users.c.id == user_id,
                users.c.password_hash == CLOSED_ACCOUNT_HASH,
                ~owns_images,
            )
        )
        return bool(result.rowcount == 1)

    async def revoke_token(self, token_sha256: str, when: datetime) -> None:
        await self.conn.execute(
            update(api_tokens)
            .where(api_tokens.c.token_sha256 == token_sha256)
            .values(revoked_at=when)
        )
