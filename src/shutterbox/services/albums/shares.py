"""Share links: making one for an album or an image of one's own, listing one's links, and
revoking them. The token is handed out once, when the link is made: only its SHA-256 is kept
(like an API token), so a copy of the database opens nothing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio
from argon2 import PasswordHasher

from shutterbox.clock import utcnow
from shutterbox.domain.albums import MAX_SHARE_PASSWORD_CHARS, Share, new_id, new_share_token
from shutterbox.domain.errors import Forbidden, InvalidInput, NotFound
from shutterbox.domain.users import User
from shutterbox.services.albums.albums import decode_position, encode_position, own_album
from shutterbox.services.context import Services

password_hasher = PasswordHasher()  # Argon2id, as account passwords


@dataclass(frozen=True)
class NewShare:
    share: Share
    token: str  # shown once


@dataclass(frozen=True)
class SharePage:
    items: list[Share]
    next_cursor: str | None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


async def create_share(
    services: Services,
    user: User,
    *,
    album_id: str | None = None,
    image_id: str | None = None,
    expires_at: datetime | None = None,
    password: str | None = None,
    hide_details: bool = False,
) -> NewShare:
    """A link to one of the user's albums, or one of their images (exactly one of the two)."""
    if (album_id is None) == (image_id is None):
        raise InvalidInput("give either album_id or image_id")
    now = utcnow()
    if expires_at is not None:
        expires_at = _naive_utc(expires_at)
        if expires_at <= now:
            raise InvalidInput("expires_at must be in the future")
    if password is not None and not 1 <= len(password) <= MAX_SHARE_PASSWORD_CHARS:
        raise InvalidInput(f"a link's password is 1 to {MAX_SHARE_PASSWORD_CHARS} characters")
    password_hash = None
    if password:
        password_hash = await anyio.to_thread.run_sync(password_hasher.hash, password)
    token = new_share_token()
    async with services.metadata.write() as tx:
        if album_id is not None:
            album_id = (await own_album(tx, album_id, user)).id
        else:
            assert image_id is not None
            image = await tx.images.get(image_id) if 0 < len(image_id) <= 64 else None
            if image is None or not image.visible_to(user.id):
                raise NotFound("no such image")
            if image.owner_id != user.id:
                raise Forbidden("only the image's owner can share it by link")
        share = Share(
            id=new_id(),
            owner_id=user.id,
            token_sha256=token_digest(token),
            album_id=album_id,
            image_id=image_id if album_id is None else None,
            expires_at=expires_at,
            password_hash=password_hash,
            hide_details=hide_details,
            created_at=now,
        )
        await tx.shares.create(share)
    return NewShare(share, token)


async def my_shares(services: Services, user: User, limit: int, cursor: str | None) -> SharePage:
    """The user's links not revoked (expired ones too), newest first."""
    position = decode_position(cursor)
    async with services.metadata.read() as tx:
        found = await tx.shares.of_owner(user.id, limit=limit + 1, cursor=position)
    more = len(found) > limit
    found = found[:limit]
    last = found[-1] if more and found else None
    return SharePage(found, encode_position(last.created_at, last.id) if last else None)


async def revoke_share(services: Services, user: User, share_id: str) -> None:
    """Revoke one of the user's links (again: no change). Someone else's link is not there
    for them (404)."""
    async with services.metadata.write() as tx:
        share = await tx.shares.get(share_id) if 0 < len(share_id) <= 64 else None
        if share is None or share.owner_id != user.id:
            raise NotFound("no such link of yours")
        await tx.shares.revoke(share.id, utcnow())
