"""An album's images: adding one's own images (again: no change), taking them out, ordering
them, and the album's page of images in order.

The order is kept as gapped integer positions (``domain/albums.py``): moving one image before
another writes that image's row alone; a full new order writes each row once."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from shutterbox.clock import utcnow
from shutterbox.domain.albums import position_between, renumbered
from shutterbox.domain.errors import InvalidInput, NotFound
from shutterbox.domain.images import Image
from shutterbox.domain.users import User
from shutterbox.ports.albums import EntryPosition
from shutterbox.ports.metadata import Transaction
from shutterbox.services.albums.albums import own_album, visible_album
from shutterbox.services.context import Services

MAX_ORDER_IDS = 10_000


@dataclass(frozen=True)
class EntryPage:
    items: list[Image]
    next_cursor: str | None


def encode_entry(position: int, image_id: str) -> str:
    return base64.urlsafe_b64encode(f"{position}|{image_id}".encode()).decode().rstrip("=")


def decode_entry(cursor: str | None) -> EntryPosition | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        position, image_id = raw.split("|", 1)
        return int(position), image_id
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("the cursor is not one this API handed out") from exc


async def add_image(services: Services, user: User, album_id: str, image_id: str) -> bool:
    """Put one of the user's own images at the end of their album; True if it was not there.
    Someone else's image is refused as if it did not exist (404), whether it is public or
    not: nobody can add another's image to an album."""
    async with services.metadata.write() as tx:
        album = await own_album(tx, album_id, user)
        image = await tx.images.get(image_id) if 0 < len(image_id) <= 64 else None
        if image is None or image.deleted_at is not None or image.owner_id != user.id:
            raise NotFound("no such image of yours")
        return await tx.albums.add_image(album.id, image.id, utcnow())


async def remove_image(services: Services, user: User, album_id: str, image_id: str) -> None:
    """Take an image out of the album (not there: no change); the image itself stays."""
    async with services.metadata.write() as tx:
        album = await own_album(tx, album_id, user)
        await tx.albums.remove_image(album.id, image_id)
        if album.cover_image_id == image_id:
            await tx.albums.update(album.id, {"cover_image_id": None, "updated_at": utcnow()})


async def set_order(
    services: Services, user: User, album_id: str, image_ids: Sequence[str]
) -> None:
    """A whole new order: ``image_ids`` must be the album's images, each once. Images in the
    trash (which the owner does not see in the album) keep their place after them."""
    if len(image_ids) > MAX_ORDER_IDS:
        raise InvalidInput(f"at most {MAX_ORDER_IDS} image ids")
    async with services.metadata.write() as tx:
        album = await own_album(tx, album_id, user)
        entries = [image_id for image_id, _ in await tx.albums.positions(album.id)]
        shown = await _undeleted(tx, entries)
        if len(set(image_ids)) != len(image_ids) or set(image_ids) != set(shown):
            raise InvalidInput("the order must list every image of the album exactly once")
        hidden = [image_id for image_id in entries if image_id not in shown]
        ordered = [*image_ids, *hidden]
        await tx.albums.set_positions(album.id, _renumbered(ordered))


async def _undeleted(tx: Transaction, image_ids: list[str]) -> set[str]:
    page = await tx.images.states(image_ids)
    return {state.id for state in page if state.deleted_at is None}


async def move_image(
    services: Services, user: User, album_id: str, image_id: str, before: str | None
) -> None:
    """Move one image just before another (``before`` None: to the end). One row is written,
    unless the two neighbours have no position left between them: then the album is
    renumbered, once, with full gaps again."""
    if before == image_id:
        return
    async with services.metadata.write() as tx:
        album = await own_album(tx, album_id, user)
        every = await tx.albums.positions(album.id)
        entries = [(i, p) for i, p in every if i != image_id]
        if len(entries) == len(every):
            raise NotFound("that image is not in the album")
        if before is None:
            index = len(entries)
        else:
            index = next((n for n, (i, _) in enumerate(entries) if i == before), -1)
            if index < 0:
                raise NotFound("the image to move it before is not in the album")
        previous = entries[index - 1][1] if index > 0 else None
        following = entries[index][1] if index < len(entries) else None
        position = position_between(previous, following)
        if position is not None:
            await tx.albums.set_positions(album.id, [(image_id, position)])
            return
        ordered = [i for i, _ in entries]
        ordered.insert(index, image_id)
        await tx.albums.set_positions(album.id, _renumbered(ordered))


async def album_images(
    services: Services, album_id: str, viewer: User | None, limit: int, cursor: str | None
) -> EntryPage:
    """The album's images in order, as ``viewer`` may see them: all of them (processing ones
    too) for the owner; for anyone else only ready public ones: a private image in a public
    album stays invisible to them."""
    position = decode_entry(cursor)
    async with services.metadata.quick_read() as tx:
        album = await visible_album(tx, album_id, viewer)
        own = viewer is not None and viewer.id == album.owner_id
        found = await tx.albums.images(
            album.id, include_private=own, ready_only=not own, limit=limit + 1, cursor=position
        )
    return page_of(found, limit)


def _renumbered(ordered: list[str]) -> list[tuple[str, int]]:
    return list(zip(ordered, renumbered(len(ordered)), strict=True))


def page_of(found: list[tuple[int, Image]], limit: int) -> EntryPage:
    """A page from ``limit`` + 1 entries read."""
    more = len(found) > limit
    found = found[:limit]
    last = found[-1] if more and found else None
    return EntryPage([image for _, image in found], encode_entry(*_key(last)) if last else None)


def _key(entry: tuple[int, Image]) -> tuple[int, str]:
    return entry[0], entry[1].id
