"""Feeds: newest first, keyset-paginated, stable while new uploads arrive."""

from __future__ import annotations

from dataclasses import dataclass

from shutterbox.domain.errors import NotFound
from shutterbox.domain.images import Image
from shutterbox.domain.users import User
from shutterbox.services.context import Services
from shutterbox.services.images.cursors import decode_cursor, encode_cursor
from shutterbox.services.people import blocks


@dataclass
class Page:
    items: list[Image]
    next_cursor: str | None


async def _page(
    services: Services,
    limit: int,
    cursor: str | None,
    viewer: User | None = None,
    **filters: object,
) -> Page:
    """A page of a list. The images of people a block stands between the viewer and are left
    out after the page is read (the cursor is the last image read, so no page repeats or
    skips one): such a page may be shorter than ``limit``."""
    position = decode_cursor(cursor)
    async with services.metadata.quick_read() as tx:  # one index seek, and the variants
        items = await tx.images.feed(
            limit=limit + 1,
            cursor=position,
            **filters,  # type: ignore[arg-type]
        )
        hidden = await blocks.hidden_owners(tx, viewer) if items else set()
    more = len(items) > limit
    items = items[:limit]
    next_cursor = encode_cursor(items[-1]) if more and items else None
    return Page(blocks.without_owners(items, hidden, lambda image: image.owner_id), next_cursor)


async def public_feed(
    services: Services, limit: int, cursor: str | None, viewer: User | None = None
) -> Page:
    return await _page(services, limit, cursor, viewer)


async def user_images(
    services: Services, username: str, viewer: User | None, limit: int, cursor: str | None
) -> Page:
    name = username.lower()
    own = viewer is not None and viewer.username == name
    page = await _page(services, limit, cursor, viewer, owner_name=name, include_private=own)
    if not page.items:  # one query for a page; a second only to tell "nobody" from "nothing"
        page.next_cursor = None  # a profile hidden by a block is empty to its end
        async with services.metadata.quick_read() as tx:
            if await tx.users.by_name(name) is None:
                raise NotFound(f"no user called {username!r}")
    return page


async def tag_images(
    services: Services, tag: str, limit: int, cursor: str | None, viewer: User | None = None
) -> Page:
    return await _page(services, limit, cursor, viewer, tag=tag.lower())


async def home_feed(services: Services, viewer: User, limit: int, cursor: str | None) -> Page:
    """The viewer's own images (private ones too) and the public images of the people they
    follow, newest first."""
    return await _page(services, limit, cursor, home_of=viewer.id)
