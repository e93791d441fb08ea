"""Feeds: the public one, a user's images, a tag's images."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from shutterbox.entrypoints.api.deps import OptionalUser, ServicesDep
from shutterbox.entrypoints.api.presenters import image_public
from shutterbox.entrypoints.api.schemas import ErrorBody, ImagePage
from shutterbox.services.delivery.media_urls import MediaUrls
from shutterbox.services.images import feed
from shutterbox.services.images.feed import Page

router = APIRouter(prefix="/api/v1", tags=["feed"])

Limit = Annotated[int, Query(ge=1, le=100, description="Items per page.")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the page before.")
]


def _page(page: Page, viewer: OptionalUser, urls: MediaUrls) -> ImagePage:
    return ImagePage(
        items=[image_public(i, viewer, urls) for i in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/feed", response_model=ImagePage, responses={422: {"model": ErrorBody}})
async def read_feed(
    services: ServicesDep, viewer: OptionalUser, limit: Limit = 20, cursor: Cursor = None
) -> ImagePage:
    """Recent public images, newest first."""
    page = await feed.public_feed(services, limit, cursor)
    return _page(page, viewer, services.media_urls)


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
) -> ImagePage:
    """A user's images, newest first (their private ones too when they ask)."""
    page = await feed.user_images(services, username, viewer, limit, cursor)
    return _page(page, viewer, services.media_urls)


@router.get("/tags/{tag}/images", response_model=ImagePage, responses={422: {"model": ErrorBody}})
async def read_tag_images(
    tag: str,
    services: ServicesDep,
    viewer: OptionalUser,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> ImagePage:
    """Public images with this tag, newest first."""
    page = await feed.tag_images(services, tag, limit, cursor)
    return _page(page, viewer, services.media_urls)
