"""Comments: on an image one can see, 1 to 2,000 characters, at most ``comment_rate`` per user;
shown wherever the image is; deleted by their author, the image's owner or an admin."""

from __future__ import annotations

from dataclasses import dataclass

from shutterbox.clock import utcnow
from shutterbox.domain.errors import Forbidden, NotFound
from shutterbox.domain.images import Image
from shutterbox.domain.social import Comment, NotificationKind, comment_text, new_social_id
from shutterbox.domain.users import User
from shutterbox.ports.metadata import Transaction
from shutterbox.services.context import Services
from shutterbox.services.images.cursors import decode_cursor, encode_position
from shutterbox.services.people.limits import hit_comment
from shutterbox.services.social.notifications import notify


@dataclass(frozen=True)
class CommentPage:
    items: list[Comment]
    next_cursor: str | None


async def _image_seen_by(tx: Transaction, image_id: str, viewer: User | None) -> Image:
    """The image, if the viewer sees it: visible to them, and no block between them and its
    owner (a block hides both ways: no comments to read or write)."""
    image = await tx.images.get(image_id)
    if image is None or not image.visible_to(viewer.id if viewer else None):
        raise NotFound("no such image")
    blocked = viewer is not None and viewer.id != image.owner_id
    if blocked and viewer is not None and await tx.blocks.between(viewer.id, image.owner_id):
        raise NotFound("no such image")
    return image


def may_delete(comment: Comment, image: Image, user: User | None) -> bool:
    """The author, the image's owner or an admin."""
    if user is None:
        return False
    return user.id in (comment.author_id, image.owner_id) or user.is_admin


async def add_comment(services: Services, user: User, image_id: str, text: str) -> Comment:
    """Comment on an image; its owner is told."""
    checked = comment_text(text)
    await hit_comment(services.rate_limiter, user.id)
    comment = Comment(new_social_id(), image_id, user.id, user.username, checked, utcnow())
    async with services.metadata.write() as tx:
        image = await _image_seen_by(tx, image_id, user)
        await tx.comments.add(comment)
        await notify(
            tx,
            image.owner_id,
            NotificationKind.COMMENT,
            actor=user,
            image_id=image_id,
            comment_id=comment.id,
            when=comment.created_at,
        )
    return comment


async def comments_page(
    services: Services, viewer: User | None, image_id: str, limit: int, cursor: str | None
) -> tuple[Image, CommentPage]:
    """The image's comments, oldest first, if the viewer can see the image."""
    position = decode_cursor(cursor)
    async with services.metadata.quick_read() as tx:  # index seeks
        image = await _image_seen_by(tx, image_id, viewer)
        found = await tx.comments.page(image_id, after=position, limit=limit + 1)
    return image, _page(found, limit)


async def comments_of_shown_image(
    services: Services, image: Image, limit: int, cursor: str | None
) -> CommentPage:
    """The comments of an image the caller has already found the viewer may see (as
    ``lookup.find_image``, ``Image.visible_to`` and ``blocks.hides_image`` tell), oldest
    first: the image is not read again."""
    position = decode_cursor(cursor)
    async with services.metadata.quick_read() as tx:
        found = await tx.comments.page(image.id, after=position, limit=limit + 1)
    return _page(found, limit)


def _page(found: list[Comment], limit: int) -> CommentPage:
    more = len(found) > limit
    found = found[:limit]
    last = found[-1] if more and found else None
    return CommentPage(found, encode_position(last.created_at, last.id) if last else None)


async def delete_comment(services: Services, user: User, comment_id: str) -> None:
    """404 for a comment on an image the user cannot see; 403 for one they may not delete."""
    async with services.metadata.write() as tx:
        comment = await tx.comments.get(comment_id)
        if comment is None:
            raise NotFound("no such comment")
        image = await tx.images.get(comment.image_id)
        if image is None or not image.visible_to(user.id):
            raise NotFound("no such comment")
        if not may_delete(comment, image, user):
            raise Forbidden("only its author, the photo's owner or an admin may delete a comment")
        await tx.comments.remove(comment_id)
