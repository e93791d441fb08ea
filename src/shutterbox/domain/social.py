"""Likes, comments and notifications: what they are and the rules of a comment's text. No
framework imports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shutterbox.domain.errors import InvalidInput
from shutterbox.domain.images import new_image_id

MAX_COMMENT_CHARS = 2000


class NotificationKind(StrEnum):
    FOLLOW = "follow"  # someone followed you
    LIKE = "like"  # someone liked one of your images
    COMMENT = "comment"  # someone commented on one of your images
    PROCESSING_FAILED = "processing_failed"  # one of your images could not be processed


@dataclass(frozen=True)
class Comment:
    id: str
    image_id: str
    author_id: int
    author: str  # the author's username
    text: str
    created_at: datetime


@dataclass(frozen=True)
class Notification:
    id: str
    recipient_id: int
    kind: NotificationKind
    created_at: datetime
    actor: str | None = None  # who did it (a username); None for a failed processing
    image_id: str | None = None  # the image it is about; None for a follow
    comment_id: str | None = None  # the comment, for a comment
    read: bool = False


def new_social_id() -> str:
    """An id for a comment or a notification: as random, and as long, as an image's."""
    return new_image_id()


def comment_text(raw: str) -> str:
    """The text of a new comment: trimmed, 1 to ``MAX_COMMENT_CHARS`` characters."""
    text = raw.strip()
    if not text:
        raise InvalidInput("a comment needs some text")
    if len(text) > MAX_COMMENT_CHARS:
        raise InvalidInput(
            f"a comment may have at most {MAX_COMMENT_CHARS} characters, this one has {len(text)}"
        )
    return text
