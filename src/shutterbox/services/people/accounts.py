"""Registering users, logging in, and turning bearer tokens back into users."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from shutterbox.adapters.db.engine import Database
from shutterbox.adapters.db.rows import user_from_row
from shutterbox.adapters.db.tables import api_tokens, users
from shutterbox.clock import utcnow
from shutterbox.domain.errors import Conflict, InvalidInput, Unauthorized
from shutterbox.domain.users import User, check_password, check_username

_hasher = PasswordHasher()  # Argon2id with the library's recommended parameters
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def register(db: Database, username: str, password: str, *, is_admin: bool = False) -> User:
    try:
        name = check_username(username)
        check_password(password)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    password_hash = await anyio.to_thread.run_sync(_hasher.hash, password)
    try:
        async with db.writer.begin() as conn:
            row = (
                await conn.execute(
                    users.insert()
                    .values(
                        username=name,
                        password_hash=password_hash,
                        is_admin=is_admin,
                        created_at=utcnow(),
                    )
                    .returning(*users.c)
                )
            ).one()
    except IntegrityError as exc:
        raise Conflict(f"the username {name!r} is taken") from exc
    return user_from_row(row)


async def issue_token(db: Database, username: str, password: str, ttl_days: int) -> str:
    async with db.reader.connect() as conn:
        row = (
            await conn.execute(select(users).where(users.c.username == username.strip().lower()))
        ).first()
    stored_hash = row.password_hash if row else _DUMMY_HASH
    try:
        await anyio.to_thread.run_sync(_hasher.verify, stored_hash, password)
    except (VerificationError, InvalidHashError):
        row = None
    if row is None:
        raise Unauthorized("wrong username or password")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    async with db.writer.begin() as conn:
        await conn.execute(
            api_tokens.insert().values(
                token_sha256=_token_digest(token),
                user_id=row.id,
                created_at=now,
                expires_at=now + timedelta(days=ttl_days),
            )
        )
    return token


async def user_for_token(db: Database, token: str) -> User | None:
    async with db.reader.connect() as conn:
        row = (
            await conn.execute(
                select(users)
                .join(api_tokens, api_tokens.c.user_id == users.c.id)
                .where(
                    api_tokens.c.token_sha256 == _token_digest(token),
                    api_tokens.c.revoked_at.is_(None),
                    api_tokens.c.expires_at > utcnow(),
                )
            )
        ).first()
    return user_from_row(row) if row else None


async def revoke_token(db: Database, token: str) -> None:
    async with db.writer.begin() as conn:
        await conn.execute(
            update(api_tokens)
            .where(api_tokens.c.token_sha256 == _token_digest(token))
            .values(revoked_at=utcnow())
        )
