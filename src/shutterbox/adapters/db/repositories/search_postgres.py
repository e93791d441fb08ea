"""A page of search hits on PostgreSQL, one rank at a time, each read the cheaper of two ways.

The ranks are ``search_ranks``': a rank is a set of field groups, and an image is of it when
every word of the query is in one of its groups, each of its groups holds a word, and no
other group does. Which groups hold any word of the query at all is first asked of the
vocabulary (``image_search_vocabulary``, migration 0022: one primary-key seek per group and
word), and the ranks that need a group holding none are never read.

A rank is one ``tsquery`` over the row's stored ``weighted_words`` (A tags, B caption, C
names, D alt text): ``'sunset':*B & !'sunset':*A`` is "sunset in the caption, not in the
tags". PostgreSQL cannot say how many rows are of a rank: its statistics know each word,
not how the groups go together (two words common alone can be rare together, and the same
word in two groups is counted twice), and a plan chosen on a wrong guess either walks the
whole index for a rank that holds a handful or gathers a hundred thousand rows for one
that fills a page at once. So no guess is made:

1. **Walk**: the newest ``WALK_ROWS`` rows (``ix_image_search_newest``, from the cursor),
   each checked against the stored words, read until the page is full. A common rank
   fills its page here, after a few dozen rows.
2. If the walk found some hits but not enough, it is walked again as far as the hits so far
   say the page needs (at most ``MORE_ROWS`` rows more).
3. **Gather**: otherwise the rank is rare, and its rows come from the GIN indexes (every
   word of the query in the row; each of the rank's groups holding a word), gathered whole
   (a ``MATERIALIZED`` step with no order, so that the planner cannot choose to walk the
   index again, blind to how few rows there are) and sorted.

The walk costs at most a few thousand index entries and rows, the gathering the rare rank's
own rows; between the two a page costs about the same whatever the words. Each statement is
built once and run as a quick read (``lean_reads``: straight on asyncpg once seen twice);
the vocabulary is asked in one statement, and each hit comes with its image's version.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Boolean, String, column, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.selectable import TextualSelect

from shutterbox.adapters.db.repositories.search_ranks import FIELDS, groups_of, ranks_from
from shutterbox.adapters.db.repositories.search_statistics import word_frequencies
from shutterbox.adapters.db.tables import image_search, images
from shutterbox.domain.images import Visibility
from shutterbox.domain.search import SearchPosition, SearchQuery

WALK_ROWS = 1_000  # the newest rows a rank is first looked for in
MORE_ROWS = 6_000  # at most this many more when the first walk found too few hits
WEIGHTS = dict(zip(FIELDS, "ABCD", strict=True))  # migration 0022's weights of the groups


@dataclass(frozen=True)
class Hit:
    image_id: str
    created_at: datetime
    version: int
    score: int


# --- What the query holds ----------------------------------------------------------------------


def _lexeme(term: str, prefix: bool, weights: str) -> str:
    marks = ("*" if prefix else "") + weights
    return f"'{term}':{marks}" if marks else f"'{term}'"


def _any_word(query: SearchQuery, weights: str) -> str:
    *whole, last = query.terms
    lexemes = [_lexeme(term, False, weights) for term in whole] + [_lexeme(last, True, weights)]
    return "(" + " | ".join(lexemes) + ")"


def rank_query(query: SearchQuery, score: int, present: frozenset[str]) -> str:
    """``to_tsquery`` text of the rows of rank ``score`` (``weighted_words``' weights); the
    groups that hold no word of the query anywhere need no condition."""
    groups = groups_of(score)
    own = "".join(WEIGHTS[name] for name in groups)
    *whole, last = query.terms
    parts = [_lexeme(term, False, own) for term in whole] + [_lexeme(last, True, own)]
    if len(groups) > 1:
        parts += [_any_word(query, WEIGHTS[name]) for name in groups]
    parts += [
        "!" + _any_word(query, WEIGHTS[name])
        for name in FIELDS
        if name in present and name not in groups
    ]
    return " & ".join(parts)


# --- Which groups hold a word, and what the last word completes to ---------------------------

# The vocabulary made again from the search rows (after a load with the triggers off).
REFILL_VOCABULARY = text(
    "INSERT INTO image_search_vocabulary (field_group, word) SELECT DISTINCT w.field_group,"
    " w.word FROM image_search AS s, LATERAL ("
    + " UNION ALL ".join(
        f"SELECT '{name}', unnest(tsvector_to_array(to_tsvector('simple'::regconfig, s.{name})))"
        for name in FIELDS
    )
    + ") AS w (field_group, word) ON CONFLICT DO NOTHING"
)


def _next_prefix(prefix: str) -> str:
    """The first string after every string starting with ``prefix`` (code point order, the
    vocabulary's collation "C")."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


# A prefix with more known completions than this is gathered as a prefix: a GIN index reads
# a word's rows lazily beside the others', but gathers every row of every word of a prefix
# before it can leave one out (a common prefix costs its hundred thousand rows).
MAX_COMPLETIONS = 64
_COMPLETIONS = (
    "ARRAY(SELECT DISTINCT v.word FROM image_search_vocabulary AS v"
    f" WHERE v.field_group IN ({', '.join(repr(name) for name in FIELDS)})"
    " AND v.word >= :prefix AND v.word < :prefix_end LIMIT :most)"
)


@cache
def _probe(whole_words: int) -> TextualSelect:
    """For a query of ``whole_words`` words and a prefix: the prefix's completions, then
    whether each group holds any word of the query."""
    words = " OR ".join(f"v.word = :whole_{n}" for n in range(whole_words))
    held = f"(v.word >= :prefix AND v.word < :prefix_end{' OR ' + words if words else ''})"
    groups = [
        f"EXISTS (SELECT 1 FROM image_search_vocabulary AS v "
        f"WHERE v.field_group = '{name}' AND {held})"
        for name in FIELDS
    ]
    return text(
        f"SELECT {_COMPLETIONS} AS completions, "
        + ", ".join(f"{found} AS {name}" for found, name in zip(groups, FIELDS, strict=True))
    ).columns(column("completions", ARRAY(String)), *(column(name, Boolean) for name in FIELDS))


@dataclass(frozen=True)
class Vocabulary:
    present: frozenset[str]  # the groups holding some word of the query
    completions: tuple[str, ...] | None  # the last word's, None when more than MAX_COMPLETIONS


async def look_up(conn: AsyncConnection, query: SearchQuery) -> Vocabulary:
    *whole, last = query.terms
    parameters: dict[str, Any] = {f"whole_{n}": term for n, term in enumerate(whole)}
    parameters |= {"prefix": last, "prefix_end": _next_prefix(last)}
    found = (
        await conn.execute(_probe(len(whole)), parameters | {"most": MAX_COMPLETIONS + 1})
    ).one()
    completions = tuple(sorted(str(word) for word in found[0] or ()))
    present = frozenset(name for name, held in zip(FIELDS, found[1:], strict=True) if held)
    return Vocabulary(present, None if len(completions) > MAX_COMPLETIONS else completions)


# --- Reading one rank -------------------------------------------------------------------------

_AFTER = "AND (s.created_at, s.image_id) < (:at, :after_id)"
_SEEN = "(s.visibility = :public OR s.owner_id = :viewer)"
_ORDER = "ORDER BY s.created_at DESC, s.image_id DESC"
# Each hit with its image's version (read for the hits alone).
_WITH_VERSION = f"""
SELECT s.image_id, s.created_at, (SELECT i.version FROM images AS i WHERE i.id = s.image_id)
FROM ({{hits}}) AS s {_ORDER}
"""
# The hits among the newest :rows rows from (:at, :after_id) on, newest first: the rows are
# read in index order and the reading stops at the :need-th hit (a common word: a few dozen
# rows, not :rows).
_WALK = f"""
SELECT s.image_id, s.created_at FROM (
    SELECT s.image_id, s.created_at, s.weighted_words, s.visibility, s.owner_id
    FROM image_search AS s WHERE true {{after}} {_ORDER} LIMIT :rows
) AS s
WHERE s.weighted_words @@ to_tsquery('simple', :rank) AND {_SEEN} {_ORDER} LIMIT :need
"""
_ALL_GROUPS = (
    "to_tsvector('simple'::regconfig,"
    " s.tags || ' ' || s.caption || ' ' || s.names || ' ' || s.alt_text)"
)
# The rank's rows from (:at, :after_id) on, from the GIN indexes, gathered whole, then sorted.
_GATHER = f"""
WITH gathered AS MATERIALIZED (
    SELECT s.image_id, s.created_at FROM image_search AS s
    WHERE {_ALL_GROUPS} @@ to_tsquery('simple', :words) {{groups}}
    AND s.weighted_words @@ to_tsquery('simple', :rank) AND {_SEEN} {{after}}
)
SELECT s.image_id, s.created_at FROM gathered AS s {_ORDER} LIMIT :need
"""
_GROUP = "AND to_tsvector('simple'::regconfig, s.{name}) @@ to_tsquery('simple', :{name}_any)"


def _statement(hits: str) -> TextualSelect:
    return text(_WITH_VERSION.format(hits=hits)).columns(
        column("image_id", String),
        column("created_at", image_search.c.created_at.type),
        column("version", images.c.version.type),
    )


@cache
def walk_statement(after: bool) -> TextualSelect:
    return _statement(_WALK.format(after=_AFTER if after else ""))


@cache
def gather_statement(groups: tuple[str, ...], after: bool) -> TextualSelect:
    return _statement(
        _GATHER.format(
            groups=" ".join(_GROUP.format(name=name) for name in groups),
            after=_AFTER if after else "",
        )
    )


def _hits(rows: Any) -> list[tuple[str, datetime, int]]:
    return [(str(row[0]), row[1], int(row[2])) for row in rows]


async def _walk(
    conn: AsyncConnection,
    parameters: dict[str, Any],
    start: tuple[datetime, str] | None,
    rows: int,
    need: int,
) -> list[tuple[str, datetime, int]]:
    values = parameters | {"rows": rows, "need": need}
    if start:
        values |= {"at": start[0], "after_id": start[1]}
    return _hits(await conn.execute(walk_statement(start is not None), values))


def gathered_words(query: SearchQuery, completions: tuple[str, ...] | None) -> dict[str, str]:
    """``to_tsquery`` texts for the GIN indexes: every word, and any word, with the last
    word's completions in place of its prefix where there are few."""
    *whole, last = query.terms
    if completions is None:
        last_word = _lexeme(last, True, "")
    else:
        last_word = "(" + " | ".join(_lexeme(word, False, "") for word in completions) + ")"
    exact = [_lexeme(term, False, "") for term in whole]
    return {"words": " & ".join([*exact, last_word]), "any": " | ".join([*exact, last_word])}


async def _gather(
    conn: AsyncConnection,
    score: int,
    parameters: dict[str, Any],
    start: tuple[datetime, str] | None,
    need: int,
    words: dict[str, str],
) -> list[tuple[str, datetime, int]]:
    groups = groups_of(score)
    values = parameters | {"need": need, "words": words["words"]}
    values |= {f"{name}_any": words["any"] for name in groups}
    if start:
        values |= {"at": start[0], "after_id": start[1]}
    return _hits(await conn.execute(gather_statement(groups, start is not None), values))


def first_walk(bound: float, rows: float, need: int) -> int | None:
    """How many of the newest rows to walk first for ``need`` hits of a rank that holds at
    most ``bound`` of the ``rows`` (``search_statistics``); None when gathering all its
    rows costs less than the walk that would find them."""
    if bound >= 1.0 or rows <= 0:
        return WALK_ROWS
    to_fill = need / bound * 1.5 if bound > 0 else math.inf
    if bound * rows <= to_fill:
        return None
    return max(WALK_ROWS, min(math.ceil(to_fill), WALK_ROWS + MORE_ROWS))


async def read_rank(
    conn: AsyncConnection,
    score: int,
    parameters: dict[str, Any],
    start: tuple[datetime, str] | None,
    need: int,
    words: dict[str, str],
    walk_rows: int | None,
) -> list[tuple[str, datetime, int]]:
    """Up to ``need`` hits of rank ``score`` after ``start`` (or from the newest), newest
    first: walked (``walk_rows`` rows: ``first_walk``), walked further, or gathered (the
    module's docstring)."""
    if walk_rows is None:
        return await _gather(conn, score, parameters, start, need, words)
    hits = await _walk(conn, parameters, start, walk_rows, need)
    if len(hits) >= need:
        return hits
    if hits:
        more = math.ceil((need - len(hits)) * walk_rows / len(hits) * 1.5)
        if more <= MORE_ROWS:
            hits = await _walk(conn, parameters, start, walk_rows + more, need)
            if len(hits) >= need:
                return hits
    return await _gather(conn, score, parameters, start, need, words)


# --- The page ---------------------------------------------------------------------------------


async def search_page(
    conn: AsyncConnection,
    query: SearchQuery,
    *,
    viewer_id: int | None,
    after: SearchPosition | None,
    limit: int,
) -> list[Hit]:
    """The page's hits, best rank first, each rank newest first."""
    vocabulary = await look_up(conn, query)
    if vocabulary.completions == ():  # no word was ever seen that the last one starts
        return []
    words = gathered_words(query, vocabulary.completions)
    frequencies = await word_frequencies(conn, str(conn.engine.url))
    *whole, _ = query.terms
    forms = [(term,) for term in whole] + [vocabulary.completions or ()]
    hits: list[Hit] = []
    base = {
        "public": Visibility.PUBLIC.value,
        "viewer": viewer_id if viewer_id is not None else -1,
    }
    for score in ranks_from(after.score if after else None, vocabulary.present):
        start = (after.created_at, after.image_id) if after and after.score == score else None
        parameters = base | {"rank": rank_query(query, score, vocabulary.present)}
        need = limit - len(hits)
        bound = frequencies.rank_bound(groups_of(score), forms)
        walk_rows = first_walk(bound, frequencies.rows, need)
        found = await read_rank(conn, score, parameters, start, need, words, walk_rows)
        hits += [Hit(image_id, at, version, score) for image_id, at, version in found]
        if len(hits) >= limit:
            break
    return hits
