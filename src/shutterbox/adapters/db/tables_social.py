"""Likes, comments and notifications, and the counts they keep on the image row.

Part of the one schema: ``tables.py`` imports this module, so its ``metadata`` holds them."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from shutterbox.adapters.db.tables import images, metadata

# --- Likes, comments and notifications ---------------------------------------------------
# An image's counts are kept on its row (with every like and comment, in the same transaction),
# so a list shows them without a query per image, and the row's version (migration 0012)
# moves with them: an image kept by version never shows an old count.
images.append_column(Column("like_count", Integer, nullable=False, server_default="0"))
images.append_column(Column("comment_count", Integer, nullable=False, server_default="0"))

likes = Table(
    "likes",
    metadata,
    # the primary key answers "which of this page's images do I like" in one seek per image
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("image_id", String(32), ForeignKey("images.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", DateTime, nullable=False),
    Index("ix_likes_image", "image_id"),
)

comments = Table(
    "comments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("image_id", String(32), ForeignKey("images.id", ondelete="CASCADE"), nullable=False),
    Column("author_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("ix_comments_image", "image_id", "created_at", "id"),  # an image's comments, in order
    Index("ix_comments_author", "author_id"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("recipient_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(20), nullable=False),  # domain.social.NotificationKind
    Column("actor_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    Column("image_id", String(32), ForeignKey("images.id", ondelete="CASCADE"), nullable=True),
    Column("comment_id", String(32), ForeignKey("comments.id", ondelete="CASCADE"), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("read_at", DateTime, nullable=True),
    Index("ix_notifications_recipient", "recipient_id", "created_at", "id"),
    Index("ix_notifications_actor", "actor_id"),
    Index("ix_notifications_image", "image_id"),
    Index("ix_notifications_comment", "comment_id"),
)
# the unread ones of a recipient: the header's count is one range of this index
Index(
    "ix_notifications_unread",
    notifications.c.recipient_id,
    notifications.c.created_at,
    notifications.c.id,
    sqlite_where=notifications.c.read_at.is_(None),
    postgresql_where=notifications.c.read_at.is_(None),
)
