"""Search on SQL: images through the word index of each database, people by the start of
their username.

The rules are ``domain/search.py``'s; here they become SQL. The words were cut to letters
and digits before they get here, so a query can hold no syntax of either database: on
SQLite each word is an FTS5 string (``"word"``, the last ``"word"*``), on PostgreSQL a
quoted lexeme (``'word'``, the last ``'word':*``) of ``to_tsquery('simple', ...)``.

A page is one query: the index finds the matching rows of ``image_search`` (FTS5's own
index on SQLite, a GIN bitmap scan on PostgreSQL), each is filtered by visibility and
scored, the best ``limit`` after the cursor are kept (a top-N sort, bounded by the page),
and only their images are read (by primary key, from the image cache where it can).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Integer, String, TextClause, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.repositories.images import SqlImages
from shutterbox.adapters.db.tables import image_search, users
from shutterbox.domain.images import Image, Visibility
from shutterbox.domain.search import FIELD_WEIGHTS, SearchPosition, SearchQuery
from shutterbox.domain.users import CLOSED_ACCOUNT_HASH
from shutterbox.ports.search import SearchHit

_AFTER = "AND (score, created_at, image_id) < (:score, :at, :after_id)"
_PAGE = """
SELECT hits.image_id, i.version, hits.score
FROM ({hits}) AS hits JOIN images AS i ON i.id = hits.image_id
ORDER BY hits.score DESC, hits.created_at DESC, hits.image_id DESC
"""

# SQLite: a field group holds a word of the query iff the row is among the matches of that
# group's own filter (``tags : ("a" OR "b"*)``): each filter runs once per query, into a
# temporary index the rows are looked up in (cheaper than re-reading each row's text).
_SQLITE_SCORE = " + ".join(
    f"(image_search_index.rowid IN (SELECT rowid FROM image_search_index"
    f" WHERE image_search_index MATCH :in_{name})) * {weight}"
    for name, weight in FIELD_WEIGHTS.items()
)
_SQLITE_HITS = f"""
SELECT * FROM (
    SELECT s.image_id AS image_id, s.created_at AS created_at, {_SQLITE_SCORE} AS score
    FROM image_search_index JOIN image_search AS s ON s.doc_id = image_search_index.rowid
    WHERE image_search_index MATCH :words AND (s.visibility = :public OR s.owner_id = :viewer)
) WHERE 1 = 1 {{after}}
ORDER BY score DESC, created_at DESC, image_id DESC LIMIT :limit
"""

# PostgreSQL: the GIN index's expression (migration 0015), and a field group's own words.
_PG_DOCUMENT = (
    "to_tsvector('simple'::regconfig, s.tags || ' ' || s.caption || ' ' || s.names "
    "|| ' ' || s.alt_text)"
)
_PG_SCORE = " + ".join(
    f"(to_tsvector('simple'::regconfig, s.{name}) @@ to_tsquery('simple', :any_word))::int"
    f" * {weight}"
    for name, weight in FIELD_WEIGHTS.items()
)
_PG_HITS = f"""
SELECT * FROM (
    SELECT s.image_id AS image_id, s.created_at AS created_at, {_PG_SCORE} AS score
    FROM image_search AS s
    WHERE {_PG_DOCUMENT} @@ to_tsquery('simple', :words)
    AND (s.visibility = :public OR s.owner_id = :viewer)
) AS scored WHERE 1 = 1 {{after}}
ORDER BY score DESC, created_at DESC, image_id DESC LIMIT :limit
"""


@cache
def images_page(dialect: str, *, after_cursor: bool) -> TextClause:
    """A page of hits: (image id, row version, score), best first. Parameters: those of
    ``match_words``, ``public``, ``viewer``, ``limit``; ``score``, ``at``
    and ``after_id`` after a cursor."""
    hits = (_PG_HITS if dialect == "postgresql" else _SQLITE_HITS).format(
        after=_AFTER if after_cursor else ""
    )
    statement = text(_PAGE.format(hits=hits))
    if not after_cursor:
        return statement
    return statement.bindparams(
        bindparam("at", type_=image_search.c.created_at.type),
        bindparam("after_id", type_=String),
        bindparam("score", type_=Integer),
    )


def match_words(dialect: str, query: SearchQuery) -> dict[str, str]:
    """The query as the database's match expression: every word, the last as a prefix; and
    what scores a field group: any of the words (on SQLite, in that group's column)."""
    *whole, last = query.terms
    if dialect == "postgresql":
        lexemes = [f"'{term}'" for term in whole] + [f"'{last}':*"]
        return {"words": " & ".join(lexemes), "any_word": " | ".join(lexemes)}
    strings = [*(f'"{term}"' for term in whole), f'"{last}"*']
    any_word = " OR ".join(strings)
    return {
        "words": " AND ".join(strings),
        **{f"in_{name}": f"{name} : ({any_word})" for name in FIELD_WEIGHTS},
    }


def _still_listed(viewer_id: int | None) -> Any:
    def shown(image: Image) -> bool:
        return image.shown_in_lists() and (
            image.visibility == Visibility.PUBLIC or image.owner_id == viewer_id
        )

    return shown


class SqlSearch:
    """``SearchRepository`` on one connection; the images come through ``SqlImages`` (its
    image cache, one query by id for the rest)."""

    def __init__(self, conn: AsyncConnection, found_images: SqlImages) -> None:
        self.conn = conn
        self.found_images = found_images

    async def images(
        self,
        query: SearchQuery,
        *,
        viewer_id: int | None,
        after: SearchPosition | None,
        limit: int,
    ) -> list[SearchHit]:
        dialect = self.conn.dialect.name
        parameters: dict[str, Any] = {
            **match_words(dialect, query),
            "public": Visibility.PUBLIC.value,
            "viewer": viewer_id if viewer_id is not None else -1,
            "limit": limit,
        }
        if after is not None:
            parameters |= {"score": after.score, "at": after.created_at, "after_id": after.image_id}
        statement = images_page(dialect, after_cursor=after is not None)
        rows = (await self.conn.execute(statement, parameters)).all()
        scores = {image_id: int(score) for image_id, _, score in rows}
        listed = [(image_id, version) for image_id, version, _ in rows]
        found = await self.found_images._listed_images(
            listed,  # the same path as the feeds'
            _still_listed(viewer_id),
        )
        return [SearchHit(image, scores[image.id]) for image in found]

    async def usernames(self, prefix: str, *, limit: int) -> list[str]:
        if self.conn.dialect.name == "postgresql":
            escaped = prefix.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")
            starts: Any = users.c.username.like(escaped + "%", escape="\\")
        else:  # every username character sorts before '{' (a-z, 0-9, '_')
            starts = (users.c.username >= prefix) & (users.c.username < prefix + "{")
        query = (
            select(users.c.username)
            .where(starts, users.c.password_hash != CLOSED_ACCOUNT_HASH)
            .order_by(users.c.username)
            .limit(limit)
        )
        return [str(name) for name in (await self.conn.execute(query)).scalars()]


# PostgreSQL: the search rows of every listed image, as migration 0015 fills them.
_PG_WORDS = "regexp_replace({}, '[^[:alnum:]]+', ' ', 'g')"
_PG_TAGS = "coalesce((SELECT string_agg(t, ' ') FROM json_array_elements_text(i.tags) AS t), '')"
_PG_REFILL = f"""
INSERT INTO image_search
    (image_id, owner_id, visibility, created_at, tags, caption, names, alt_text)
SELECT i.id, i.owner_id, i.visibility, i.created_at,
    {_PG_WORDS.format(_PG_TAGS)},
    {_PG_WORDS.format("i.caption")},
    {_PG_WORDS.format("u.username || ' ' || coalesce(i.location_name, '')")},
    {_PG_WORDS.format("i.alt_text")}
FROM images AS i JOIN users AS u ON u.id = i.owner_id
WHERE i.status = 'ready' AND i.deleted_at IS NULL
"""


async def rebuild_search_index(conn: AsyncConnection) -> None:
    """Make the search rows and their word index again from the images: after a bulk load.
    On PostgreSQL a load with the triggers off (``session_replication_role = replica``)
    leaves ``image_search`` empty: it is filled as the migration fills it. On SQLite the
    triggers always run, so the rows are there; the FTS5 index is rebuilt from them (one
    pass, the index written in order)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("TRUNCATE image_search"))
        await conn.execute(text(_PG_REFILL))
    else:
        await conn.execute(
            text("INSERT INTO image_search_index (image_search_index) VALUES ('rebuild')")
        )
