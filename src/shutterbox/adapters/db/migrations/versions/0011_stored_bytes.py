"""each user's stored bytes, kept as images come and go, for the quota check; an index of
processing times, for how fast images became ready lately

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stored_bytes", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE users SET stored_bytes = (SELECT COALESCE(SUM(original_bytes), 0) "
        "FROM images WHERE images.owner_id = users.id)"
    )
    op.create_index("ix_images_processed", "images", ["processed_at"])


def downgrade() -> None:
    op.drop_index("ix_images_processed", table_name="images")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("stored_bytes")
