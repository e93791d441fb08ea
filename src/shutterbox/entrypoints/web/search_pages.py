"""The search page (``/search?q=``): the people whose username starts with the query, then the
images, best first, as the feeds' cards; "More results" is a link to the next page (the
cursor), so the page works the same with or without JavaScript. The box that leads here is
in the header of every page (``base.html``)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from shutterbox.domain.errors import InvalidInput
from shutterbox.entrypoints.api.presenters import image_public
from shutterbox.entrypoints.http.routing import Router
from shutterbox.entrypoints.web import feeds
from shutterbox.entrypoints.web.cards import card
from shutterbox.entrypoints.web.rendering import page_viewer, render
from shutterbox.services.images import search

router = Router(include_in_schema=False)


@router.get("/search", response_class=HTMLResponse)
async def read_search_page(request: Request) -> Response:
    """Photos and people matching the words of ``?q=``."""
    services = feeds.services_of(request)
    viewer, _ = await page_viewer(request)
    query = request.query_params.get("q", "")
    cursor = request.query_params.get("cursor") or None
    limit = feeds.page_limit(request)
    context: dict[str, object] = {
        "query": query,
        "active": "search",
        "searched": False,
        "problem": None,
    }
    if not query.strip():  # the empty page: just the box
        return await render(request, "search.html", context)
    try:
        found = await search.search(services, query, viewer, limit, cursor)
    except InvalidInput as problem:
        return await render(
            request, "search.html", {**context, "problem": problem.message}, status_code=422
        )
    urls = services.media_urls
    more_href = None
    if found.next_cursor:
        more_href = "/search?" + urlencode({"q": query, "cursor": found.next_cursor})
    return await render(
        request,
        "search.html",
        {
            **context,
            "searched": True,
            "started_later": cursor is not None,
            "usernames": found.usernames,
            "cards": [
                card(image_public(image, viewer, urls), i) for i, image in enumerate(found.images)
            ],
            "more_href": more_href,
        },
        img_sources=feeds.img_sources(services),
    )
