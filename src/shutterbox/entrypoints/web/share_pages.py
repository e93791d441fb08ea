"""The page of a share link (``/s/{token}``), for anyone holding it, logged in or not: an
album's images or one image, as the link allows (without place and camera when it hides
details). A link with a password shows a form first; the right password sets a cookie that
keeps that link alone unlocked. A revoked or expired link says so (410), an unknown one is a
404."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shutterbox.domain.errors import (
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    RateLimited,
    ShutterboxError,
)
from shutterbox.entrypoints.api.album_presenters import shared_image_json
from shutterbox.entrypoints.api.schemas import ImagePublic
from shutterbox.entrypoints.api.share_cookies import set_unlocked
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.entrypoints.http.middleware import same_origin
from shutterbox.entrypoints.http.middleware.rate_limiting import client_address
from shutterbox.entrypoints.http.routing import Router
from shutterbox.entrypoints.web.cards import card, image_alt
from shutterbox.entrypoints.web.image_pages import camera_line, media_origins, picture_of, when
from shutterbox.entrypoints.web.rendering import render
from shutterbox.services.albums import shared_view
from shutterbox.services.context import Services

router = Router(include_in_schema=False)
PAGE_SIZE = 24


def _services(request: Request) -> Services:
    services: Services = app_state(request.app).services
    return services


async def _problem(request: Request, error: ShutterboxError) -> Response:
    heading = {410: "This link no longer works", 404: "This link is not here"}.get(
        error.status, "This link cannot be opened"
    )
    context = {"heading": heading, "message": error.message}
    return await render(request, "message.html", context, status_code=error.status)


async def _password_form(request: Request, token: str, error: str, status_code: int) -> Response:
    context = {"token": token, "error": error}
    return await render(request, "share_password.html", context, status_code=status_code)


@router.get("/s/{token}", response_class=HTMLResponse)
async def read_shared_page(request: Request, token: str, cursor: str | None = None) -> Response:
    services = _services(request)
    try:
        view = await shared_view.open_share(
            services, token, dict(request.cookies), PAGE_SIZE, cursor
        )
    except shared_view.PasswordRequired:
        return await _password_form(request, token, "", 401)
    except (NotFound, Gone, InvalidInput) as error:
        return await _problem(request, error)
    urls = services.media_urls
    share = view.share
    context: dict[str, object] = {
        "token": token,
        "hide_details": share.hide_details,
        "album": None,
        "image": None,
    }
    if view.image is not None:
        image = ImagePublic.model_validate(shared_image_json(view.image, share, urls))
        context |= {
            "image": image,
            "picture": picture_of(image),
            "alt": image_alt(image),
            "camera": "" if share.hide_details else camera_line(image.camera),
            "taken_at": "" if share.hide_details else when(image.taken_at),
        }
    if view.album is not None and view.page is not None:
        shown = [
            ImagePublic.model_validate(shared_image_json(i, share, urls)) for i in view.page.items
        ]
        cards = []
        for n, image in enumerate(shown):
            made = card(image, n)
            full = image.variants.get("full") or image.variants.get("medium")
            cards.append(replace(made, href=full.url if full is not None else made.src))
        context |= {
            "album": view.album,
            "cards": cards,
            "more_href": f"?cursor={view.page.next_cursor}" if view.page.next_cursor else "",
        }
    return await render(request, "shared.html", context, img_sources=media_origins(services))


@router.post("/s/{token}", response_class=HTMLResponse)
async def unlock_shared_page(
    request: Request, token: str, password: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    """The password form: the right password unlocks the link (a cookie for it alone)."""
    if not same_origin.same_origin(request):
        return await _problem(request, Forbidden("this form was sent from another site"))
    services = _services(request)
    if not password:
        return await _password_form(request, token, "Type the link's password.", 422)
    try:
        share = await shared_view.unlock(services, token, password, client_address(request))
    except (Forbidden, RateLimited) as error:
        return await _password_form(request, token, error.message, error.status)
    except (NotFound, Gone) as error:
        return await _problem(request, error)
    response = RedirectResponse(f"/s/{token}", status_code=303)
    set_unlocked(response, request, services, share, token)
    return response
