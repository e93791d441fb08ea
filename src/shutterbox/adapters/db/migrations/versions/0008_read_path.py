"""the read path at scale: partial keyset indexes for the lists, and the home timeline

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_LIST_INDEXES = {
    "ix_images_feed": ["status", "visibility", "created_at", "id"],
    "ix_images_owner_feed": ["owner_id", "status", "visibility", "created_at", "id"],
    "ix_images_owner_ready": ["owner_id", "status", "created_at", "id"],
}

# The homes as they stand: each user's own ready images, and the public ready images of the
# people they follow.
_FILL_OWN = """
INSERT INTO home_timeline (user_id, created_at, image_id, owner_id)
SELECT owner_id, created_at, id, owner_id FROM images
WHERE status = 'ready' AND deleted_at IS NULL
"""
_FILL_FOLLOWED = """
INSERT INTO home_timeline (user_id, created_at, image_id, owner_id)
SELECT f.follower_id, i.created_at, i.id, i.owner_id
FROM follows f JOIN images i ON i.owner_id = f.followee_id
WHERE i.status = 'ready' AND i.deleted_at IS NULL AND i.visibility = 'public'
  AND f.follower_id <> f.followee_id
"""


def upgrade() -> None:
    live = sa.text("deleted_at IS NULL")
    op.drop_index("ix_images_feed", table_name="images")
    for name, columns in _LIST_INDEXES.items():
        op.create_index(name, "images", columns, sqlite_where=live, postgresql_where=live)
    trashed = sa.text("deleted_at IS NOT NULL")
    op.create_index(
        "ix_images_trash",
        "images",
        ["owner_id", "deleted_at", "id"],
        sqlite_where=trashed,
        postgresql_where=trashed,
    )
    op.create_table(
        "home_timeline",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("image_id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["images.id"],
            name=op.f("fk_home_timeline_image_id_images"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_home_timeline_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "created_at", "image_id", name=op.f("pk_home_timeline")),
    )
    op.create_index("ix_home_timeline_image", "home_timeline", ["image_id"])
    op.create_index("ix_home_timeline_owner", "home_timeline", ["user_id", "owner_id"])
    op.execute(_FILL_OWN)
    op.execute(_FILL_FOLLOWED)


def downgrade() -> None:
    op.drop_index("ix_home_timeline_owner", table_name="home_timeline")
    op.drop_index("ix_home_timeline_image", table_name="home_timeline")
    op.drop_table("home_timeline")
    for name in [*_LIST_INDEXES, "ix_images_trash"]:
        op.drop_index(name, table_name="images")
    op.create_index("ix_images_feed", "images", ["status", "visibility", "created_at", "id"])
