"""Notifications: someone followed you, liked or commented on one of your images, or one of
your images could not be processed. Never about what you did yourself; never shown while
their image is one you cannot see (deleted, or made private by someone else)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shutterbox.clock import utcnow
from shutterbox.domain.social import Notification, NotificationKind, new_social_id
from shutterbox.domain.users import User
from shutterbox.ports.metadata import WriteTransaction
from shutterbox.services.context import Services
from shutterbox.services.images.cursors import decode_cursor, encode_position

# The unread count is counted up to this (the header shows "99+" past it).
UNREAD_COUNTED = 100


@dataclass(frozen=True)
class NotificationPage:
    items: list[Notification]
    next_cursor: str | None


def cursor_of(notification: Notification) -> str:
    """The notification's position, as a cursor (and as what ``mark_read`` takes)."""
    return encode_position(notification.created_at, notification.id)


async def notify(
    tx: WriteTransaction,
    recipient_id: int,
    kind: NotificationKind,
    *,
    actor: User | None = None,
    image_id: str | None = None,
    comment_id: str | None = None,
    when: datetime | None = None,
) -> None:
    """Add a notification in ``tx`` (with the change it is about); nothing when the recipient
    is the one who acted."""
    if actor is not None and actor.id == recipient_id:
        return
    notification = Notification(
        id=new_social_id(),
        recipient_id=recipient_id,
        kind=kind,
        created_at=when or utcnow(),
        image_id=image_id,
        comment_id=comment_id,
    )
    await tx.notifications.add(notification, actor.id if actor is not None else None)


async def processing_failed(tx: WriteTransaction, owner_id: int, image_id: str) -> None:
    await notify(tx, owner_id, NotificationKind.PROCESSING_FAILED, image_id=image_id)


async def notifications_page(
    services: Services, user: User, limit: int, cursor: str | None
) -> NotificationPage:
    """The user's notifications, newest first."""
    position = decode_cursor(cursor)
    async with services.metadata.quick_read() as tx:
        found = await tx.notifications.page(user.id, before=position, limit=limit + 1)
    more = len(found) > limit
    found = found[:limit]
    return NotificationPage(found, cursor_of(found[-1]) if more and found else None)


async def unread_count(services: Services, user: User) -> int:
    """How many of the user's notifications are unread, up to ``UNREAD_COUNTED``."""
    async with services.metadata.quick_read() as tx:
        return await tx.notifications.unread_count(user.id, at_most=UNREAD_COUNTED)


async def mark_read(services: Services, user: User, up_to: str | None) -> None:
    """Mark the user's notifications read: every one, or those up to the one ``up_to`` (a
    notification's ``cursor``) names, and older ones."""
    position = decode_cursor(up_to)
    async with services.metadata.write() as tx:
        await tx.notifications.mark_read(user.id, position, utcnow())
