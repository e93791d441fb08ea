"""job lanes (new work, retries, batches) and resumable batches

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("selection", sa.String(length=20), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_batches_open", "batches", ["kind", "selection", "finished_at"])
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lane", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("batch_id", sa.String(length=32), nullable=True))
        batch_op.drop_index("ix_jobs_ready")
        batch_op.create_index("ix_jobs_due", ["state", "lane", "run_at", "id"])
        batch_op.create_index("ix_jobs_leases", ["state", "lease_expires_at"])
        batch_op.create_index("ix_jobs_batch", ["batch_id", "state"])
    # Jobs already waiting keep their order; retried ones go behind new work.
    op.execute("UPDATE jobs SET lane = 1 WHERE attempts > 0")
    op.execute("UPDATE jobs SET lane = 2 WHERE kind = 'lifecycle_pass'")


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_batch")
        batch_op.drop_index("ix_jobs_leases")
        batch_op.drop_index("ix_jobs_due")
        batch_op.create_index("ix_jobs_ready", ["state", "run_at"])
        batch_op.drop_column("batch_id")
        batch_op.drop_column("lane")
    op.drop_index("ix_batches_open", table_name="batches")
    op.drop_table("batches")
