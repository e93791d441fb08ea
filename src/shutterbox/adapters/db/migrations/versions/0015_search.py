"""search: a row per listed image with the words of its details (``image_search``), kept by
triggers on ``images``, and a word index over it per database (SQLite FTS5, PostgreSQL GIN),
filled from the images already there; an index of usernames for their prefixes

Revision ID: 0015
Revises: 0013

The triggers are what keep the search right: every insert, edit, change of status or
visibility, trash, restore or removal of an image row, whatever code runs it, updates its
search row in the same transaction. A later migration that rebuilds the ``images`` table
(SQLite's batch mode copies it into a new one) must create the triggers again;
tests/contract/test_search.py fails if the head schema lacks them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_COLUMNS = "image_id, owner_id, visibility, created_at, tags, caption, names, alt_text"
_LISTED = "{row}.status = 'ready' AND {row}.deleted_at IS NULL"

# --- SQLite: FTS5 over image_search (external content), kept by triggers ------------------

_SQLITE_VALUES = """{row}.id, {row}.owner_id, {row}.visibility, {row}.created_at,
    coalesce((SELECT group_concat(value, ' ') FROM json_each({row}.tags)), ''),
    {row}.caption, u.username || ' ' || coalesce({row}.location_name, ''), {row}.alt_text"""
_SQLITE_FILL = f"""
INSERT INTO image_search ({_COLUMNS})
SELECT {_SQLITE_VALUES.format(row="i")}
FROM images AS i JOIN users AS u ON u.id = i.owner_id
WHERE {_LISTED.format(row="i")}
ORDER BY i.created_at, i.id
"""
_SQLITE_INDEX = """
CREATE VIRTUAL TABLE image_search_index USING fts5(
    tags, caption, names, alt_text,
    content='image_search', content_rowid='doc_id',
    tokenize='unicode61 remove_diacritics 0'
)
"""
_FTS_COLUMNS = "tags, caption, names, alt_text"
_SQLITE_TRIGGERS = [
    # image_search -> its FTS5 index
    f"""CREATE TRIGGER image_search_added AFTER INSERT ON image_search BEGIN
    INSERT INTO image_search_index (rowid, {_FTS_COLUMNS})
    VALUES (NEW.doc_id, NEW.tags, NEW.caption, NEW.names, NEW.alt_text);
END""",
    f"""CREATE TRIGGER image_search_removed AFTER DELETE ON image_search BEGIN
    INSERT INTO image_search_index (image_search_index, rowid, {_FTS_COLUMNS})
    VALUES ('delete', OLD.doc_id, OLD.tags, OLD.caption, OLD.names, OLD.alt_text);
END""",
    f"""CREATE TRIGGER image_search_changed AFTER UPDATE ON image_search BEGIN
    INSERT INTO image_search_index (image_search_index, rowid, {_FTS_COLUMNS})
    VALUES ('delete', OLD.doc_id, OLD.tags, OLD.caption, OLD.names, OLD.alt_text);
    INSERT INTO image_search_index (rowid, {_FTS_COLUMNS})
    VALUES (NEW.doc_id, NEW.tags, NEW.caption, NEW.names, NEW.alt_text);
END""",
    # images -> image_search
    f"""CREATE TRIGGER images_search_added AFTER INSERT ON images
WHEN {_LISTED.format(row="NEW")} BEGIN
    INSERT INTO image_search ({_COLUMNS})
    SELECT {_SQLITE_VALUES.format(row="NEW")} FROM users AS u WHERE u.id = NEW.owner_id;
END""",
    f"""CREATE TRIGGER images_search_changed
AFTER UPDATE OF status, deleted_at, visibility, caption, alt_text, tags, location_name ON images
BEGIN
    DELETE FROM image_search WHERE image_id = OLD.id;
    INSERT INTO image_search ({_COLUMNS})
    SELECT {_SQLITE_VALUES.format(row="NEW")} FROM users AS u
    WHERE u.id = NEW.owner_id AND {_LISTED.format(row="NEW")};
END""",
    """CREATE TRIGGER images_search_removed AFTER DELETE ON images BEGIN
    DELETE FROM image_search WHERE image_id = OLD.id;
END""",
]
_SQLITE_DROPS = [
    *(
        f"DROP TRIGGER IF EXISTS {name}"
        for name in (
            "images_search_removed",
            "images_search_changed",
            "images_search_added",
            "image_search_changed",
            "image_search_removed",
            "image_search_added",
        )
    ),
    "DROP TABLE IF EXISTS image_search_index",
]

# --- PostgreSQL: a GIN index of the words, a trigger function --------------------------------

# Only letters and digits reach the parser, as words: it sees no e-mail, URL, file name or
# number with a point (which it would keep whole), so it cuts text where SQLite's does.
_PG_WORDS = "regexp_replace({text}, '[^[:alnum:]]+', ' ', 'g')"
_PG_VALUES = f"""{{row}}.id, {{row}}.owner_id, {{row}}.visibility, {{row}}.created_at,
    {_PG_WORDS.format(text="coalesce((SELECT string_agg(t, ' ') FROM json_array_elements_text({row}.tags) AS t), '')")},
    {_PG_WORDS.format(text="{row}.caption")},
    {_PG_WORDS.format(text="u.username || ' ' || coalesce({row}.location_name, '')")},
    {_PG_WORDS.format(text="{row}.alt_text")}"""
_PG_FILL = f"""
INSERT INTO image_search ({_COLUMNS})
SELECT {_PG_VALUES.format(row="i")}
FROM images AS i JOIN users AS u ON u.id = i.owner_id
WHERE {_LISTED.format(row="i")}
ORDER BY i.created_at, i.id
"""
_PG_INDEX = """
CREATE INDEX ix_image_search_words ON image_search USING gin (
    to_tsvector('simple'::regconfig, tags || ' ' || caption || ' ' || names || ' ' || alt_text)
)
"""
_PG_FUNCTION = f"""
CREATE FUNCTION images_search_sync() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM image_search WHERE image_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' AND {_LISTED.format(row="NEW")} THEN
        INSERT INTO image_search ({_COLUMNS})
        SELECT {_PG_VALUES.format(row="NEW")} FROM users AS u WHERE u.id = NEW.owner_id;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
_PG_TRIGGER = """
CREATE TRIGGER images_search AFTER INSERT OR DELETE
OR UPDATE OF status, deleted_at, visibility, caption, alt_text, tags, location_name ON images
FOR EACH ROW EXECUTE FUNCTION images_search_sync()
"""


def upgrade() -> None:
    op.create_table(
        "image_search",
        sa.Column("doc_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("image_id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("caption", sa.Text(), nullable=False),
        sa.Column("names", sa.Text(), nullable=False),
        sa.Column("alt_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["images.id"],
            name=op.f("fk_image_search_image_id_images"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("doc_id", name=op.f("pk_image_search")),
        sa.UniqueConstraint("image_id", name=op.f("uq_image_search_image_id")),
    )
    op.create_index(
        "ix_users_username_prefix",
        "users",
        ["username"],
        postgresql_ops={"username": "varchar_pattern_ops"},
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FILL)
        op.execute(_PG_INDEX)
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_FILL)
        op.execute(_SQLITE_INDEX)
        op.execute("INSERT INTO image_search_index (image_search_index) VALUES ('rebuild')")
        for trigger in _SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS images_search ON images")
        op.execute("DROP FUNCTION IF EXISTS images_search_sync()")
    else:
        for statement in _SQLITE_DROPS:
            op.execute(statement)
    op.drop_index("ix_users_username_prefix", table_name="users")
    op.drop_table("image_search")
