"""moderation and blocking: reports, the admins' audit log, suspended accounts, images held
from everyone but their owner, and blocks between people

Revision ID: 0017
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def _user(column: str, *, primary_key: bool = False, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(
        column,
        sa.Integer(),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column(
            "image_id",
            sa.String(32),
            sa.ForeignKey("images.id", ondelete="CASCADE"),
            nullable=True,
        ),
        _user("user_id", nullable=True),
        _user("reporter_id"),
        sa.Column("reporter_name", sa.String(30), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolution", sa.String(16), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=False, server_default=""),
        sa.Column("resolved_by", sa.String(30), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint(
            "reporter_id", "subject_kind", "subject_id", name="uq_reports_reporter"
        ),
    )
    op.create_index("ix_reports_queue", "reports", ["status", "created_at", "id"])
    op.create_index("ix_reports_subject", "reports", ["subject_kind", "subject_id", "status"])
    op.create_index("ix_reports_image", "reports", ["image_id"])
    op.create_index("ix_reports_user", "reports", ["user_id"])
    op.create_table(
        "moderation_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("actor_name", sa.String(30), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_moderation_audit_order", "moderation_audit", ["created_at", "id"])
    op.create_table(
        "suspensions",
        _user("user_id", primary_key=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("suspended_by", sa.String(30), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "image_holds",
        sa.Column(
            "image_id",
            sa.String(32),
            sa.ForeignKey("images.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        _user("owner_id"),
        sa.Column("visibility_before", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("by_suspension", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_image_holds_owner", "image_holds", ["owner_id"])
    op.create_table(
        "blocks",
        _user("blocker_id", primary_key=True),
        _user("blocked_id", primary_key=True),
        sa.Column("blocked_name", sa.String(30), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_blocks_blocked", "blocks", ["blocked_id"])
    op.create_index("ix_blocks_names", "blocks", ["blocker_id", "blocked_name"])


def downgrade() -> None:
    for table in ("blocks", "image_holds", "suspensions", "moderation_audit", "reports"):
        op.drop_table(table)
