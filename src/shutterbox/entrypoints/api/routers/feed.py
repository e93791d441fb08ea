"""Feeds: the public one, a user's images, a tag's images, and your home."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from starlette.responses import Response

from shutterbox.domain.users import User
from shutterbox.entrypoints.api.deps import CurrentUser, OptionalUser, ServicesDep
from shutterbox.entrypoints.api.presenters import page_response
from shutterbox.entrypoints.api.schemas import ErrorBody, ImagePage
from shutterbox.entrypoints.http.routing import Router
from shutterbox.services.context import Services
from shutterbox.services.images import feed
from shutterbox.services.social import likes

router = Router(prefix="/api/v1", tags=["feed"])

Limit = Annotated[int, Query(ge=1, le=100, description="Items per page.")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the page before.")
]


async def _answer(services: Services, viewer: User | None, page: feed.Page) -> Response:
    """The page, with which of its images the viewer likes (one query)."""
    liked = await likes.liked_among(services, viewer, page.items)
    return page_response(page.items, page.next_cursor, viewer, services.media_urls, liked)


@router.get("/feed", response_model=ImagePage, responses={422: {"model": ErrorBody}})
async def read_feed(
    services: ServicesDep, viewer: OptionalUser, limit: Limit = 20, cursor: Cursor = None
) -> Response:
    """Recent public images, newest first."""
    page = await feed.public_feed(services, limit, cursor, viewer)
    return await _answer(services, viewer, page)


@router.get(
    "/users/{username}/images",
    response_model=ImagePage,
    responses={404: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
async def read_user_images(
    username: str,
    services: ServicesDep,
    viewer: OptionalUser,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response:
    """A user's images, newest first (their private ones too when they ask)."""
    page = await feed.user_images(services, username, viewer, limit, cursor)
    return await _answer(services, viewer, page)


@router.get("/tags/{tag}/images", response_model=ImagePage, responses={422: {"model": ErrorBody}})
async def read_tag_images(
    tag: str,
    services: ServicesDep,
    viewer: OptionalUser,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response:
    """Public images with this tag, newest first."""
    page = await feed.tag_images(services, tag, limit, cursor, viewer)
    return await _answer(services, viewer, page)


@router.get(
    "/home",
    response_model=ImagePage,
    responses={401: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
async def read_home(
    services: ServicesDep, user: CurrentUser, limit: Limit = 20, cursor: Cursor = None
) -> Response:
    """Your images (private ones too) and the public images of the people you follow, newest
    first."""
    page = await feed.home_feed(services, user, limit, cursor)
    return await _answer(services, user, page)
