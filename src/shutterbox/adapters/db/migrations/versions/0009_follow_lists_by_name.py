"""the lists of followers and followed people in username order, each one index seek

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("follows", schema=None) as batch_op:
        for name in ("follower_name", "followee_name"):
            batch_op.add_column(
                sa.Column(name, sa.String(length=30), nullable=False, server_default="")
            )
    op.execute(
        "UPDATE follows SET "
        "follower_name = (SELECT username FROM users WHERE users.id = follows.follower_id), "
        "followee_name = (SELECT username FROM users WHERE users.id = follows.followee_id)"
    )
    op.create_index("ix_follows_following_names", "follows", ["follower_id", "followee_name"])
    op.create_index("ix_follows_follower_names", "follows", ["followee_id", "follower_name"])


def downgrade() -> None:
    op.drop_index("ix_follows_follower_names", table_name="follows")
    op.drop_index("ix_follows_following_names", table_name="follows")
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.drop_column("followee_name")
        batch_op.drop_column("follower_name")
