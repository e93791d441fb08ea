"""variant formats: each variant in several formats (JPEG, WebP, AVIF)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("variants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("format", sa.String(length=10), nullable=False, server_default="jpeg")
        )
        batch_op.drop_constraint("pk_variants", type_="primary")
        batch_op.create_primary_key("pk_variants", ["image_id", "name", "format"])


def downgrade() -> None:
    op.execute("DELETE FROM variants WHERE format != 'jpeg'")
    with op.batch_alter_table("variants", schema=None) as batch_op:
        batch_op.drop_constraint("pk_variants", type_="primary")
        batch_op.create_primary_key("pk_variants", ["image_id", "name"])
        batch_op.drop_column("format")
