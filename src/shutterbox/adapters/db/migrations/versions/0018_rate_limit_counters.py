"""rate-limit counters shared by every API node (SHUTTERBOX_RATE_LIMIT_URL=db://)

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("window_index", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("ends_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_rate_limit_counters_ends_at", "rate_limit_counters", ["ends_at"])


def downgrade() -> None:
    op.drop_table("rate_limit_counters")
