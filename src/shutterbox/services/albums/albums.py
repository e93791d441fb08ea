"""Creating, reading, changing and deleting albums, and an owner's list of them.

An album is seen by whoever may see it (a private one by its owner alone; anyone else gets the
404 of something that is not there) and changed by its owner only (403 for others who can see
it). Deleting an album never deletes an image."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shutterbox.clock import utcnow
from shutterbox.domain import albums as rules
from shutterbox.domain.albums import Album
from shutterbox.domain.errors import Forbidden, InvalidInput, NotFound
from shutterbox.domain.images import Image, Visibility
from shutterbox.domain.users import User
from shutterbox.ports.metadata import Transaction
from shutterbox.services.context import Services

_UNSET: Any = object()


@dataclass(frozen=True)
class AlbumView:
    album: Album
    cover: Image | None  # only when the viewer may see it


@dataclass(frozen=True)
class AlbumPage:
    items: list[AlbumView]
    next_cursor: str | None


def _visibility(raw: str) -> Visibility:
    try:
        return Visibility(raw)
    except ValueError as exc:
        raise InvalidInput("visibility must be 'public' or 'private'") from exc


def _checked(check: Any, value: str) -> str:
    try:
        return str(check(value))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def _viewer_id(viewer: User | None) -> int | None:
    return viewer.id if viewer is not None else None


async def visible_album(tx: Transaction, album_id: str, viewer: User | None) -> Album:
    """The album if ``viewer`` may see it; NotFound otherwise (whether it exists or not)."""
    album = await tx.albums.get(album_id) if 0 < len(album_id) <= 64 else None
    if album is None or not album.visible_to(_viewer_id(viewer)):
        raise NotFound("no such album")
    return album


async def own_album(tx: Transaction, album_id: str, user: User) -> Album:
    """The album if ``user`` owns it: NotFound if they cannot see it, Forbidden if they can
    but it is not theirs."""
    album = await visible_album(tx, album_id, user)
    if album.owner_id != user.id:
        raise Forbidden("only the album's owner can change it")
    return album


def cover_shown(cover: Image | None, album: Album, viewer: User | None) -> Image | None:
    if cover is None or cover.deleted_at is not None:
        return None
    if viewer is not None and viewer.id == album.owner_id:
        return cover
    return cover if cover.shown_in_public_lists() else None


async def create_album(
    services: Services, user: User, title: str, description: str, visibility: str
) -> Album:
    now = utcnow()
    album = Album(
        id=rules.new_id(),
        owner_id=user.id,
        owner_username=user.username,
        title=_checked(rules.check_title, title),
        description=_checked(rules.check_description, description),
        visibility=_visibility(visibility),
        cover_image_id=None,
        created_at=now,
        updated_at=now,
    )
    async with services.metadata.write() as tx:
        await tx.albums.create(album)
    return album


async def read_album(services: Services, album_id: str, viewer: User | None) -> AlbumView:
    async with services.metadata.read() as tx:
        album = await visible_album(tx, album_id, viewer)
        cover = None
        if album.cover_image_id is not None and await tx.albums.has_image(
            album.id, album.cover_image_id
        ):
            found = await tx.albums.covers([album.cover_image_id])
            cover = found[0] if found else None
    return AlbumView(album, cover_shown(cover, album, viewer))


async def update_album(
    services: Services,
    user: User,
    album_id: str,
    *,
    title: str | None = None,
    description: str | None = None,
    visibility: str | None = None,
    cover_image_id: str | None = _UNSET,
) -> AlbumView:
    """Change what is given; ``cover_image_id`` must be one of the album's images (None: no
    cover)."""
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = _checked(rules.check_title, title)
    if description is not None:
        changes["description"] = _checked(rules.check_description, description)
    if visibility is not None:
        changes["visibility"] = _visibility(visibility)
    async with services.metadata.write() as tx:
        album = await own_album(tx, album_id, user)
        if cover_image_id is not _UNSET:
            if cover_image_id is not None and not await tx.albums.has_image(
                album.id, cover_image_id
            ):
                raise InvalidInput("the cover must be one of the album's images")
            changes["cover_image_id"] = cover_image_id
        if changes:
            changes["updated_at"] = utcnow()
            await tx.albums.update(album.id, changes)
    return await read_album(services, album_id, user)


async def delete_album(services: Services, user: User, album_id: str) -> None:
    """The album, its entries and its share links; its images stay as they are."""
    async with services.metadata.write() as tx:
        album = await own_album(tx, album_id, user)
        await tx.albums.remove(album.id)


def encode_position(at: datetime, ident: str) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{ident}".encode()).decode().rstrip("=")


def decode_position(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, ident = raw.split("|", 1)
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    except (binascii.Error, ValueError, UnicodeDecodeError, OverflowError) as exc:
        raise InvalidInput("the cursor is not one this API handed out") from exc
    return moment, ident


async def albums_of(
    services: Services, username: str, viewer: User | None, limit: int, cursor: str | None
) -> AlbumPage:
    """Someone's albums, newest first: their private ones only for themselves."""
    position = decode_position(cursor)
    async with services.metadata.read() as tx:
        owner = await tx.users.by_name(username.strip().lower())
        if owner is None:
            raise NotFound(f"no user called {username!r}")
        own = viewer is not None and viewer.id == owner.id
        found = await tx.albums.of_owner(
            owner.id, include_private=own, limit=limit + 1, cursor=position
        )
        more = len(found) > limit
        found = found[:limit]
        wanted = [a.cover_image_id for a in found if a.cover_image_id is not None]
        covers = {image.id: image for image in await tx.albums.covers(wanted)}
    items = [
        AlbumView(a, cover_shown(covers.get(a.cover_image_id or ""), a, viewer)) for a in found
    ]
    last = found[-1] if more and found else None
    return AlbumPage(items, encode_position(last.created_at, last.id) if last else None)
