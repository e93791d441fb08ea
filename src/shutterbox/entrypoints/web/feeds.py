"""The feeds a page shows as a grid of cards, and reading one page of a feed for a request.

A ``Feed`` pairs the API path that lists the same images (the fragments of the next pages are
at ``/fragments`` + that path) with how to load a page of it. The page routes
(``feed_pages``) and the fragment routes (``feed_fragments``) both read a page with
``read_cards``: ``?limit=`` (1-100) and ``?cursor=`` (one the feed handed out).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request

from shutterbox.domain.errors import InvalidInput
from shutterbox.domain.users import User
from shutterbox.entrypoints.api.presenters import image_public
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.entrypoints.web.cards import Card, card
from shutterbox.services.context import Services
from shutterbox.services.images import feed
from shutterbox.services.images.feed import Page

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
FRAGMENTS_PREFIX = "/fragments"

Loader = Callable[[int, str | None], Awaitable[Page]]


@dataclass(frozen=True)
class Feed:
    api: str  # the API path that lists the same images
    load: Loader

    @property
    def fragments(self) -> str:
        """Where the next pages of this feed are, as HTML cards."""
        return FRAGMENTS_PREFIX + self.api


def services_of(request: Request) -> Services:
    services: Services = app_state(request.app).services
    return services


def public_feed(services: Services, viewer: User | None = None) -> Feed:
    return Feed(
        "/api/v1/feed",
        lambda limit, cursor: feed.public_feed(services, limit, cursor, viewer),
    )


def home_feed(services: Services, viewer: User) -> Feed:
    return Feed(
        "/api/v1/home",
        lambda limit, cursor: feed.home_feed(services, viewer, limit, cursor),
    )


def profile_feed(services: Services, username: str, viewer: User | None) -> Feed:
    return Feed(
        f"/api/v1/users/{quote(username, safe='')}/images",
        lambda limit, cursor: feed.user_images(services, username, viewer, limit, cursor),
    )


def tag_feed(services: Services, name: str, viewer: User | None = None) -> Feed:
    return Feed(
        f"/api/v1/tags/{quote(name, safe='')}/images",
        lambda limit, cursor: feed.tag_images(services, name, limit, cursor, viewer),
    )


def page_limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    try:
        value = int(raw) if raw else DEFAULT_LIMIT
    except ValueError:
        return DEFAULT_LIMIT
    return value if 1 <= value <= MAX_LIMIT else DEFAULT_LIMIT


@dataclass(frozen=True)
class Cards:
    """One page of a feed as cards."""

    cards: list[Card]
    limit: int
    cursor: str | None  # where this page started (None: the top)
    next_cursor: str | None


async def read_cards(
    request: Request, source: Feed, viewer: User | None, *, first_index: int = 0
) -> Cards | None:
    """The page of ``source`` that the request's ``?limit=``/``?cursor=`` ask for, or None
    when the cursor is not one the feed handed out. ``first_index`` numbers the cards (the
    first few of a page load eagerly)."""
    limit = page_limit(request)
    cursor = request.query_params.get("cursor") or None
    if cursor is not None and len(cursor) > 200:
        return None
    try:
        page = await source.load(limit, cursor)
    except InvalidInput:
        return None
    urls = services_of(request).media_urls
    cards = [
        card(image_public(image, viewer, urls), first_index + i)
        for i, image in enumerate(page.items)
    ]
    return Cards(cards=cards, limit=limit, cursor=cursor, next_cursor=page.next_cursor)


def img_sources(services: Services) -> Sequence[str]:
    """Image origins for the policy: media URLs are absolute when a public base URL is set."""
    return [services.settings.public_base_url] if services.settings.public_base_url else []
