"""The feeds as pages: the public feed (``/``), your home feed (``/home``), a person's profile
(``/users/{username}``) and a tag (``/tags/{tag}``).

Each page renders its first page of images on the server, from the same services and the
same presenter as the JSON API (so the URLs are the API's), for a fast first paint;
``feed.js`` then fetches the following pages from the API as the reader scrolls (or presses
"Load more"), following ``next_cursor``. ``?limit=`` sets the page size (1-100) and
``?cursor=`` starts further down, which is also how the pages work without JavaScript.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from shutterbox.domain.errors import InvalidInput, NotFound
from shutterbox.domain.users import User
from shutterbox.entrypoints.api.presenters import image_public
from shutterbox.entrypoints.api.schemas import ImagePublic
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.entrypoints.web.pages import page_viewer, render
from shutterbox.services.context import Services
from shutterbox.services.images import feed
from shutterbox.services.images.feed import Page
from shutterbox.services.people import follows

router = APIRouter(include_in_schema=False)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
EAGER_CARDS = 4  # the first cards load at once (they are in view); the rest lazily

# The width a card's image is shown at, for the browser to pick a variant from the srcset;
# it follows the grid of app.css (1 column, 2 from 36rem, 3 from 56rem, at most 72rem wide).
CARD_SIZES = (
    "(min-width: 72rem) 23rem, "
    "(min-width: 56rem) calc((100vw - 4rem) / 3), "
    "(min-width: 36rem) calc((100vw - 3rem) / 2), "
    "calc(100vw - 2rem)"
)
# <source> elements for the formats a browser may not decode, best first; JPEG is the <img>.
PICTURE_FORMATS = (("avif", "image/avif"), ("webp", "image/webp"))
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --- a card: one image in a grid ----------------------------------------------------------


@dataclass(frozen=True)
class Source:
    type: str
    srcset: str


@dataclass(frozen=True)
class Card:
    """What ``_image_card.html`` shows of an image (``feed.js`` builds the same from JSON)."""

    id: str
    href: str
    owner: str
    owner_href: str
    caption: str
    alt: str
    tags: list[tuple[str, str]]  # (tag, its page)
    created_at: str  # ISO 8601, UTC
    created_label: str  # "3 May 2025"
    private: bool
    width: int | None
    height: int | None
    src: str
    srcset: str
    sources: list[Source]
    blurhash: str
    color: str
    eager: bool
    sizes: str = CARD_SIZES


def rfc3339(moment: datetime) -> str:
    """A moment as the API writes it: UTC, to the second, with a Z."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat() + "Z"


def image_alt(image: ImagePublic) -> str:
    """Alt text: the owner's description, else the caption, else whose photo it is."""
    return image.alt_text.strip() or image.caption.strip() or f"Photo by {image.owner}"


def date_label(at: datetime) -> str:
    return f"{at.day} {MONTHS[at.month - 1]} {at.year}"


def _srcset(image: ImagePublic, fmt: str) -> str:
    return ", ".join(
        f"{v.formats[fmt]} {v.width}w" for v in image.variants.values() if fmt in v.formats
    )


def card(image: ImagePublic, index: int = 0) -> Card:
    variants = image.variants  # smallest first
    shown = variants.get("medium") or (list(variants.values())[-1] if variants else None)
    jpeg_src = (shown.formats.get("jpeg") or shown.url) if shown else ""
    width = shown.width if shown else image.width
    height = shown.height if shown else image.height
    sources = [Source(mime, _srcset(image, fmt)) for fmt, mime in PICTURE_FORMATS]
    created = image.created_at
    return Card(
        id=image.id,
        href=f"/images/{quote(image.id, safe='')}",
        owner=image.owner,
        owner_href=f"/users/{quote(image.owner, safe='')}",
        caption=image.caption,
        alt=image_alt(image),
        tags=[(tag, f"/tags/{quote(tag, safe='')}") for tag in image.tags],
        created_at=rfc3339(created),
        created_label=date_label(created),
        private=image.visibility != "public",
        width=width,
        height=height,
        src=jpeg_src,
        srcset=_srcset(image, "jpeg"),
        sources=[s for s in sources if s.srcset],
        blurhash=image.blurhash or "",
        color=image.dominant_color or "",
        eager=index < EAGER_CARDS,
    )


# --- a page of cards ----------------------------------------------------------------------


@dataclass(frozen=True)
class FeedView:
    """The grid of a page: its first cards and where ``feed.js`` fetches the next ones."""

    cards: list[Card]
    api: str  # the API path that lists the same images
    limit: int
    next_cursor: str | None
    more_href: str | None  # the next page without JavaScript
    started_later: bool  # ``?cursor=`` was given: this is not the first page
    first_href: str
    sizes: str = CARD_SIZES  # for the cards feed.js adds


def _limit(raw: str | None) -> int:
    try:
        value = int(raw) if raw else DEFAULT_LIMIT
    except ValueError:
        return DEFAULT_LIMIT
    return value if 1 <= value <= MAX_LIMIT else DEFAULT_LIMIT


def _services(request: Request) -> Services:
    services: Services = app_state(request.app).services
    return services


Loader = Callable[[int, str | None], Awaitable[Page]]


async def _feed_view(
    request: Request, api: str, viewer: User | None, load: Loader
) -> FeedView | None:
    """The first page of a feed, or None when ``?cursor=`` is not one the API handed out."""
    limit = _limit(request.query_params.get("limit"))
    cursor = request.query_params.get("cursor") or None
    if cursor is not None and len(cursor) > 200:
        return None
    try:
        page = await load(limit, cursor)
    except InvalidInput:
        return None
    urls = _services(request).media_urls
    cards = [card(image_public(image, viewer, urls), i) for i, image in enumerate(page.items)]
    path = request.url.path
    keep = {"limit": str(limit)} if limit != DEFAULT_LIMIT else {}
    more_href = None
    if page.next_cursor:
        more_href = f"{path}?{urlencode({**keep, 'cursor': page.next_cursor})}"
    first_href = f"{path}?{urlencode(keep)}" if keep else path
    return FeedView(
        cards=cards,
        api=api,
        limit=limit,
        next_cursor=page.next_cursor,
        more_href=more_href,
        started_later=cursor is not None,
        first_href=first_href,
    )


async def _message(request: Request, heading: str, message: str, status_code: int) -> Response:
    return await render(
        request, "message.html", {"heading": heading, "message": message}, status_code=status_code
    )


async def _bad_cursor(request: Request) -> Response:
    return await _message(
        request,
        "Page not found",
        "That link points into a feed at a place that does not exist. Start from the top.",
        400,
    )


def _img_sources(services: Services) -> Sequence[str]:
    # Media URLs are absolute when a public base URL is set; let the policy allow them.
    return [services.settings.public_base_url] if services.settings.public_base_url else []


# --- the pages ----------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def read_feed_page(request: Request) -> Response:
    """The public feed: everyone's newest public photos."""
    services = _services(request)
    viewer, _ = await page_viewer(request)
    view = await _feed_view(
        request,
        "/api/v1/feed",
        viewer,
        lambda limit, cursor: feed.public_feed(services, limit, cursor),
    )
    if view is None:
        return await _bad_cursor(request)
    return await render(
        request,
        "feed.html",
        {"active": "feed", "feed_view": view, "kind": "public"},
        img_sources=_img_sources(services),
    )


@router.get("/home", response_class=HTMLResponse)
async def read_home_page(request: Request) -> Response:
    """Your home: your own photos and those of the people you follow."""
    services = _services(request)
    viewer, _ = await page_viewer(request)
    if viewer is None:
        return RedirectResponse("/login?next=/home", status_code=303)
    view = await _feed_view(
        request,
        "/api/v1/home",
        viewer,
        lambda limit, cursor: feed.home_feed(services, viewer, limit, cursor),
    )
    if view is None:
        return await _bad_cursor(request)
    return await render(
        request,
        "feed.html",
        {"active": "home", "feed_view": view, "kind": "home"},
        img_sources=_img_sources(services),
    )


@router.get("/users/{username}", response_class=HTMLResponse)
async def read_profile_page(request: Request, username: str) -> Response:
    """A person: their counts, a Follow button, and their photos."""
    services = _services(request)
    viewer, _ = await page_viewer(request)
    try:
        profile = await follows.profile(services, viewer, username)
    except NotFound:
        return await _message(
            request, "No such person", f"Nobody here is called “{username}”.", 404
        )
    if profile.username != username:  # /users/Alice → /users/alice
        return RedirectResponse(f"/users/{quote(profile.username, safe='')}", status_code=308)
    view = await _feed_view(
        request,
        f"/api/v1/users/{quote(profile.username, safe='')}/images",
        viewer,
        lambda limit, cursor: feed.user_images(services, profile.username, viewer, limit, cursor),
    )
    if view is None:
        return await _bad_cursor(request)
    context: dict[str, Any] = {
        "feed_view": view,
        "profile": profile,
        "own": viewer is not None and viewer.username == profile.username,
        "joined": date_label(profile.created_at),
        "joined_at": profile.created_at.date().isoformat(),
        "kind": "profile",
        "active": "",
    }
    return await render(request, "profile.html", context, img_sources=_img_sources(services))


@router.get("/tags/{tag}", response_class=HTMLResponse)
async def read_tag_page(request: Request, tag: str) -> Response:
    """Public photos with a tag."""
    services = _services(request)
    name = tag.strip().lstrip("#").lower()
    if name != tag:  # /tags/Sea → /tags/sea
        if not name:
            return await _message(request, "No such tag", "That is not a tag.", 404)
        return RedirectResponse(f"/tags/{quote(name, safe='')}", status_code=308)
    viewer, _ = await page_viewer(request)
    view = await _feed_view(
        request,
        f"/api/v1/tags/{quote(name, safe='')}/images",
        viewer,
        lambda limit, cursor: feed.tag_images(services, name, limit, cursor),
    )
    if view is None:
        return await _bad_cursor(request)
    return await render(
        request,
        "tag.html",
        {"feed_view": view, "tag": name, "kind": "tag", "active": ""},
        img_sources=_img_sources(services),
    )
