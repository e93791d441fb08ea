"""Your notifications: who followed you, liked or commented on your images, and images of yours
that could not be processed. New ones also arrive on the event stream (`GET /api/v1/events`)."""

from __future__ import annotations

from typing import Any

from fastapi import Response, status
from pydantic import BaseModel, Field

from shutterbox.domain.social import Notification
from shutterbox.entrypoints.api.deps import CurrentUser, ServicesDep
from shutterbox.entrypoints.api.routers.feed import Cursor, Limit
from shutterbox.entrypoints.api.schemas import ErrorBody, Timestamp
from shutterbox.entrypoints.http.routing import Router
from shutterbox.services.social import notifications

router = Router(prefix="/api/v1/notifications", tags=["notifications"])


class NotificationPublic(BaseModel):
    id: str
    kind: str = Field(description="follow, like, comment or processing_failed")
    actor: str | None = Field(description="Who did it; null for a failed processing.")
    image_id: str | None = Field(description="The image it is about; null for a follow.")
    comment_id: str | None = None
    created_at: Timestamp
    read: bool
    cursor: str = Field(description="Its position: `up_to` of POST /api/v1/notifications/read.")


class NotificationPage(BaseModel):
    items: list[NotificationPublic]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page."
    )


class UnreadCount(BaseModel):
    unread: int = Field(description=f"Counted up to {notifications.UNREAD_COUNTED}.")


class MarkRead(BaseModel):
    up_to: str | None = Field(
        default=None,
        max_length=200,
        description="A notification's `cursor`: it and older ones are marked read. "
        "Left out: all of them.",
    )


_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (401, 422)}


def notification_json(found: Notification) -> dict[str, Any]:
    return NotificationPublic(
        id=found.id,
        kind=found.kind.value,
        actor=found.actor,
        image_id=found.image_id,
        comment_id=found.comment_id,
        created_at=found.created_at,
        read=found.read,
        cursor=notifications.cursor_of(found),
    ).model_dump(mode="json")


@router.get("", response_model=NotificationPage, responses=_ERRORS)
async def read_notifications(
    services: ServicesDep, user: CurrentUser, limit: Limit = 20, cursor: Cursor = None
) -> NotificationPage:
    """Your notifications, newest first."""
    page = await notifications.notifications_page(services, user, limit, cursor)
    return NotificationPage.model_validate(
        {"items": [notification_json(n) for n in page.items], "next_cursor": page.next_cursor}
    )


@router.get("/unread-count", response_model=UnreadCount, responses=_ERRORS)
async def read_unread_count(services: ServicesDep, user: CurrentUser) -> UnreadCount:
    """How many of your notifications are unread."""
    return UnreadCount(unread=await notifications.unread_count(services, user))


@router.post("/read", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
async def mark_notifications_read(
    services: ServicesDep, user: CurrentUser, body: MarkRead | None = None
) -> Response:
    """Mark your notifications read: all of them, or up to one (`up_to`)."""
    await notifications.mark_read(services, user, body.up_to if body else None)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
