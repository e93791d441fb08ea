"""Comments on images, and the image's ``comment_count`` kept with them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import DateTime, Integer, String, bindparam, delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.tables import comments, images, users
from shutterbox.domain.social import Comment
from shutterbox.ports.social import Position

_COLUMNS = (
    comments.c.id,
    comments.c.image_id,
    comments.c.author_id,
    users.c.username,
    comments.c.text,
    comments.c.created_at,
)
_WITH_AUTHOR = select(*_COLUMNS).join(users, users.c.id == comments.c.author_id)
_ONE = _WITH_AUTHOR.where(comments.c.id == bindparam("comment_id", type_=String))
_COUNT_COMMENTS = (
    update(images)
    .where(images.c.id == bindparam("image_id"))
    .values(comment_count=images.c.comment_count + bindparam("added"))
)


def _page(after_cursor: bool) -> Any:
    """An image's comments, oldest first: one range of ``ix_comments_image``."""
    conditions = [comments.c.image_id == bindparam("image_id", type_=String)]
    if after_cursor:
        at, after_id = bindparam("at", type_=DateTime), bindparam("after_id", type_=String)
        conditions.append(tuple_(comments.c.created_at, comments.c.id) > tuple_(at, after_id))
    return (
        _WITH_AUTHOR.where(*conditions)
        .order_by(comments.c.created_at, comments.c.id)
        .limit(bindparam("limit", type_=Integer))
    )


_FIRST_PAGE, _LATER_PAGE = _page(False), _page(True)


def _comment(row: Any) -> Comment:
    return Comment(*tuple(row))


class SqlComments:
    """``CommentRepository`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, comment: Comment) -> None:
        await self.conn.execute(
            comments.insert(),
            {
                "id": comment.id,
                "image_id": comment.image_id,
                "author_id": comment.author_id,
                "text": comment.text,
                "created_at": comment.created_at,
            },
        )
        await self.conn.execute(_COUNT_COMMENTS, {"image_id": comment.image_id, "added": 1})

    async def get(self, comment_id: str) -> Comment | None:
        row = (await self.conn.execute(_ONE, {"comment_id": comment_id})).first()
        return _comment(row) if row is not None else None

    async def remove(self, comment_id: str) -> bool:
        image_id = await self.conn.scalar(
            delete(comments).where(comments.c.id == comment_id).returning(comments.c.image_id)
        )
        if image_id is None:
            return False
        await self.conn.execute(_COUNT_COMMENTS, {"image_id": image_id, "added": -1})
        return True

    async def page(self, image_id: str, *, after: Position | None, limit: int) -> list[Comment]:
        parameters: dict[str, Any] = {"image_id": image_id, "limit": limit}
        if after is not None:
            parameters["at"], parameters["after_id"] = after
        query = _LATER_PAGE if after is not None else _FIRST_PAGE
        return [_comment(row) for row in (await self.conn.execute(query, parameters)).all()]

    async def forget_user(self, user_id: int) -> None:
        written = select(comments.c.id).where(comments.c.author_id == user_id)
        for comment_id in (await self.conn.execute(written)).scalars().all():
            await self.remove(str(comment_id))
