"""storage classes of blobs, original restores, and measured egress

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "original_storage_class",
                sa.String(length=20),
                nullable=False,
                server_default="STANDARD",
            )
        )
        batch_op.add_column(
            sa.Column("original_restore_requested_at", sa.DateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("original_restored_until", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_images_deleted", ["deleted_at"])
        batch_op.create_index("ix_images_class_age", ["original_storage_class", "created_at"])
    with op.batch_alter_table("variants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "storage_class", sa.String(length=20), nullable=False, server_default="STANDARD"
            )
        )
    op.create_table(
        "egress_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "source", name=op.f("pk_egress_daily")),
    )


def downgrade() -> None:
    op.drop_table("egress_daily")
    with op.batch_alter_table("variants", schema=None) as batch_op:
        batch_op.drop_column("storage_class")
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_index("ix_images_class_age")
        batch_op.drop_index("ix_images_deleted")
        batch_op.drop_column("original_restored_until")
        batch_op.drop_column("original_restore_requested_at")
        batch_op.drop_column("original_storage_class")
