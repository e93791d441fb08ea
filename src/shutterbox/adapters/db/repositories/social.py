"""The repositories of likes, comments and notifications on one connection, together."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.repositories.comments import SqlComments
from shutterbox.adapters.db.repositories.likes import SqlLikes
from shutterbox.adapters.db.repositories.notifications import SqlNotifications
from shutterbox.ports.social import CommentRepository, LikeRepository, NotificationRepository


def social_repositories(
    conn: AsyncConnection,
) -> tuple[LikeRepository, CommentRepository, NotificationRepository]:
    return SqlLikes(conn), SqlComments(conn), SqlNotifications(conn)
