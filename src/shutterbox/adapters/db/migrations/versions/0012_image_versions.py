"""a version on each image row, raised by the database on every update, so that a process
may keep an image (and its JSON) by version and know when it has changed

Revision ID: 0012
Revises: 0011

The trigger is what makes the version trustworthy: no update of ``images``, whatever code
runs it, can leave the version as it was. A later migration that rebuilds the ``images``
table (SQLite's batch mode copies it into a new one) must create the trigger again;
tests/contract/test_image_versions.py fails if the head schema lacks it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_SQLITE_TRIGGER = """
CREATE TRIGGER images_version AFTER UPDATE ON images
FOR EACH ROW WHEN NEW.version = OLD.version
BEGIN
    UPDATE images SET version = OLD.version + 1 WHERE id = OLD.id;
END
"""
_POSTGRESQL_FUNCTION = """
CREATE FUNCTION images_next_version() RETURNS trigger AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$ LANGUAGE plpgsql
"""
_POSTGRESQL_TRIGGER = """
CREATE TRIGGER images_version BEFORE UPDATE ON images
FOR EACH ROW EXECUTE FUNCTION images_next_version()
"""


def upgrade() -> None:
    # A column with a constant default: no table rewrite on either database.
    op.add_column("images", sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRESQL_FUNCTION)
        op.execute(_POSTGRESQL_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS images_version"
        + (" ON images" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS images_next_version()")
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_column("version")
