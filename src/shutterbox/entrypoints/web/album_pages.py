"""The album pages: someone's albums (``/users/{name}/albums``) and one album
(``/albums/{id}``), with the same rule of who sees what as the API: a private album only for
its owner, and in any album only the images the viewer may see. For the owner, ``albums.js``
makes, edits, orders and deletes albums and makes share links."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from shutterbox.domain.albums import MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS
from shutterbox.domain.errors import InvalidInput, NotFound
from shutterbox.entrypoints.api.album_presenters import album_public
from shutterbox.entrypoints.api.presenters import image_public
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.entrypoints.http.routing import Router
from shutterbox.entrypoints.web.cards import card
from shutterbox.entrypoints.web.image_pages import media_origins
from shutterbox.entrypoints.web.rendering import page_viewer, render
from shutterbox.services.albums import albums, entries
from shutterbox.services.context import Services

router = Router(include_in_schema=False)
PAGE_SIZE = 24


def _services(request: Request) -> Services:
    services: Services = app_state(request.app).services
    return services


async def _message(request: Request, heading: str, message: str, status_code: int) -> Response:
    context = {"heading": heading, "message": message}
    return await render(request, "message.html", context, status_code=status_code)


@router.get("/users/{username}/albums", response_class=HTMLResponse)
async def read_albums_page(request: Request, username: str, cursor: str | None = None) -> Response:
    viewer, _csrf = await page_viewer(request)
    services = _services(request)
    try:
        page = await albums.albums_of(services, username, viewer, PAGE_SIZE, cursor)
    except NotFound:
        return await _message(request, "Nobody here", f"There is no user called {username}.", 404)
    except InvalidInput:
        return await _message(request, "Not a page", "That page of albums does not exist.", 422)
    name = username.strip().lower()
    shown = [album_public(view, viewer, services.media_urls) for view in page.items]
    context = {
        "username": name,
        "own": viewer is not None and viewer.username == name,
        "albums": shown,
        "covers": {a.id: card(a.cover) for a in shown if a.cover is not None},
        "more_href": f"?cursor={page.next_cursor}" if page.next_cursor else "",
        "max_title_chars": MAX_TITLE_CHARS,
        "max_description_chars": MAX_DESCRIPTION_CHARS,
    }
    return await render(request, "albums.html", context, img_sources=media_origins(services))


@router.get("/albums/{album_id}", response_class=HTMLResponse)
async def read_album_page(request: Request, album_id: str, cursor: str | None = None) -> Response:
    viewer, _csrf = await page_viewer(request)
    services = _services(request)
    try:
        view = await albums.read_album(services, album_id, viewer)
        page = await entries.album_images(services, album_id, viewer, PAGE_SIZE, cursor)
    except NotFound:
        message = "It may have been deleted or made private, or the link may be mistyped."
        return await _message(request, "This album is not here", message, 404)
    except InvalidInput:
        return await _message(request, "Not a page", "That page of the album does not exist.", 422)
    urls = services.media_urls
    context = {
        "album": album_public(view, viewer, urls),
        "own": viewer is not None and viewer.id == view.album.owner_id,
        "cards": [card(image_public(i, viewer, urls), n) for n, i in enumerate(page.items)],
        "more_href": f"?cursor={page.next_cursor}" if page.next_cursor else "",
        "max_title_chars": MAX_TITLE_CHARS,
        "max_description_chars": MAX_DESCRIPTION_CHARS,
    }
    return await render(request, "album.html", context, img_sources=media_origins(services))
