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
2. If the walk found some hits but not enough, it goes on for as many more rows as the
   hits so far say the page needs (at most ``MORE_ROWS``).
3. **Gather**: what is still missing comes from the GIN indexes (every word of the query in
   the row; each of the rank's groups holding a word), limited to the rows older than the
   walk: by then the rank is known to be rare, so there are few to gather and sort.

The walk costs at most a few thousand index entries and rows, the gathering the rare rank's
own rows; between the two a page costs about the same whatever the words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.repositories.search_ranks import FIELDS, groups_of, ranks_from
from shutterbox.domain.images import Visibility
from shutterbox.domain.search import SearchPosition, SearchQuery

WALK_ROWS = 1_000  # the newest rows a rank is first looked for in
MORE_ROWS = 6_000  # at most this many more when the first walk found too few hits
WEIGHTS = dict(zip(FIELDS, "ABCD", strict=True))  # migration 0022's weights of the groups


@dataclass(frozen=True)
class Hit:
    image_id: str
    created_at: datetime
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


# --- Which groups hold a word ------------------------------------------------------------------

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


def _probe(query: SearchQuery) -> tuple[Any, dict[str, str]]:
    *whole, last = query.terms
    words = " OR ".join(f"v.word = :whole_{n}" for n in range(len(whole)))
    held = f"(v.word >= :prefix AND v.word < :prefix_end{' OR ' + words if words else ''})"
    statement = text(
        "SELECT "
        + ", ".join(
            f"EXISTS (SELECT 1 FROM image_search_vocabulary AS v "
            f"WHERE v.field_group = '{name}' AND {held})"
            for name in FIELDS
        )
    )
    parameters = {f"whole_{n}": term for n, term in enumerate(whole)}
    return statement, parameters | {"prefix": last, "prefix_end": _next_prefix(last)}


MAX_COMPLETIONS = 64  # a prefix with more known completions is gathered as a prefix
_COMPLETIONS = text(
    "SELECT DISTINCT v.word FROM image_search_vocabulary AS v"
    f" WHERE v.field_group IN ({', '.join(repr(name) for name in FIELDS)})"
    " AND v.word >= :prefix AND v.word < :prefix_end LIMIT :most"
)


async def completed(conn: AsyncConnection, query: SearchQuery) -> SearchQuery | tuple[str, ...]:
    """The words the query's last word (a prefix) stands for, from the vocabulary: a GIN
    index reads a word's rows lazily beside the others', but gathers every row of every word
    of a prefix before it can leave one out (a common prefix costs its hundred thousand
    rows). The prefix itself when it has more than ``MAX_COMPLETIONS`` words."""
    last = query.terms[-1]
    found = await conn.execute(
        _COMPLETIONS,
        {"prefix": last, "prefix_end": _next_prefix(last), "most": MAX_COMPLETIONS + 1},
    )
    words = tuple(sorted(str(word) for word in found.scalars()))
    return query if len(words) > MAX_COMPLETIONS else words


async def groups_holding(conn: AsyncConnection, query: SearchQuery) -> frozenset[str]:
    statement, parameters = _probe(query)
    found = (await conn.execute(statement, parameters)).one()
    return frozenset(name for name, held in zip(FIELDS, found, strict=True) if held)


# --- Reading one rank -------------------------------------------------------------------------

_AFTER = "AND (s.created_at, s.image_id) < (:at, :after_id)"
_SEEN = "(s.visibility = :public OR s.owner_id = :viewer)"
# The hits among the newest :rows rows from (:at, :after_id) on, newest first: the rows are
# read in index order and the reading stops at the :need-th hit (a common word: a few dozen
# rows, not :rows).
_WALK = f"""
SELECT s.image_id, s.created_at FROM (
    SELECT s.image_id, s.created_at, s.weighted_words, s.visibility, s.owner_id
    FROM image_search AS s WHERE true {{after}}
    ORDER BY s.created_at DESC, s.image_id DESC LIMIT :rows
) AS s
WHERE s.weighted_words @@ to_tsquery('simple', :rank) AND {_SEEN}
ORDER BY s.created_at DESC, s.image_id DESC LIMIT :need
"""
# When the hits did not fill the page: the oldest of those :rows rows, and how many there
# were (where a further read starts, and whether the walk reached the end): the index alone.
_WALKED = """
SELECT s.image_id, s.created_at, s.walked FROM (
    SELECT s.image_id, s.created_at,
        row_number() OVER (ORDER BY s.created_at DESC, s.image_id DESC) AS walked
    FROM image_search AS s WHERE true {after}
    ORDER BY s.created_at DESC, s.image_id DESC LIMIT :rows
) AS s
ORDER BY s.walked DESC LIMIT 1
"""
_ALL_GROUPS = (
    "to_tsvector('simple'::regconfig,"
    " s.tags || ' ' || s.caption || ' ' || s.names || ' ' || s.alt_text)"
)
# The rank's rows older than the walk, from the GIN indexes (the statement runs with index
# walks off: the planner cannot choose to walk again, blind to how few rows there are).
_GATHER = f"""
SELECT s.image_id, s.created_at FROM image_search AS s
WHERE {_ALL_GROUPS} @@ to_tsquery('simple', :words) {{groups}}
AND s.weighted_words @@ to_tsquery('simple', :rank) AND {_SEEN} {_AFTER}
ORDER BY s.created_at DESC, s.image_id DESC LIMIT :need
"""
_GROUP = "AND to_tsvector('simple'::regconfig, s.{name}) @@ to_tsquery('simple', :{name}_any)"
_INDEX_WALKS = "SELECT set_config('enable_indexscan', :on, true)"


@dataclass
class _Walked:
    hits: list[tuple[str, datetime]]
    oldest: tuple[datetime, str] | None  # the last row read: a further read starts after it
    reached_the_end: bool


async def _walk(
    conn: AsyncConnection,
    parameters: dict[str, Any],
    start: tuple[datetime, str] | None,
    rows: int,
    need: int,
) -> _Walked:
    after = _AFTER if start else ""
    values = parameters | {"rows": rows, "need": need}
    if start:
        values |= {"at": start[0], "after_id": start[1]}
    found = (await conn.execute(text(_WALK.format(after=after)), values)).all()
    hits = [(str(row[0]), row[1]) for row in found]
    if len(hits) >= need:  # the caller reads no further
        return _Walked(hits, None, False)
    last = (await conn.execute(text(_WALKED.format(after=after)), values)).first()
    if last is None:
        return _Walked(hits, None, True)
    return _Walked(hits, (last[1], str(last[0])), int(last[2]) < rows)


def _gathered_words(
    query: SearchQuery, completions: SearchQuery | tuple[str, ...]
) -> dict[str, str]:
    """``to_tsquery`` texts for the GIN indexes: every word, and any word, with the last
    word's completions in place of its prefix where there are few."""
    *whole, last = query.terms
    if isinstance(completions, SearchQuery):
        last_word = _lexeme(last, True, "")
    else:
        last_word = "(" + " | ".join(_lexeme(word, False, "") for word in completions) + ")"
    exact = [_lexeme(term, False, "") for term in whole]
    return {"words": " & ".join([*exact, last_word]), "any": " | ".join([*exact, last_word])}


async def _gather(
    conn: AsyncConnection,
    score: int,
    parameters: dict[str, Any],
    start: tuple[datetime, str],
    need: int,
    gathered_words: dict[str, str],
) -> list[tuple[str, datetime]]:
    groups = groups_of(score)
    statement = text(_GATHER.format(groups=" ".join(_GROUP.format(name=n) for n in groups)))
    values = parameters | {"need": need, "at": start[0], "after_id": start[1]}
    values |= {"words": gathered_words["words"]}
    values |= {f"{name}_any": gathered_words["any"] for name in groups}
    await conn.execute(text(_INDEX_WALKS), {"on": "off"})
    try:
        return [(str(row[0]), row[1]) for row in (await conn.execute(statement, values)).all()]
    finally:
        await conn.execute(text(_INDEX_WALKS), {"on": "on"})


async def read_rank(
    conn: AsyncConnection,
    query: SearchQuery,
    score: int,
    parameters: dict[str, Any],
    start: tuple[datetime, str] | None,
    need: int,
) -> list[tuple[str, datetime]]:
    """Up to ``need`` hits of rank ``score`` after ``start`` (or from the newest), newest
    first: walked, walked further, then gathered (the module's docstring)."""
    walked = await _walk(conn, parameters, start, WALK_ROWS, need)
    hits = walked.hits
    if len(hits) >= need or walked.reached_the_end or walked.oldest is None:
        return hits
    oldest = walked.oldest
    if hits:
        more = math.ceil((need - len(hits)) * WALK_ROWS / len(hits) * 1.5)
        if more <= MORE_ROWS:
            further = await _walk(conn, parameters, oldest, more, need - len(hits))
            hits += further.hits
            if len(hits) >= need or further.reached_the_end or further.oldest is None:
                return hits
            oldest = further.oldest
    completions = await completed(conn, query)
    if not completions:  # the prefix completes no word any more
        return hits
    gathered_words = _gathered_words(query, completions)
    return hits + await _gather(conn, score, parameters, oldest, need - len(hits), gathered_words)


# --- The page ---------------------------------------------------------------------------------

# For the search's transaction: no parallel workers (starting them costs more than a page)
SETTINGS = text("SELECT set_config('max_parallel_workers_per_gather', '0', true)")


async def search_page(
    conn: AsyncConnection,
    query: SearchQuery,
    *,
    viewer_id: int | None,
    after: SearchPosition | None,
    limit: int,
) -> list[Hit]:
    """The page's hits, best rank first, each rank newest first."""
    await conn.execute(SETTINGS)
    present = await groups_holding(conn, query)
    hits: list[Hit] = []
    base = {
        "public": Visibility.PUBLIC.value,
        "viewer": viewer_id if viewer_id is not None else -1,
    }
    for score in ranks_from(after.score if after else None, present):
        start = (after.created_at, after.image_id) if after and after.score == score else None
        parameters = base | {"rank": rank_query(query, score, present)}
        found = await read_rank(conn, query, score, parameters, start, limit - len(hits))
        hits += [Hit(image_id, at, score) for image_id, at in found]
        if len(hits) >= limit:
            break
    return hits
