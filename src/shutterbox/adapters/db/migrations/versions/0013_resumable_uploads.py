"""resumable uploads: a direct upload whose bytes arrive in parts (tus on the origin, with what
arrived so far, its parts and the image details given when it began; or an S3 multipart
upload straight to the bucket, with its id)

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("direct_uploads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("received", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("parts", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("multipart_id", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("direct_uploads", schema=None) as batch_op:
        batch_op.drop_column("multipart_id")
        batch_op.drop_column("details")
        batch_op.drop_column("parts")
        batch_op.drop_column("received")
