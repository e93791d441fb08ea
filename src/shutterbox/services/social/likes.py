"""Liking images: only an image one can see, once per person; the image's count changes in the
same transaction (so its row version, and every list kept by it, moves too)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shutterbox.clock import utcnow
from shutterbox.domain.errors import NotFound
from shutterbox.domain.images import Image
from shutterbox.domain.social import NotificationKind
from shutterbox.domain.users import User
from shutterbox.services.context import Services
from shutterbox.services.social.notifications import notify


@dataclass(frozen=True)
class LikeState:
    likes: int
    liked_by_me: bool


async def like(services: Services, user: User, image_id: str) -> LikeState:
    """Like an image (again: no change); its owner is told."""
    async with services.metadata.write() as tx:
        image = await tx.images.get(image_id)
        if image is None or not image.visible_to(user.id):
            raise NotFound("no such image")
        if user.id != image.owner_id and await tx.blocks.between(user.id, image.owner_id):
            raise NotFound("no such image")  # a block hides the image both ways
        count = image.like_count
        if await tx.likes.add(user.id, image_id, utcnow()):
            count += 1
            await notify(tx, image.owner_id, NotificationKind.LIKE, actor=user, image_id=image_id)
    return LikeState(count, True)


async def unlike(services: Services, user: User, image_id: str) -> LikeState:
    """Take a like back (none given: no change); so is its notification."""
    async with services.metadata.write() as tx:
        image = await tx.images.get(image_id)
        if image is None or not image.visible_to(user.id):
            raise NotFound("no such image")
        count = image.like_count
        if await tx.likes.remove(user.id, image_id):
            count -= 1
            await tx.notifications.withdraw(NotificationKind.LIKE, user.id, image_id=image_id)
    return LikeState(count, False)


async def liked_among(services: Services, viewer: User | None, images: Sequence[Image]) -> set[str]:
    """Which of ``images`` the viewer likes: one query for a whole page (none for nobody)."""
    if viewer is None or not images:
        return set()
    async with services.metadata.quick_read() as tx:
        return await tx.likes.liked(viewer.id, [image.id for image in images])
