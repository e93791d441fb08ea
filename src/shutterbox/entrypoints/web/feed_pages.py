"""The feeds as pages: the public feed (``/``), your home feed (``/home``), a person's profile
(``/users/{username}``) and a tag (``/tags/{tag}``).

Each page renders its first page of images on the server, from the same services and the
same presenter as the JSON API (so the URLs are the API's), for a fast first paint;
``feed.js`` then fetches the following pages as HTML cards (``feed_fragments``, the same
``_image_card.html``) as the reader scrolls (or presses "Load more"), following the next
cursor. ``?limit=`` sets the page size (1-100) and ``?cursor=`` starts further down, which is
also how the pages work without JavaScript: "Load more" is a link to the next page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from shutterbox.domain.errors import NotFound
from shutterbox.domain.moderation import ReportReason
from shutterbox.domain.users import User
from shutterbox.entrypoints.http.routing import Router
from shutterbox.entrypoints.web import feeds
from shutterbox.entrypoints.web.cards import Card, date_label
from shutterbox.entrypoints.web.rendering import page_viewer, render
from shutterbox.services.people import blocks, follows

router = Router(include_in_schema=False)


@dataclass(frozen=True)
class FeedView:
    """The grid of a page: its first cards and where ``feed.js`` fetches the next ones."""

    cards: list[Card]
    api: str  # the API path that lists the same images
    fragments: str  # the same images as HTML cards, for the next pages
    limit: int
    next_cursor: str | None
    more_href: str | None  # the next page without JavaScript
    started_later: bool  # ``?cursor=`` was given: this is not the first page
    first_href: str


async def _feed_view(request: Request, source: feeds.Feed, viewer: User | None) -> FeedView | None:
    """The first page of a feed, or None when ``?cursor=`` is not one the API handed out."""
    page = await feeds.read_cards(request, source, viewer)
    if page is None:
        return None
    path = request.url.path
    keep = {"limit": str(page.limit)} if page.limit != feeds.DEFAULT_LIMIT else {}
    more_href = None
    if page.next_cursor:
        more_href = f"{path}?{urlencode({**keep, 'cursor': page.next_cursor})}"
    first_href = f"{path}?{urlencode(keep)}" if keep else path
    return FeedView(
        cards=page.cards,
        api=source.api,
        fragments=source.fragments,
        limit=page.limit,
        next_cursor=page.next_cursor,
        more_href=more_href,
        started_later=page.cursor is not None,
        first_href=first_href,
    )


async def _message(request: Request, heading: str, message: str, status_code: int) -> Response:
    return await render(
        request, "message.html", {"heading": heading, "message": message}, status_code=status_code
    )


async def _feed_page(
    request: Request,
    source: feeds.Feed,
    viewer: User | None,
    template: str,
    context: dict[str, Any],
) -> Response:
    """A page whose grid shows ``source``; a cursor the feed never handed out is a 400."""
    view = await _feed_view(request, source, viewer)
    if view is None:
        return await _message(
            request,
            "Page not found",
            "That link points into a feed at a place that does not exist. Start from the top.",
            400,
        )
    return await render(
        request,
        template,
        {**context, "feed_view": view},
        img_sources=feeds.img_sources(feeds.services_of(request)),
    )


# --- the pages ----------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def read_feed_page(request: Request) -> Response:
    """The public feed: everyone's newest public photos."""
    services = feeds.services_of(request)
    viewer, _ = await page_viewer(request)
    context = {"active": "feed", "kind": "public"}
    return await _feed_page(
        request, feeds.public_feed(services, viewer), viewer, "feed.html", context
    )


@router.get("/home", response_class=HTMLResponse)
async def read_home_page(request: Request) -> Response:
    """Your home: your own photos and those of the people you follow."""
    services = feeds.services_of(request)
    viewer, _ = await page_viewer(request)
    if viewer is None:
        return RedirectResponse("/login?next=/home", status_code=303)
    context = {"active": "home", "kind": "home"}
    source = feeds.home_feed(services, viewer)
    return await _feed_page(request, source, viewer, "feed.html", context)


@router.get("/users/{username}", response_class=HTMLResponse)
async def read_profile_page(request: Request, username: str) -> Response:
    """A person: their counts, a Follow button, and their photos."""
    services = feeds.services_of(request)
    viewer, _ = await page_viewer(request)
    try:
        profile = await follows.profile(services, viewer, username)
    except NotFound:
        return await _message(
            request, "No such person", f"Nobody here is called “{username}”.", 404
        )
    if profile.username != username:  # /users/Alice → /users/alice
        return RedirectResponse(f"/users/{quote(profile.username, safe='')}", status_code=308)
    context: dict[str, Any] = {
        "profile": profile,
        "own": viewer is not None and viewer.username == profile.username,
        "joined": date_label(profile.created_at),
        "joined_at": profile.created_at.date().isoformat(),
        "kind": "profile",
        "active": "",
        "blocked": viewer is not None and await blocks.has_blocked(services, viewer, username),
        "report_reasons": [reason.value for reason in ReportReason],
    }
    source = feeds.profile_feed(services, profile.username, viewer)
    return await _feed_page(request, source, viewer, "profile.html", context)


@router.get("/tags/{tag}", response_class=HTMLResponse)
async def read_tag_page(request: Request, tag: str) -> Response:
    """Public photos with a tag."""
    services = feeds.services_of(request)
    name = tag.strip().lstrip("#").lower()
    if name != tag:  # /tags/Sea → /tags/sea
        if not name:
            return await _message(request, "No such tag", "That is not a tag.", 404)
        return RedirectResponse(f"/tags/{quote(name, safe='')}", status_code=308)
    viewer, _ = await page_viewer(request)
    context = {"tag": name, "kind": "tag", "active": ""}
    return await _feed_page(
        request, feeds.tag_feed(services, name, viewer), viewer, "tag.html", context
    )
