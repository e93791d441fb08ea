"""Notifications: a row per thing to tell someone, shown only while its image (if any) is one
they can see."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    delete,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.tables import images, notifications, users
from shutterbox.domain.images import Visibility
from shutterbox.domain.social import Notification, NotificationKind
from shutterbox.ports.social import Position

_N = notifications.c
_RECIPIENT = bindparam("recipient_id", type_=Integer)
# An image the recipient can see: undeleted, and public or theirs (by primary key, per row).
_SHOWN = or_(
    _N.image_id.is_(None),
    and_(
        images.c.deleted_at.is_(None),
        or_(images.c.visibility == Visibility.PUBLIC.value, images.c.owner_id == _RECIPIENT),
    ),
)
_FROM = notifications.outerjoin(images, images.c.id == _N.image_id).outerjoin(
    users, users.c.id == _N.actor_id
)
_COLUMNS = (
    _N.id,
    _N.recipient_id,
    _N.kind,
    _N.created_at,
    users.c.username,
    _N.image_id,
    _N.comment_id,
    _N.read_at,
)


@cache
def _list(*, newest_first: bool, from_position: bool) -> Any:
    """The recipient's shown notifications in (created_at, id) order: one range of
    ``ix_notifications_recipient``. Parameters: ``recipient_id``, ``limit``, and ``at`` and
    ``at_id`` from a position."""
    conditions = [_N.recipient_id == _RECIPIENT, _SHOWN]
    key = tuple_(_N.created_at, _N.id)
    if from_position:
        at = tuple_(bindparam("at", type_=DateTime), bindparam("at_id", type_=String))
        conditions.append(key < at if newest_first else key > at)
    order = (_N.created_at.desc(), _N.id.desc()) if newest_first else (_N.created_at, _N.id)
    return (
        select(*_COLUMNS)
        .select_from(_FROM)
        .where(*conditions)
        .order_by(*order)
        .limit(bindparam("limit", type_=Integer))
    )


# The unread ones, up to a bound: one range of ``ix_notifications_unread`` (their ids are
# counted as they arrive: at most ``at_most`` short rows).
_UNREAD = (
    select(_N.id)
    .select_from(notifications.outerjoin(images, images.c.id == _N.image_id))
    .where(_N.recipient_id == _RECIPIENT, _N.read_at.is_(None), _SHOWN)
    .limit(bindparam("at_most", type_=Integer))
)


def _notification(row: Any) -> Notification:
    return Notification(
        id=row.id,
        recipient_id=row.recipient_id,
        kind=NotificationKind(row.kind),
        created_at=row.created_at,
        actor=row.username,
        image_id=row.image_id,
        comment_id=row.comment_id,
        read=row.read_at is not None,
    )


class SqlNotifications:
    """``NotificationRepository`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, notification: Notification, actor_id: int | None) -> None:
        await self.conn.execute(
            notifications.insert(),
            {
                "id": notification.id,
                "recipient_id": notification.recipient_id,
                "kind": notification.kind.value,
                "actor_id": actor_id,
                "image_id": notification.image_id,
                "comment_id": notification.comment_id,
                "created_at": notification.created_at,
            },
        )

    async def withdraw(
        self,
        kind: NotificationKind,
        actor_id: int,
        *,
        recipient_id: int | None = None,
        image_id: str | None = None,
        comment_id: str | None = None,
    ) -> None:
        conditions = [_N.kind == kind.value, _N.actor_id == actor_id]
        for column, value in (
            (_N.recipient_id, recipient_id),
            (_N.image_id, image_id),
            (_N.comment_id, comment_id),
        ):
            if value is not None:
                conditions.append(column == value)
        await self.conn.execute(delete(notifications).where(*conditions))

    async def _read(self, query: Any, parameters: dict[str, Any]) -> list[Notification]:
        return [_notification(row) for row in (await self.conn.execute(query, parameters)).all()]

    async def page(
        self, recipient_id: int, *, before: Position | None, limit: int
    ) -> list[Notification]:
        parameters: dict[str, Any] = {"recipient_id": recipient_id, "limit": limit}
        if before is not None:
            parameters["at"], parameters["at_id"] = before
        query = _list(newest_first=True, from_position=before is not None)
        return await self._read(query, parameters)

    async def since(self, recipient_id: int, after: Position, limit: int) -> list[Notification]:
        at, at_id = after
        parameters = {"recipient_id": recipient_id, "limit": limit, "at": at, "at_id": at_id}
        return await self._read(_list(newest_first=False, from_position=True), parameters)

    async def unread_count(self, recipient_id: int, *, at_most: int) -> int:
        parameters = {"recipient_id": recipient_id, "at_most": at_most}
        return len((await self.conn.execute(_UNREAD, parameters)).all())

    async def mark_read(self, recipient_id: int, up_to: Position | None, when: datetime) -> None:
        conditions = [_N.recipient_id == recipient_id, _N.read_at.is_(None)]
        if up_to is not None:
            conditions.append(tuple_(_N.created_at, _N.id) <= tuple_(*up_to))
        await self.conn.execute(update(notifications).where(*conditions).values(read_at=when))

    async def forget_user(self, user_id: int) -> None:
        await self.conn.execute(
            delete(notifications).where(or_(_N.recipient_id == user_id, _N.actor_id == user_id))
        )
