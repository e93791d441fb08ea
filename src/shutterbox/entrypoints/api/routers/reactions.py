"""Likes and comments on images."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Response, status
from pydantic import BaseModel, Field

from shutterbox.domain.social import MAX_COMMENT_CHARS, Comment
from shutterbox.domain.users import User
from shutterbox.entrypoints.api.deps import CurrentUser, OptionalUser, ServicesDep
from shutterbox.entrypoints.api.routers.feed import Cursor
from shutterbox.entrypoints.api.schemas import ErrorBody, Timestamp
from shutterbox.entrypoints.http.routing import Router
from shutterbox.services.social import comments, likes

router = Router(prefix="/api/v1", tags=["likes and comments"])


class LikesPublic(BaseModel):
    likes: int = Field(description="How many people like the image now.")
    liked_by_me: bool


class CommentCreate(BaseModel):
    text: str = Field(
        max_length=4 * MAX_COMMENT_CHARS,  # checked again once trimmed
        description=f"1 to {MAX_COMMENT_CHARS} characters, once trimmed.",
    )


class CommentPublic(BaseModel):
    id: str
    image_id: str
    author: str
    text: str
    created_at: Timestamp
    deletable: bool = Field(
        description="Whether you may delete it (its author, the image's owner, or an admin)."
    )


class CommentPage(BaseModel):
    items: list[CommentPublic]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page."
    )


CommentLimit = Annotated[int, Query(ge=1, le=100, description="Comments per page.")]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody} for code in codes}


def _comment(comment: Comment, deletable: bool) -> CommentPublic:
    return CommentPublic(
        id=comment.id,
        image_id=comment.image_id,
        author=comment.author,
        text=comment.text,
        created_at=comment.created_at,
        deletable=deletable,
    )


@router.put("/images/{image_id}/like", response_model=LikesPublic, responses=_errors(401, 404))
async def like_image(image_id: str, services: ServicesDep, user: CurrentUser) -> LikesPublic:
    """Like an image you can see (again: no change). Answers the new count."""
    state = await likes.like(services, user, image_id)
    return LikesPublic(likes=state.likes, liked_by_me=state.liked_by_me)


@router.delete("/images/{image_id}/like", response_model=LikesPublic, responses=_errors(401, 404))
async def unlike_image(image_id: str, services: ServicesDep, user: CurrentUser) -> LikesPublic:
    """Take your like back (none given: no change). Answers the new count."""
    state = await likes.unlike(services, user, image_id)
    return LikesPublic(likes=state.likes, liked_by_me=state.liked_by_me)


@router.post(
    "/images/{image_id}/comments",
    status_code=status.HTTP_201_CREATED,
    response_model=CommentPublic,
    responses=_errors(401, 404, 422, 429),
)
async def create_comment(
    image_id: str, body: CommentCreate, services: ServicesDep, user: CurrentUser
) -> CommentPublic:
    """Comment on an image you can see (at most `SHUTTERBOX_COMMENT_RATE`); its owner is told."""
    comment = await comments.add_comment(services, user, image_id, body.text)
    return _comment(comment, True)


@router.get("/images/{image_id}/comments", response_model=CommentPage, responses=_errors(404, 422))
async def read_comments(
    image_id: str,
    services: ServicesDep,
    viewer: OptionalUser,
    limit: CommentLimit = 50,
    cursor: Cursor = None,
) -> CommentPage:
    """An image's comments, oldest first (where the image can be seen)."""
    image, page = await comments.comments_page(services, viewer, image_id, limit, cursor)
    viewing: User | None = viewer
    return CommentPage(
        items=[_comment(c, comments.may_delete(c, image, viewing)) for c in page.items],
        next_cursor=page.next_cursor,
    )


@router.delete(
    "/comments/{comment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_errors(401, 403, 404),
)
async def delete_comment(comment_id: str, services: ServicesDep, user: CurrentUser) -> Response:
    """Delete a comment: yours, one on your image, or any as an admin."""
    await comments.delete_comment(services, user, comment_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
