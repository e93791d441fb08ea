"""albums (an owner's ordered selections of their images) and share links (an album or an
image opened to whoever holds a token)

Revision ID: 0016
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "albums",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("cover_image_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_albums_owner_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_albums"),
    )
    op.create_index("ix_albums_owner", "albums", ["owner_id", "created_at", "id"])
    op.create_index(
        "ix_albums_owner_visible", "albums", ["owner_id", "visibility", "created_at", "id"]
    )
    op.create_table(
        "album_images",
        sa.Column("album_id", sa.String(length=32), nullable=False),
        sa.Column("image_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["album_id"], ["albums.id"], name="fk_album_images_album_id_albums", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name="fk_album_images_image_id_images", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("album_id", "image_id", name="pk_album_images"),
    )
    op.create_index("ix_album_images_order", "album_images", ["album_id", "position", "image_id"])
    op.create_index("ix_album_images_image", "album_images", ["image_id"])
    op.create_table(
        "shares",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("album_id", sa.String(length=32), nullable=True),
        sa.Column("image_id", sa.String(length=32), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("hide_details", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_shares_owner_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["album_id"], ["albums.id"], name="fk_shares_album_id_albums", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name="fk_shares_image_id_images", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_shares"),
        sa.UniqueConstraint("token_sha256", name="uq_shares_token_sha256"),
    )
    op.create_index("ix_shares_owner", "shares", ["owner_id", "created_at", "id"])
    op.create_index("ix_shares_album", "shares", ["album_id"])
    op.create_index("ix_shares_image", "shares", ["image_id"])


def downgrade() -> None:
    op.drop_table("shares")
    op.drop_table("album_images")
    op.drop_table("albums")
