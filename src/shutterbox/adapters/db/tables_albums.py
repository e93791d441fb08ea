"""Albums, their ordered entries, and share links.

Part of the one schema: ``tables.py`` imports this module, so its ``metadata`` holds them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from shutterbox.adapters.db.tables import metadata

# --- albums and share links -----------------------------------------------------------------

albums = Table(
    "albums",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("visibility", String(16), nullable=False),
    Column("cover_image_id", String(32), nullable=True),  # shown only while in the album
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    # an owner's albums, newest first; seen by others: the public ones
    Index("ix_albums_owner", "owner_id", "created_at", "id"),
    Index("ix_albums_owner_visible", "owner_id", "visibility", "created_at", "id"),
)

album_images = Table(
    "album_images",
    metadata,
    Column("album_id", String(32), ForeignKey("albums.id", ondelete="CASCADE"), primary_key=True),
    Column("image_id", String(32), ForeignKey("images.id", ondelete="CASCADE"), primary_key=True),
    # gapped integers (domain/albums.py): a move writes one row
    Column("position", BigInteger, nullable=False),
    Column("added_at", DateTime, nullable=False),
    Index("ix_album_images_order", "album_id", "position", "image_id"),
    Index("ix_album_images_image", "image_id"),
)

shares = Table(
    "shares",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("album_id", String(32), ForeignKey("albums.id", ondelete="CASCADE"), nullable=True),
    Column("image_id", String(32), ForeignKey("images.id", ondelete="CASCADE"), nullable=True),
    Column("expires_at", DateTime, nullable=True),
    Column("password_hash", String(200), nullable=True),
    Column("hide_details", Boolean, nullable=False, server_default="0"),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime, nullable=True),
    Index("ix_shares_owner", "owner_id", "created_at", "id"),
    Index("ix_shares_album", "album_id"),
    Index("ix_shares_image", "image_id"),
)
