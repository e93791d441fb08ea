"""What a share link shows, to anyone holding its token, logged in or not.

A link that does not exist is a 404; a revoked or expired one a 410 that says which; a link
with a password asks for it first (401 ``password_required``). A right password unlocks the
link in the browser with a cookie holding an HMAC of the link's id and password hash (never
the password) under the secret key: it opens that link alone, and stops working when the
password changes or the key rotates away. Wrong passwords are counted like login attempts
(``SHUTTERBOX_LOGIN_RATE``), per link and client.

An album's link shows its ready images in order, private ones too (the owner chose to share
the album); an image's link shows the image while it is ready and not deleted. What the link
shows comes with media URLs tied to it (``services/delivery/shared_media.py``)."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import datetime

import anyio
from argon2.exceptions import VerificationError

from shutterbox.clock import utcnow
from shutterbox.domain.albums import Album, Share
from shutterbox.domain.errors import Forbidden, Gone, NotFound, Unauthorized
from shutterbox.domain.images import Image, Status
from shutterbox.ports.metadata import Transaction
from shutterbox.services.albums.entries import EntryPage, decode_entry, page_of
from shutterbox.services.albums.shares import password_hasher, token_digest
from shutterbox.services.context import Services
from shutterbox.services.people import limits

UNLOCK_COOKIE_PREFIX = "shutterbox_share_"
UNLOCK_SECONDS = 24 * 3600
_MAX_TOKEN_CHARS = 100


class PasswordRequired(Unauthorized):
    code = "password_required"

    def __init__(self) -> None:
        super().__init__("this link is protected by a password: send it to unlock the link")


@dataclass(frozen=True)
class SharedView:
    share: Share
    album: Album | None
    image: Image | None  # an image's link
    page: EntryPage | None  # an album's link: a page of its images


def unlock_cookie_name(share: Share) -> str:
    return UNLOCK_COOKIE_PREFIX + share.id


def _unlock_mac(key: bytes, share: Share, expires: int) -> str:
    message = f"share-unlock\n{share.id}\n{share.password_hash}\n{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def unlock_value(services: Services, share: Share, now: float | None = None) -> tuple[str, int]:
    """The unlock cookie's value and lifetime in seconds (at most a day, never past the link)."""
    now = time.time() if now is None else now
    seconds = UNLOCK_SECONDS
    if share.expires_at is not None:
        left = (share.expires_at - utcnow()).total_seconds()
        seconds = max(1, min(seconds, int(left)))
    expires = int(now) + seconds
    return f"{expires}.{_unlock_mac(services.media_urls.keys[0], share, expires)}", seconds


def unlocked(services: Services, share: Share, cookie: str | None) -> bool:
    if share.password_hash is None:
        return True
    if not cookie or "." not in cookie or len(cookie) > 200:
        return False
    raw_expires, mac = cookie.split(".", 1)
    if not raw_expires.isdigit() or int(raw_expires) <= time.time():
        return False
    expected = [_unlock_mac(key, share, int(raw_expires)) for key in services.media_urls.keys]
    return any(hmac.compare_digest(e.encode(), mac.encode()) for e in expected)


def _check_live(share: Share | None, now: datetime) -> Share:
    if share is None:
        raise NotFound("no such link: it may be mistyped, or what it showed was deleted")
    if share.revoked_at is not None:
        raise Gone("this link was revoked by the person who shared it")
    if share.expired(now):
        raise Gone("this link has expired")
    return share


async def live_share(tx: Transaction, token: str) -> Share:
    """The link of ``token``: NotFound, or Gone when revoked or expired."""
    found = None
    if 0 < len(token) <= _MAX_TOKEN_CHARS:
        found = await tx.shares.by_token(token_digest(token))
    return _check_live(found, utcnow())


async def open_share(
    services: Services, token: str, cookie_of: dict[str, str], limit: int, cursor: str | None
) -> SharedView:
    """What the link shows (a page of an album's images after ``cursor``); ``cookie_of``:
    the request's cookies, for a link with a password."""
    position = decode_entry(cursor)
    async with services.metadata.read() as tx:
        share = await live_share(tx, token)
        if not unlocked(services, share, cookie_of.get(unlock_cookie_name(share))):
            raise PasswordRequired()
        withheld = await _withheld_by_moderators(tx, share)
        if share.image_id is not None:
            image = await tx.images.get(share.image_id)
            if image is None or image.deleted_at is not None or image.status != Status.READY:
                raise NotFound("what this link showed is no longer there")
            if image.id in withheld:
                raise NotFound("what this link showed is no longer there")
            return SharedView(share, None, image, None)
        assert share.album_id is not None
        album = await tx.albums.get(share.album_id)
        if album is None:
            raise NotFound("what this link showed is no longer there")
        found = await tx.albums.images(
            album.id, include_private=True, ready_only=True, limit=limit + 1, cursor=position
        )
    page = page_of(found, limit)  # the cursor follows what was read, shown or not
    shown = EntryPage([image for image in page.items if image.id not in withheld], page.next_cursor)
    return SharedView(share, album, None, shown)


async def _withheld_by_moderators(tx: Transaction, share: Share) -> set[str]:
    """The owner's images moderators hid, which no link shows; NotFound for every link of a
    suspended owner."""
    if await tx.moderation.suspension(share.owner_id) is not None:
        raise NotFound("this link is not available")
    return {hold.image_id for hold in await tx.moderation.holds_of_owner(share.owner_id)}


async def unlock(services: Services, token: str, password: str, client: str) -> Share:
    """Check a link's password (counted like a login attempt); the link once it matches."""
    async with services.metadata.read() as tx:
        share = await live_share(tx, token)
    if share.password_hash is None:
        return share
    key = f"share:{share.id}|{client}"
    await services.rate_limiter.hit(limits.LOGIN, key, "too many password attempts for this link")
    try:
        await anyio.to_thread.run_sync(password_hasher.verify, share.password_hash, password)
    except VerificationError as exc:
        raise Forbidden("wrong password for this link") from exc
    await services.rate_limiter.refund(limits.LOGIN, key)
    return share


async def check_media(services: Services, share_id: str, image_id: str) -> None:
    """A file of ``image_id`` asked for through the link ``share_id``: NotFound or Gone
    unless the link is live and still shows that image."""
    async with services.metadata.quick_read() as tx:
        share = await tx.shares.get(share_id) if 0 < len(share_id) <= 64 else None
        share = _check_live(share, utcnow())
        if image_id in await _withheld_by_moderators(tx, share):
            raise NotFound("this link does not show that image")
        if share.image_id is not None:
            shows = share.image_id == image_id
        else:
            assert share.album_id is not None
            shows = await tx.albums.has_image(share.album_id, image_id)
    if not shows:
        raise NotFound("this link does not show that image")
