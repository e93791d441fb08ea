"""The repositories of likes, comments and notifications (part of the ``Transaction`` of
``ports/metadata.py``).

An image's ``like_count`` and ``comment_count`` live on its row and change in the same
transaction as the like or comment rows: the row's version moves with them, so a list shown
from the image cache is never behind (``adapters/db/image_cache.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from shutterbox.domain.social import Comment, Notification, NotificationKind

Position = tuple[datetime, str]  # keyset pagination: (created_at, id)


class LikeRepository(Protocol):
    async def add(self, user_id: int, image_id: str, created_at: datetime) -> bool:
        """Like the image (raising its ``like_count``); False if the user already did."""
        ...

    async def remove(self, user_id: int, image_id: str) -> bool:
        """Take the like back (lowering ``like_count``); False if there was none."""
        ...

    async def liked(self, user_id: int, image_ids: Sequence[str]) -> set[str]:
        """Those of ``image_ids`` the user likes: one query for a page."""
        ...

    async def forget_user(self, user_id: int) -> None:
        """Every like the user gave, each image's count lowered."""
        ...


class CommentRepository(Protocol):
    async def add(self, comment: Comment) -> None:
        """Insert the comment and raise its image's ``comment_count``."""
        ...

    async def get(self, comment_id: str) -> Comment | None: ...
    async def remove(self, comment_id: str) -> bool:
        """Delete the comment (lowering ``comment_count``); False if it was not there."""
        ...

    async def page(self, image_id: str, *, after: Position | None, limit: int) -> list[Comment]:
        """The image's comments, oldest first, after the ``after`` position."""
        ...

    async def forget_user(self, user_id: int) -> None:
        """Every comment the user wrote, each image's count lowered."""
        ...


class NotificationRepository(Protocol):
    async def add(self, notification: Notification, actor_id: int | None) -> None: ...
    async def withdraw(
        self,
        kind: NotificationKind,
        actor_id: int,
        *,
        recipient_id: int | None = None,
        image_id: str | None = None,
        comment_id: str | None = None,
    ) -> None:
        """Remove the notifications of ``kind`` by ``actor_id`` about what is given (a like
        taken back, a comment deleted, a follow undone)."""
        ...

    async def page(
        self, recipient_id: int, *, before: Position | None, limit: int
    ) -> list[Notification]:
        """The recipient's notifications, newest first, before the ``before`` position;
        those about an image they can no longer see (deleted, or private to someone else)
        are left out."""
        ...

    async def since(self, recipient_id: int, after: Position, limit: int) -> list[Notification]:
        """As ``page``, oldest first, after the ``after`` position: what is new."""
        ...

    async def unread_count(self, recipient_id: int, *, at_most: int) -> int:
        """How many shown notifications are unread, counted up to ``at_most``."""
        ...

    async def mark_read(self, recipient_id: int, up_to: Position | None, when: datetime) -> None:
        """Mark the recipient's notifications read: all, or those up to ``up_to``."""
        ...

    async def forget_user(self, user_id: int) -> None:
        """Every notification to the user, and every one about what they did."""
        ...
