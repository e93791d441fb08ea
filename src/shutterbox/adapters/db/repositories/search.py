"""Search on SQL: images through the word index of each database, people by the start of
their username.

The rules are ``domain/search.py``'s; here they become SQL. The words were cut to letters
and digits before they get here, so a query can hold no syntax of either database: on
SQLite each word is an FTS5 string (``"word"``, the last ``"word"*``), on PostgreSQL a
quoted lexeme (``'word'``, the last ``'word':*``) of ``to_tsquery('simple', ...)``.

A page reads one rank (score) at a time, best first, each newest first and no further than
the page (``search_ranks``), and only its images are read (by primary key, from the image
cache where it can).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.repositories import search_postgres, search_ranks, search_upkeep
from shutterbox.adapters.db.repositories.images import SqlImages
from shutterbox.adapters.db.tables import users
from shutterbox.domain.images import Image, Visibility
from shutterbox.domain.search import SearchPosition, SearchQuery
from shutterbox.domain.users import CLOSED_ACCOUNT_HASH
from shutterbox.ports.search import SearchHit


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
        if self.conn.dialect.name == "postgresql":
            found_hits = await search_postgres.search_page(
                self.conn, query, viewer_id=viewer_id, after=after, limit=limit
            )
            scores = {hit.image_id: hit.score for hit in found_hits}
            listed = [(hit.image_id, hit.version) for hit in found_hits]
        else:
            scores, listed = await self._sqlite_page(query, viewer_id, after, limit)
        found = await self.found_images._listed_images(
            listed,  # the same path as the feeds'
            _still_listed(viewer_id),
        )
        hits = [SearchHit(image, scores[image.id]) for image in found]
        return sorted(hits, key=lambda hit: (hit.score, hit.image.created_at, hit.image.id))[::-1]

    async def _sqlite_page(
        self, query: SearchQuery, viewer_id: int | None, after: SearchPosition | None, limit: int
    ) -> tuple[dict[str, int], list[tuple[str, int]]]:
        """The page's scores and (id, version)s, from the FTS5 indexes (``search_ranks``)."""
        probes = search_ranks.sqlite_probes(query)
        found_in = (await self.conn.execute(search_ranks.SQLITE_PROBE, probes)).one()
        present = frozenset(
            name for name, found in zip(search_ranks.FIELDS, found_in, strict=True) if found
        )
        ranks = search_ranks.ranks_from(after.score if after else None, present)
        if not ranks:
            return {}, []
        parameters: dict[str, Any] = {"limit": limit, "fetch": limit + search_ranks.SLACK}
        parameters |= {
            f"rank_{score}": search_ranks.sqlite_rank_match(query, score, present, viewer_id)
            for score in ranks
        }
        if after is not None:
            parameters |= {"at": after.created_at, "after_id": after.image_id}
        after_score = after.score if after is not None and after.score in ranks else None
        once = search_ranks.page_once_statement(ranks, after_score)
        read = [tuple(row) for row in (await self.conn.execute(once, parameters)).all()]
        page = search_ranks.page_of(read, ranks, limit)
        if page is None:  # the page's last microsecond goes on: read it exactly
            exact = search_ranks.page_statement(ranks, after_score)
            page = [tuple(row) for row in (await self.conn.execute(exact, parameters)).all()]
        scores = {image_id: int(score) for image_id, _, score in page}
        return scores, [(image_id, version) for image_id, version, _ in page]

    async def spread_indexes(self) -> list[str]:
        return await search_upkeep.spread_indexes(self.conn)

    async def merge_step(self, index: str, pages: int, *, first: bool) -> bool:
        return await search_upkeep.merge_step(self.conn, index, pages, first=first)

    async def usernames(self, prefix: str, *, limit: int) -> list[str]:
        if self.conn.dialect.name == "postgresql":
            escaped = prefix.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")
            bounds = {"pattern": escaped + "%"}
        else:  # every username character sorts before '{' (a-z, 0-9, '_')
            bounds = {"lowest": prefix, "above": prefix + "{"}
        query = _USERNAMES_LIKE if self.conn.dialect.name == "postgresql" else _USERNAMES_RANGE
        found = await self.conn.execute(query, bounds | {"limit": limit})
        return [str(name) for name in found.scalars()]


def _usernames(starts: Any) -> Any:
    """Usernames that start with the prefix, in order, but those of closed accounts."""
    return (
        select(users.c.username)
        .where(starts, users.c.password_hash != CLOSED_ACCOUNT_HASH)
        .order_by(users.c.username)
        .limit(bindparam("limit", type_=Integer))
    )


_USERNAMES_LIKE = _usernames(users.c.username.like(bindparam("pattern", type_=String), escape="\\"))
_USERNAMES_RANGE = _usernames(
    (users.c.username >= bindparam("lowest", type_=String))
    & (users.c.username < bindparam("above", type_=String))
)


# PostgreSQL: the search rows of every listed image, as migration 0015 fills them.
_PG_WORDS = "regexp_replace({}, '[^[:alnum:]]+', ' ', 'g')"
_PG_TAGS = "coalesce((SELECT string_agg(t, ' ') FROM json_array_elements_text(i.tags) AS t), '')"
_PG_REFILL = f"""
INSERT INTO image_search
    (image_id, owner_id, visibility, created_at, tags, caption, names, alt_text, access)
SELECT i.id, i.owner_id, i.visibility, i.created_at,
    {_PG_WORDS.format(_PG_TAGS)},
    {_PG_WORDS.format("i.caption")},
    {_PG_WORDS.format("u.username || ' ' || coalesce(i.location_name, '')")},
    {_PG_WORDS.format("i.alt_text")}, i.visibility || ' u' || i.owner_id
FROM images AS i JOIN users AS u ON u.id = i.owner_id
WHERE i.status = 'ready' AND i.deleted_at IS NULL
"""


async def rebuild_search_index(conn: AsyncConnection) -> None:
    """Make the search rows and their word index again from the images: after a bulk load.
    On PostgreSQL a load with the triggers off (``session_replication_role = replica``)
    leaves ``image_search`` empty: it is filled as the migrations fill it, with its
    vocabulary. On SQLite the
    triggers always run, so the rows are there; the FTS5 index is rebuilt from them (one
    pass per FTS5 table, each written in order)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("TRUNCATE image_search"))
        await conn.execute(text(_PG_REFILL))
        await conn.execute(search_postgres.REFILL_VOCABULARY)
    else:
        for table in (
            "image_search_index",
            *(f"image_search_index_{f}" for f in search_ranks.FIELDS),
        ):
            await conn.execute(text(f"INSERT INTO {table} ({table}) VALUES ('rebuild')"))
