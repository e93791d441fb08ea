"""Reports, the audit log of moderators, suspensions, holds on images and blocks.

Part of the one schema: ``tables.py`` imports this module, so its ``metadata`` holds them."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from shutterbox.adapters.db.tables import metadata

# --- moderation and blocking --------------------------------------------------------------------
# Reports of images, people and comments; the admins' queue reads the open ones oldest first.
# An image's or a user's reports go with it (the foreign keys); a comment's id is kept as text.
reports = Table(
    "reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject_kind", String(16), nullable=False),  # image | user | comment
    Column("subject_id", String(64), nullable=False),
    Column("image_id", String(32), ForeignKey("images.id", ondelete="CASCADE"), nullable=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    Column("reporter_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("reporter_name", String(30), nullable=False),
    Column("reason", String(20), nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("status", String(16), nullable=False),  # open | resolved
    Column("created_at", DateTime, nullable=False),
    Column("resolution", String(16), nullable=True),
    Column("resolution_note", Text, nullable=False, server_default=""),
    Column("resolved_by", String(30), nullable=True),
    Column("resolved_at", DateTime, nullable=True),
    UniqueConstraint("reporter_id", "subject_kind", "subject_id", name="uq_reports_reporter"),
    Index("ix_reports_queue", "status", "created_at", "id"),
    Index("ix_reports_subject", "subject_kind", "subject_id", "status"),
    Index("ix_reports_image", "image_id"),
    Index("ix_reports_user", "user_id"),
)

# Every admin action, newest first: who did what to which subject, when and why. The admin's
# name is copied so that the entry outlives their account.
moderation_audit = Table(
    "moderation_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("actor_name", String(30), nullable=False),
    Column("action", String(16), nullable=False),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("created_at", DateTime, nullable=False),
    Index("ix_moderation_audit_order", "created_at", "id"),
)

# Suspended accounts: no login, no token, their public images held (below) until unsuspended.
suspensions = Table(
    "suspensions",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("suspended_by", String(30), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

# Images hidden from everyone but their owner: made private while a hold exists (so every
# list, search row, home timeline and media URL follows the visibility rules already there),
# with the visibility to give back when the last hold ends.
image_holds = Table(
    "image_holds",
    metadata,
    Column("image_id", String(32), ForeignKey("images.id", ondelete="CASCADE"), primary_key=True),
    Column("owner_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("visibility_before", String(16), nullable=False),
    Column("reason", Text, nullable=True),  # a moderator's hide; NULL: held by suspension only
    Column("by_suspension", Boolean, nullable=False, server_default="0"),
    Column("created_at", DateTime, nullable=False),
    Index("ix_image_holds_owner", "owner_id"),
)

# Blocks: either side of one sees nothing of the other's images and cannot follow them.
blocks = Table(
    "blocks",
    metadata,
    Column("blocker_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("blocked_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("blocked_name", String(30), nullable=False),  # usernames never change
    Column("created_at", DateTime, nullable=False),
    Index("ix_blocks_blocked", "blocked_id"),
    Index("ix_blocks_names", "blocker_id", "blocked_name"),
)
