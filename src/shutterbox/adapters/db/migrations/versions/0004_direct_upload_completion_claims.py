"""direct upload completion claims

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 02:57:35.751127
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("direct_uploads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("completing_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("direct_uploads", schema=None) as batch_op:
        batch_op.drop_column("completing_at")
