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

_COLUMNS = "image_id, owner_id, visibility, created_at, tags, caption, names, alt_text, access"
_LISTED = "{row}.status = 'ready' AND {row}.deleted_at IS NULL"
# Who may see the image, as words of the SQLite index: its visibility and its owner ("u7")
_ACCESS = "{row}.visibility || ' u' || {row}.owner_id"
FIELDS = ("tags", "caption", "names", "alt_text")

# --- SQLite: FTS5 over image_search (external content), kept by triggers ------------------
#
# The FTS5 rowid (``doc_id``) follows the order of (created_at, image_id): the microsecond of
# created_at times 1024, plus a slot among the rows of the same microsecond. A search reads
# the index newest first (``ORDER BY rowid DESC``) and stops at a page; the slot only keeps
# rowids unique (rows of one microsecond are put in id order by the query itself).

_SQLITE_MICROSECOND = (
    "(CAST(strftime('%s', {at}) AS INTEGER) * 1000000"
    " + CAST(substr(substr({at}, 21) || '000000', 1, 6) AS INTEGER))"
)
_SQLITE_BUCKET = f"({_SQLITE_MICROSECOND} * 1024)"
_SQLITE_VALUES = (
    """{row}.id, {row}.owner_id, {row}.visibility, {row}.created_at,
    coalesce((SELECT group_concat(value, ' ') FROM json_each({row}.tags)), ''),
    {row}.caption, u.username || ' ' || coalesce({row}.location_name, ''), {row}.alt_text,
    """
    + _ACCESS
)
_SQLITE_FILL = f"""
INSERT INTO image_search (doc_id, {_COLUMNS})
SELECT {_SQLITE_BUCKET.format(at="i.created_at")}
    + row_number() OVER (PARTITION BY i.created_at ORDER BY i.id) - 1,
    {_SQLITE_VALUES.format(row="i")}
FROM images AS i JOIN users AS u ON u.id = i.owner_id
WHERE {_LISTED.format(row="i")}
ORDER BY i.created_at, i.id
"""
# The next free slot of a new row's microsecond.
_SQLITE_NEW_KEY = f"""coalesce(
    (SELECT max(doc_id) + 1 FROM image_search
     WHERE doc_id BETWEEN {_SQLITE_BUCKET.format(at="NEW.created_at")}
     AND {_SQLITE_BUCKET.format(at="NEW.created_at")} + 1023),
    {_SQLITE_BUCKET.format(at="NEW.created_at")})"""
# The words of all the field groups, and who may see the row: a page is one read of this
# index, newest first, with the visibility in the match expression.
_FTS_COLUMNS = "tags, caption, names, alt_text, access"
# One index per field group (detail=none: the rows, no positions): whether a field group
# holds any word of a query at all is one look-up, and a search skips the ranks it cannot
# fill without reading the rows.
_FIELD_INDEXES = {f"image_search_index_{name}": name for name in FIELDS}
# Prefix indexes for the query's last word (a prefix) of up to 8 characters: without them FTS5
# merges the lists of every word with that prefix before it reads one row (a cost that grows
# with the matches); with them a prefix is one list, read lazily like a word's.
_FTS_OPTIONS = "prefix='1 2 3 4 5 6 7 8', tokenize='unicode61 remove_diacritics 0'"
_SQLITE_INDEXES = [
    f"""CREATE VIRTUAL TABLE image_search_index USING fts5(
    {_FTS_COLUMNS}, content='image_search', content_rowid='doc_id', {_FTS_OPTIONS})""",
    *(
        f"""CREATE VIRTUAL TABLE {table} USING fts5(
    {column}, content='image_search', content_rowid='doc_id', detail='none', {_FTS_OPTIONS})"""
        for table, column in _FIELD_INDEXES.items()
    ),
]
_FTS_TABLES = {"image_search_index": _FTS_COLUMNS, **_FIELD_INDEXES}


def _fts_writes(kind: str) -> str:
    """The statements that add (``NEW``) or remove (``OLD``) a row in every FTS5 index."""
    statements = []
    for table, columns in _FTS_TABLES.items():
        values = ", ".join(f"{kind}.{column.strip()}" for column in columns.split(","))
        if kind == "NEW":
            statements.append(
                f"INSERT INTO {table} (rowid, {columns}) VALUES (NEW.doc_id, {values});"
            )
        else:
            statements.append(
                f"INSERT INTO {table} ({table}, rowid, {columns})"
                f" VALUES ('delete', OLD.doc_id, {values});"
            )
    return "\n    ".join(statements)


_SQLITE_TRIGGERS = [
    # image_search -> its FTS5 indexes
    f"""CREATE TRIGGER image_search_added AFTER INSERT ON image_search BEGIN
    {_fts_writes("NEW")}
END""",
    f"""CREATE TRIGGER image_search_removed AFTER DELETE ON image_search BEGIN
    {_fts_writes("OLD")}
END""",
    f"""CREATE TRIGGER image_search_changed AFTER UPDATE ON image_search BEGIN
    {_fts_writes("OLD")}
    {_fts_writes("NEW")}
END""",
    # images -> image_search
    f"""CREATE TRIGGER images_search_added AFTER INSERT ON images
WHEN {_LISTED.format(row="NEW")} BEGIN
    INSERT INTO image_search (doc_id, {_COLUMNS})
    SELECT {_SQLITE_NEW_KEY}, {_SQLITE_VALUES.format(row="NEW")}
    FROM users AS u WHERE u.id = NEW.owner_id;
END""",
    f"""CREATE TRIGGER images_search_changed
AFTER UPDATE OF status, deleted_at, visibility, caption, alt_text, tags, location_name ON images
BEGIN
    DELETE FROM image_search WHERE image_id = OLD.id;
    INSERT INTO image_search (doc_id, {_COLUMNS})
    SELECT {_SQLITE_NEW_KEY}, {_SQLITE_VALUES.format(row="NEW")} FROM users AS u
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
    *(f"DROP TABLE IF EXISTS {table}" for table in _FTS_TABLES),
]

# --- PostgreSQL: a GIN index of the words, a trigger function --------------------------------

# Only letters and digits reach the parser, as words: it sees no e-mail, URL, file name or
# number with a point (which it would keep whole), so it cuts text where SQLite's does.
_PG_WORDS = "regexp_replace({text}, '[^[:alnum:]]+', ' ', 'g')"
_PG_VALUES = f"""{{row}}.id, {{row}}.owner_id, {{row}}.visibility, {{row}}.created_at,
    {_PG_WORDS.format(text="coalesce((SELECT string_agg(t, ' ') FROM json_array_elements_text({row}.tags) AS t), '')")},
    {_PG_WORDS.format(text="{row}.caption")},
    {_PG_WORDS.format(text="u.username || ' ' || coalesce({row}.location_name, '')")},
    {_PG_WORDS.format(text="{row}.alt_text")}, {_ACCESS.format(row="{row}")}"""
_PG_FILL = f"""
INSERT INTO image_search ({_COLUMNS})
SELECT {_PG_VALUES.format(row="i")}
FROM images AS i JOIN users AS u ON u.id = i.owner_id
WHERE {_LISTED.format(row="i")}
ORDER BY i.created_at, i.id
"""
# The words of all the field groups (every word of a query must be in one), and one index
# per field group (the rank of a hit is the set of groups holding a word): a search asks for
# one rank at a time and the planner reads it from these (rare words) or walks
# ix_image_search_newest newest first with the words as a filter (common words).
_PG_INDEXES = [
    """CREATE INDEX ix_image_search_words ON image_search USING gin (
    to_tsvector('simple'::regconfig, tags || ' ' || caption || ' ' || names || ' ' || alt_text)
)""",
    *(
        f"""CREATE INDEX ix_image_search_words_{name} ON image_search
    USING gin (to_tsvector('simple'::regconfig, {name}))"""
        for name in FIELDS
    ),
]
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
        sa.Column("access", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["images.id"],
            name=op.f("fk_image_search_image_id_images"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("doc_id", name=op.f("pk_image_search")),
        sa.UniqueConstraint("image_id", name=op.f("uq_image_search_image_id")),
    )
    op.create_index("ix_image_search_newest", "image_search", ["created_at", "image_id"])
    op.create_index(
        "ix_users_username_prefix",
        "users",
        ["username"],
        postgresql_ops={"username": "varchar_pattern_ops"},
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FILL)
        for index in _PG_INDEXES:
            op.execute(index)
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_FILL)
        for index in _SQLITE_INDEXES:
            op.execute(index)
        for table in _FTS_TABLES:
            op.execute(f"INSERT INTO {table} ({table}) VALUES ('rebuild')")
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
    op.drop_index("ix_image_search_newest", table_name="image_search")
    op.drop_table("image_search")
