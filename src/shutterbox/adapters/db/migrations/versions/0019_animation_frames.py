"""the frames of an animated image (its WebP variants are animated; 1: a still picture)

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: a batch (table copy) on SQLite would drop the
    # triggers that keep the row versions and the search rows.
    op.add_column("images", sa.Column("frames", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    op.execute("ALTER TABLE images DROP COLUMN frames")
