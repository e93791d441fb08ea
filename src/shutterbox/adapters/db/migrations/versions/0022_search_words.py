"""search on PostgreSQL: each search row's words weighted by field group in a stored
``tsvector`` (``weighted_words``), and the vocabulary of each field group
(``image_search_vocabulary``), kept by a trigger

Revision ID: 0022
Revises: 0020

SQLite is untouched: its FTS5 indexes already answer both questions (migration 0015).

``weighted_words`` holds the words of the four field groups as the weights A (tags), B
(caption), C (names) and D (alt text), so one ``@@`` of a stored value says whether a row is
of a rank (``search_ranks``): a walk of ``ix_image_search_newest`` checks each row without
parsing its text again.

``image_search_vocabulary`` holds each word ever seen in each field group (never removed:
a word left behind only makes a search ask for a rank that holds nothing, which costs one
short index read). Whether a group holds a word, or a word starting with a prefix, is one
seek of its primary key, where the GIN indexes would gather every row holding it.
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None

GROUPS = {"tags": "A", "caption": "B", "names": "C", "alt_text": "D"}
_WEIGHTED = " || ".join(
    f"setweight(to_tsvector('simple'::regconfig, {column}), '{weight}')"
    for column, weight in GROUPS.items()
)
# The words of one row's field groups, as (group, word) rows.
_ROW_WORDS = " UNION ALL ".join(
    f"SELECT '{column}', unnest(tsvector_to_array(to_tsvector('simple'::regconfig, {{row}}.{column})))"
    for column in GROUPS
)
_FILL = f"""
INSERT INTO image_search_vocabulary (field_group, word)
SELECT DISTINCT w.field_group, w.word FROM image_search AS s,
LATERAL ({_ROW_WORDS.format(row="s")}) AS w (field_group, word)
ON CONFLICT DO NOTHING
"""
_FUNCTION = f"""
CREATE FUNCTION image_search_vocabulary_add() RETURNS trigger AS $$
BEGIN
    INSERT INTO image_search_vocabulary (field_group, word)
    SELECT DISTINCT w.field_group, w.word
    FROM ({_ROW_WORDS.format(row="NEW")}) AS w (field_group, word)
    ORDER BY 1, 2  -- one order for every writer: no deadlock between two inserts
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
_TRIGGER = """
CREATE TRIGGER image_search_vocabulary AFTER INSERT ON image_search
FOR EACH ROW EXECUTE FUNCTION image_search_vocabulary_add()
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"ALTER TABLE image_search ADD COLUMN weighted_words tsvector"
        f" GENERATED ALWAYS AS ({_WEIGHTED}) STORED"
    )
    op.execute(
        """CREATE TABLE image_search_vocabulary (
    field_group varchar(16) NOT NULL,
    word text COLLATE "C" NOT NULL,
    CONSTRAINT pk_image_search_vocabulary PRIMARY KEY (field_group, word)
)"""
    )
    op.execute(_FILL)
    op.execute(_FUNCTION)
    op.execute(_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS image_search_vocabulary ON image_search")
    op.execute("DROP FUNCTION IF EXISTS image_search_vocabulary_add()")
    op.execute("DROP TABLE IF EXISTS image_search_vocabulary")
    op.execute("ALTER TABLE image_search DROP COLUMN IF EXISTS weighted_words")
