"""Blocking people: it hides both ways (``services/people/blocks.py``)."""

from __future__ import annotations

from typing import Any

from fastapi import Response, status

from shutterbox.entrypoints.api.deps import CurrentUser, ServicesDep
from shutterbox.entrypoints.api.routers.feed import Limit
from shutterbox.entrypoints.api.routers.social import PeopleCursor, UserRef, UserRefPage
from shutterbox.entrypoints.api.schemas import ErrorBody
from shutterbox.entrypoints.http.routing import Router
from shutterbox.services.people import blocks

router = Router(prefix="/api/v1", tags=["people"])

_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (401, 404, 422)}


@router.get("/users/me/blocks", response_model=UserRefPage, responses=_ERRORS)
async def read_blocks(
    services: ServicesDep, user: CurrentUser, limit: Limit = 20, cursor: PeopleCursor = None
) -> UserRefPage:
    """Whom you blocked, by username."""
    page = await blocks.blocked_by(services, user, limit, cursor)
    return UserRefPage(
        items=[UserRef(username=name) for name in page.usernames], next_cursor=page.next_cursor
    )


@router.put("/users/{username}/block", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
async def block_user(username: str, services: ServicesDep, user: CurrentUser) -> Response:
    """Block someone: neither of you sees the other's images or can follow the other, and the
    follows between you end (blocking again: no change)."""
    await blocks.block(services, user, username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/users/{username}/block", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
async def unblock_user(username: str, services: ServicesDep, user: CurrentUser) -> Response:
    """Stop blocking someone (follows do not come back by themselves)."""
    await blocks.unblock(services, user, username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
