"""The next pages of the feeds as HTML: runs of ``_image_card.html`` for ``feed.js`` to append.

Each feed's fragments live at ``/fragments`` + the path of the API listing of the same images
(``/fragments/api/v1/feed``, ``/fragments/api/v1/home``,
``/fragments/api/v1/users/{username}/images``, ``/fragments/api/v1/tags/{tag}/images``) and
take the same ``?limit=`` and ``?cursor=``. The body is the cards; the ``X-Next-Cursor``
header carries the cursor of the page after (absent at the end). A cursor the feed never
handed out is a 400; nobody by that name, a 404; ``/home`` without a session, a 401.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from shutterbox.domain.errors import NotFound
from shutterbox.domain.users import User
from shutterbox.entrypoints.http.routing import Router
from shutterbox.entrypoints.web import feeds
from shutterbox.entrypoints.web.cards import EAGER_CARDS
from shutterbox.entrypoints.web.rendering import fragment, page_viewer
from shutterbox.services.people import follows

router = Router(prefix=feeds.FRAGMENTS_PREFIX, include_in_schema=False)

NEXT_CURSOR = "X-Next-Cursor"


def _refused(status_code: int, message: str) -> Response:
    return Response(
        message,
        status_code=status_code,
        media_type="text/plain",
        headers={"Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff"},
    )


async def _cards(request: Request, source: feeds.Feed, viewer: User | None) -> Response:
    # Cards after the first page are never the first in view: they all load lazily.
    page = await feeds.read_cards(request, source, viewer, first_index=EAGER_CARDS)
    if page is None:
        return _refused(400, "That cursor points into the feed at a place that does not exist.")
    return fragment(
        request,
        "_image_cards.html",
        {"cards": page.cards},
        headers={NEXT_CURSOR: page.next_cursor} if page.next_cursor else None,
        img_sources=feeds.img_sources(feeds.services_of(request)),
    )


@router.get("/api/v1/feed", response_class=HTMLResponse)
async def read_feed_cards(request: Request) -> Response:
    viewer, _ = await page_viewer(request)
    return await _cards(request, feeds.public_feed(feeds.services_of(request), viewer), viewer)


@router.get("/api/v1/home", response_class=HTMLResponse)
async def read_home_cards(request: Request) -> Response:
    viewer, _ = await page_viewer(request)
    if viewer is None:
        return _refused(401, "Log in to see your home feed.")
    return await _cards(request, feeds.home_feed(feeds.services_of(request), viewer), viewer)


@router.get("/api/v1/users/{username}/images", response_class=HTMLResponse)
async def read_profile_cards(request: Request, username: str) -> Response:
    services = feeds.services_of(request)
    viewer, _ = await page_viewer(request)
    try:
        profile = await follows.profile(services, viewer, username)
    except NotFound:
        return _refused(404, f"Nobody here is called “{username}”.")
    return await _cards(request, feeds.profile_feed(services, profile.username, viewer), viewer)


@router.get("/api/v1/tags/{tag}/images", response_class=HTMLResponse)
async def read_tag_cards(request: Request, tag: str) -> Response:
    name = tag.strip().lstrip("#").lower()
    if not name:
        return _refused(404, "That is not a tag.")
    viewer, _ = await page_viewer(request)
    return await _cards(request, feeds.tag_feed(feeds.services_of(request), name, viewer), viewer)
