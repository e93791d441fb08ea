"""Share links: making, listing and revoking your links, and what a link shows to anyone."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request, Response, status
from fastapi.responses import JSONResponse

from shutterbox.entrypoints.api.album_presenters import share_public, shared_json
from shutterbox.entrypoints.api.album_schemas import (
    ShareCreate,
    ShareCreated,
    SharedContent,
    SharePage,
    ShareUnlock,
)
from shutterbox.entrypoints.api.deps import CurrentUser, ServicesDep
from shutterbox.entrypoints.api.routers.feed import Cursor, Limit
from shutterbox.entrypoints.api.schemas import ErrorBody
from shutterbox.entrypoints.api.share_cookies import set_unlocked
from shutterbox.entrypoints.http.middleware.rate_limiting import client_address
from shutterbox.entrypoints.http.routing import Router
from shutterbox.services.albums import shared_view, shares

router = Router(prefix="/api/v1", tags=["shares"])

Token = Annotated[str, Path(max_length=100)]
NO_STORE = {"Cache-Control": "private, no-store"}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody} for code in codes}


@router.post(
    "/shares",
    status_code=status.HTTP_201_CREATED,
    response_model=ShareCreated,
    responses=_errors(401, 403, 404, 422),
)
async def create_share(body: ShareCreate, services: ServicesDep, user: CurrentUser) -> Response:
    """A link to one of your albums or images that works for anyone, logged in or not; its
    token is in the answer this once."""
    made = await shares.create_share(
        services,
        user,
        album_id=body.album_id,
        image_id=body.image_id,
        expires_at=body.expires_at,
        password=body.password,
        hide_details=body.hide_details,
    )
    created = ShareCreated(
        **share_public(made.share).model_dump(), token=made.token, url=f"/s/{made.token}"
    )
    return JSONResponse(created.model_dump(mode="json"), status_code=201, headers=NO_STORE)


@router.get("/shares", response_model=SharePage, responses=_errors(401, 422))
async def read_shares(
    services: ServicesDep, user: CurrentUser, limit: Limit = 20, cursor: Cursor = None
) -> SharePage:
    """Your links not revoked, newest first (their tokens are never shown again)."""
    page = await shares.my_shares(services, user, limit, cursor)
    return SharePage(items=[share_public(s) for s in page.items], next_cursor=page.next_cursor)


@router.delete(
    "/shares/{share_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_errors(401, 404)
)
async def revoke_share(
    share_id: Annotated[str, Path(max_length=64)], services: ServicesDep, user: CurrentUser
) -> Response:
    """Revoke your link: it and the media URLs it handed out stop working at once."""
    await shares.revoke_share(services, user, share_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/shared/{token}", response_model=SharedContent, responses=_errors(401, 404, 410, 422))
async def read_shared(
    token: Token,
    request: Request,
    services: ServicesDep,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response:
    """What a link shows, for anyone holding it: 401 `password_required` until its password
    is given (`POST .../unlock`), 410 once revoked or expired."""
    view = await shared_view.open_share(services, token, dict(request.cookies), limit, cursor)
    return JSONResponse(shared_json(view, services.media_urls), headers=NO_STORE)


@router.post(
    "/shared/{token}/unlock",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_errors(403, 404, 410, 422, 429),
)
async def unlock_shared(
    token: Token, body: ShareUnlock, request: Request, services: ServicesDep
) -> Response:
    """Give a link's password: a cookie then keeps that link (alone) unlocked for a day at
    most. Wrong passwords are limited like login attempts."""
    share = await shared_view.unlock(services, token, body.password, client_address(request))
    response = Response(status_code=status.HTTP_204_NO_CONTENT, headers=NO_STORE)
    set_unlocked(response, request, services, share, token)
    return response
