"""The trash: what you deleted, until the retention passes, and bringing it back."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from shutterbox.entrypoints.api.deps import CurrentUser, ServicesDep
from shutterbox.entrypoints.api.presenters import image_public
from shutterbox.entrypoints.api.schemas import ErrorBody, ImagePublic, Timestamp
from shutterbox.entrypoints.http.routing import Router
from shutterbox.services.social import likes
from shutterbox.services.storage import trash

router = Router(prefix="/api/v1", tags=["trash"])


class TrashedImage(BaseModel):
    id: str
    caption: str
    tags: list[str]
    status: str
    width: int | None = None
    height: int | None = None
    bytes: int = Field(description="Bytes of the original kept until the purge.")
    created_at: Timestamp
    deleted_at: Timestamp
    purge_at: Timestamp = Field(description="When the image is removed for good.")


class TrashPage(BaseModel):
    items: list[TrashedImage]
    next_cursor: str | None = None


@router.get(
    "/trash",
    response_model=TrashPage,
    responses={401: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
async def read_trash(
    services: ServicesDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> TrashPage:
    """Your deleted images that can still be restored, most recently deleted first."""
    page = await trash.list_trash(services, user, limit, cursor)
    return TrashPage(
        items=[
            TrashedImage(
                id=image.id,
                caption=image.caption,
                tags=image.tags,
                status=image.status.value,
                width=image.width,
                height=image.height,
                bytes=image.original_bytes,
                created_at=image.created_at,
                deleted_at=image.deleted_at,
                purge_at=trash.purge_at(services, image),
            )
            for image in page.items
            if image.deleted_at is not None
        ],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/images/{image_id}/restore",
    response_model=ImagePublic,
    responses={code: {"model": ErrorBody} for code in (401, 404, 410)},
)
async def restore_image(image_id: str, services: ServicesDep, user: CurrentUser) -> ImagePublic:
    """Bring an image back from your trash, within the retention period."""
    image = await trash.restore_from_trash(services, user, image_id)
    liked = bool(await likes.liked_among(services, user, [image]))
    return image_public(image, user, services.media_urls, liked=liked)
