"""Likes, comments and notifications in memory, with the same answers as the SQL
repositories (``tests/contract/test_metadata.py``). Rows of an image or a user that is gone are
left behind by the fake, as the tables' cascades would not: every read skips them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from shutterbox.domain.images import Visibility
from shutterbox.domain.social import Comment, Notification, NotificationKind
from shutterbox.ports.social import Position

if TYPE_CHECKING:
    from tests.support.fakes.metadata import State


@dataclass
class SocialState:
    likes: dict[tuple[int, str], datetime] = field(default_factory=dict)
    comments: dict[str, Comment] = field(default_factory=dict)
    # a notification and the id of who it is about (None: nobody)
    notifications: dict[str, tuple[Notification, int | None]] = field(default_factory=dict)


def _count(state: State, image_id: str, attribute: str, added: int) -> None:
    image = state.images.get(image_id)
    if image is not None:
        setattr(image, attribute, getattr(image, attribute) + added)


class FakeLikes:
    def __init__(self, state: State) -> None:
        self.s = state

    async def add(self, user_id: int, image_id: str, created_at: datetime) -> bool:
        if (user_id, image_id) in self.s.social.likes:
            return False
        self.s.social.likes[(user_id, image_id)] = created_at
        _count(self.s, image_id, "like_count", 1)
        return True

    async def remove(self, user_id: int, image_id: str) -> bool:
        if self.s.social.likes.pop((user_id, image_id), None) is None:
            return False
        _count(self.s, image_id, "like_count", -1)
        return True

    async def liked(self, user_id: int, image_ids: Sequence[str]) -> set[str]:
        return {i for i in image_ids if (user_id, i) in self.s.social.likes and i in self.s.images}

    async def forget_user(self, user_id: int) -> None:
        for liker, image_id in [pair for pair in self.s.social.likes if pair[0] == user_id]:
            await self.remove(liker, image_id)


class FakeComments:
    def __init__(self, state: State) -> None:
        self.s = state

    def _live(self, comment: Comment) -> Comment | None:
        author = self.s.users.get(comment.author_id)
        if author is None or comment.image_id not in self.s.images:
            return None
        return replace(comment, author=author.username)

    async def add(self, comment: Comment) -> None:
        self.s.social.comments[comment.id] = comment
        _count(self.s, comment.image_id, "comment_count", 1)

    async def get(self, comment_id: str) -> Comment | None:
        comment = self.s.social.comments.get(comment_id)
        return self._live(comment) if comment is not None else None

    async def remove(self, comment_id: str) -> bool:
        comment = self.s.social.comments.pop(comment_id, None)
        if comment is None:
            return False
        _count(self.s, comment.image_id, "comment_count", -1)
        kept = self.s.social.notifications
        for key in [k for k, (n, _) in kept.items() if n.comment_id == comment_id]:
            del kept[key]
        return True

    async def page(self, image_id: str, *, after: Position | None, limit: int) -> list[Comment]:
        found = [
            c
            for c in map(self._live, self.s.social.comments.values())
            if c is not None
            and c.image_id == image_id
            and (after is None or (c.created_at, c.id) > after)
        ]
        found.sort(key=lambda c: (c.created_at, c.id))
        return found[:limit]

    async def forget_user(self, user_id: int) -> None:
        for comment_id in [k for k, c in self.s.social.comments.items() if c.author_id == user_id]:
            await self.remove(comment_id)


class FakeNotifications:
    def __init__(self, state: State) -> None:
        self.s = state

    async def add(self, notification: Notification, actor_id: int | None) -> None:
        self.s.social.notifications[notification.id] = (notification, actor_id)

    async def withdraw(
        self,
        kind: NotificationKind,
        actor_id: int,
        *,
        recipient_id: int | None = None,
        image_id: str | None = None,
        comment_id: str | None = None,
    ) -> None:
        def matches(n: Notification, actor: int | None) -> bool:
            return (
                n.kind == kind
                and actor == actor_id
                and recipient_id in (None, n.recipient_id)
                and image_id in (None, n.image_id)
                and comment_id in (None, n.comment_id)
            )

        kept = self.s.social.notifications
        for key in [k for k, (n, actor) in kept.items() if matches(n, actor)]:
            del kept[key]

    def _shown(self, recipient_id: int) -> list[Notification]:
        found = []
        for n, actor in self.s.social.notifications.values():
            if n.recipient_id != recipient_id or recipient_id not in self.s.users:
                continue
            if actor is not None and actor not in self.s.users:
                continue
            if n.comment_id is not None and n.comment_id not in self.s.social.comments:
                continue
            if n.image_id is not None:
                image = self.s.images.get(n.image_id)
                if image is None or image.deleted_at is not None:
                    continue
                if image.visibility != Visibility.PUBLIC and image.owner_id != recipient_id:
                    continue
            name = self.s.users[actor].username if actor is not None else None
            found.append(replace(n, actor=name))
        return sorted(found, key=lambda n: (n.created_at, n.id))

    async def page(
        self, recipient_id: int, *, before: Position | None, limit: int
    ) -> list[Notification]:
        found = [
            n
            for n in reversed(self._shown(recipient_id))
            if before is None or (n.created_at, n.id) < before
        ]
        return found[:limit]

    async def since(self, recipient_id: int, after: Position, limit: int) -> list[Notification]:
        return [n for n in self._shown(recipient_id) if (n.created_at, n.id) > after][:limit]

    async def unread_count(self, recipient_id: int, *, at_most: int) -> int:
        return min(at_most, sum(1 for n in self._shown(recipient_id) if not n.read))

    async def mark_read(self, recipient_id: int, up_to: Position | None, when: datetime) -> None:
        kept = self.s.social.notifications
        for key, (n, actor) in list(kept.items()):
            if n.recipient_id == recipient_id and (up_to is None or (n.created_at, n.id) <= up_to):
                kept[key] = (replace(n, read=True), actor)

    async def forget_user(self, user_id: int) -> None:
        kept = self.s.social.notifications
        for key in [k for k, (n, actor) in kept.items() if user_id in (n.recipient_id, actor)]:
            del kept[key]


def fake_social_repositories(
    state: State,
) -> tuple[FakeLikes, FakeComments, FakeNotifications]:
    return FakeLikes(state), FakeComments(state), FakeNotifications(state)
