"""Registering users, logging in, and turning bearer tokens back into users."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shutterbox.clock import utcnow
from shutterbox.domain.errors import Conflict, Forbidden, InvalidInput, Unauthorized
from shutterbox.domain.users import User, check_password, check_username
from shutterbox.ports.metadata import AlreadyExists, Metadata

_hasher = PasswordHasher()  # Argon2id with the library's recommended parameters
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def register(
    metadata: Metadata, username: str, password: str, *, is_admin: bool = False
) -> User:
    try:
        name = check_username(username)
        check_password(password)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    password_hash = await anyio.to_thread.run_sync(_hasher.hash, password)
    try:
        async with metadata.write() as tx:
            return await tx.users.create(
                name, password_hash, is_admin=is_admin, created_at=utcnow()
            )
    except AlreadyExists as exc:
        raise Conflict(f"the username {name!r} is taken") from exc


async def verified_user_id(metadata: Metadata, username: str, password: str) -> int:
    """The user's id if ``password`` is theirs; ``Unauthorized`` otherwise (as slow for a
    name that does not exist as for a wrong password)."""
    async with metadata.read() as tx:
        row = await tx.users.credentials(username.strip().lower())
        suspension = await tx.moderation.suspension(row.user_id) if row else None
    stored_hash = row.password_hash if row else _DUMMY_HASH
    try:
        await anyio.to_thread.run_sync(_hasher.verify, stored_hash, password)
    except (VerificationError, InvalidHashError):
        row = None
    if row is None:
        raise Unauthorized("wrong username or password")
    if suspension is not None:  # told only to whoever knows the password
        raise Forbidden(f"this account is suspended: {suspension.reason}")
    return row.user_id


async def issue_token(metadata: Metadata, username: str, password: str, ttl_days: int) -> str:
    user_id = await verified_user_id(metadata, username, password)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    async with metadata.write() as tx:
        await tx.users.add_token(_token_digest(token), user_id, now, now + timedelta(days=ttl_days))
    return token


async def user_for_token(metadata: Metadata, token: str) -> User | None:
    """Who a bearer or session token belongs to: one primary-key look-up, on every
    authenticated request."""
    async with metadata.quick_read() as tx:
        return await tx.users.by_token(_token_digest(token), utcnow())


async def revoke_token(metadata: Metadata, token: str) -> None:
    async with metadata.write() as tx:
        await tx.users.revoke_token(_token_digest(token), utcnow())
