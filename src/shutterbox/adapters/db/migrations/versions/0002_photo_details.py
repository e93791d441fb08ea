"""photo details, placeholders, duplicate lookup

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 01:41:31.241306
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lens", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("exposure_time", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("f_number", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("iso", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("focal_length_mm", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("blurhash", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("dominant_color", sa.String(length=7), nullable=True))
        batch_op.create_index(
            "ix_images_owner_sha256", ["owner_id", "original_sha256"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_index("ix_images_owner_sha256")
        batch_op.drop_column("dominant_color")
        batch_op.drop_column("blurhash")
        batch_op.drop_column("focal_length_mm")
        batch_op.drop_column("iso")
        batch_op.drop_column("f_number")
        batch_op.drop_column("exposure_time")
        batch_op.drop_column("lens")
