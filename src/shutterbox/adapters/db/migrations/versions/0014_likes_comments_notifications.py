"""likes, comments and notifications: an image's like and comment counts on its row, and a
table of each

Revision ID: 0014
Revises: 0013

The counts are added, and dropped again, in place (no copy of the ``images`` table, which
would lose the version trigger of migration 0012 on SQLite).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_COUNTS = ("like_count", "comment_count")


def upgrade() -> None:
    for name in _COUNTS:
        op.add_column("images", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "likes",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_likes_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name=op.f("fk_likes_image_id_images"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "image_id", name=op.f("pk_likes")),
    )
    op.create_index("ix_likes_image", "likes", ["image_id"])
    op.create_table(
        "comments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("image_id", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["images.id"],
            name=op.f("fk_comments_image_id_images"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_comments_author_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    op.create_index("ix_comments_image", "comments", ["image_id", "created_at", "id"])
    op.create_index("ix_comments_author", "comments", ["author_id"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("image_id", sa.String(length=32), nullable=True),
        sa.Column("comment_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["users.id"],
            name=op.f("fk_notifications_recipient_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_notifications_actor_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["images.id"],
            name=op.f("fk_notifications_image_id_images"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_notifications_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(
        "ix_notifications_recipient", "notifications", ["recipient_id", "created_at", "id"]
    )
    op.create_index("ix_notifications_actor", "notifications", ["actor_id"])
    op.create_index("ix_notifications_image", "notifications", ["image_id"])
    op.create_index("ix_notifications_comment", "notifications", ["comment_id"])
    unread = sa.text("read_at IS NULL")
    op.create_index(
        "ix_notifications_unread",
        "notifications",
        ["recipient_id", "created_at", "id"],
        sqlite_where=unread,
        postgresql_where=unread,
    )


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("comments")
    op.drop_table("likes")
    for name in _COUNTS:
        # in place on both databases (SQLite 3.35 and later): the version trigger stays
        op.execute(f"ALTER TABLE images DROP COLUMN {name}")
