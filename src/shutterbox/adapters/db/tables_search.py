"""The search rows (kept by triggers on images; the word index per database is made by migration
0015).

Part of the one schema: ``tables.py`` imports this module, so its ``metadata`` holds them."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from shutterbox.adapters.db.tables import metadata, users

# --- search ------------------------------------------------------------------------------------
# What the search reads: a row per image that lists show (ready, undeleted), with the owner,
# visibility and created time a page is filtered and ordered by, and the words of its details
# in four field groups (``domain/search.py`` weighs them). Kept by triggers on ``images``
# (migration 0015), so that every path that inserts, edits, hides, trashes or removes an
# image keeps it right without knowing. The word index over it is per database, made by the
# migration and not declared here: on SQLite the FTS5 table ``image_search_index`` (external
# content: this table, rowid ``doc_id`` in (created_at, image_id) order) and one FTS5 table per
# field group, kept by triggers on this one; on PostgreSQL the GIN index
# ``ix_image_search_words`` over ``to_tsvector('simple', ...)`` of the four groups and one per
# group (``ix_image_search_words_<group>``).
image_search = Table(
    "image_search",
    metadata,
    Column("doc_id", Integer, primary_key=True, autoincrement=True),  # the FTS5 rowid
    Column(
        "image_id",
        String(32),
        ForeignKey("images.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("owner_id", Integer, nullable=False),
    Column("visibility", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("tags", Text, nullable=False),
    Column("caption", Text, nullable=False),
    Column("names", Text, nullable=False),  # the owner's username and the place's name
    Column("alt_text", Text, nullable=False),
    # who may see it, as words of the SQLite index: "public u7" or "private u7" (owner 7)
    Column("access", Text, nullable=False),
)
# A search's rank, newest first (PostgreSQL walks it when a rank holds many images).
Index("ix_image_search_newest", image_search.c.created_at, image_search.c.image_id)
# People by the start of their username: one range of this index (on PostgreSQL the pattern
# operators make ``LIKE 'prefix%'`` a range whatever the database's collation).
Index(
    "ix_users_username_prefix",
    users.c.username,
    postgresql_ops={"username": "varchar_pattern_ops"},
)
