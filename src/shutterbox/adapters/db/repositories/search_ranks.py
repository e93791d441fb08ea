"""A page of search hits, one rank at a time; the ranks, and how SQLite reads them.

An image's score is the sum of the weights of the field groups holding a word of the query
(``domain/search.py``): it is a set of groups, so there are at most 15 scores, each its own
rank. A page asks for the best rank first, newest first, and goes on to the next rank only
while the page is not full; each rank is one read of an index in (created_at, image_id)
order that stops at the page, whatever the number of matches. A rank is: every word in one
of its groups, a word in each of its groups, no word in any other group.

SQLite: the FTS5 index ``image_search_index`` has rowids in (created_at, image_id) order
(migration 0015), so a rank is its match expression read ``ORDER BY rowid DESC`` with a
``LIMIT``; who may see a row is part of the expression (its ``access`` column), so nothing
is read and thrown away. The rows of one microsecond share a range of rowids, so a rank is
read once, ``SLACK`` rows past the page, and its rows put in (microsecond, id) order here
(``page_of``); only when the page's last microsecond may go on past what was read is the
page read again exactly, each rank down to the start of that microsecond. Before the
page, one look-up per field group (its own FTS5 index) says whether the group holds any
word of the query at all: the ranks that need a group that holds none are not asked for,
and a group that holds none is no condition.

PostgreSQL reads its ranks one statement at a time, each the cheaper of two ways:
``search_postgres``.

On SQLite the ranks are the arms of one ``UNION ALL`` under the page's ``LIMIT``: it runs
the arms in order and stops once the page is full.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Integer, String, TextClause, bindparam, text

from shutterbox.adapters.db.tables import image_search
from shutterbox.domain.search import FIELD_WEIGHTS, SearchQuery

FIELDS = tuple(FIELD_WEIGHTS)
RANKS = sorted(range(1, 2 ** len(FIELDS)), reverse=True)  # the scores, best first


def groups_of(score: int) -> tuple[str, ...]:
    """The field groups an image of ``score`` has a word in."""
    return tuple(name for name, weight in FIELD_WEIGHTS.items() if score & weight)


def ranks_from(start: int | None, present: frozenset[str]) -> tuple[int, ...]:
    """The ranks a page reads, best first, from ``start`` (a cursor's) down: those whose
    groups all hold some word of the query."""
    return tuple(
        score
        for score in RANKS
        if (start is None or score <= start) and set(groups_of(score)) <= present
    )


# --- SQLite -----------------------------------------------------------------------------------


def sqlite_words(query: SearchQuery) -> tuple[str, str]:
    """FTS5 strings: every word (the last a prefix), and any of them."""
    *whole, last = query.terms
    strings = [*(f'"{term}"' for term in whole), f'"{last}"*']
    return " AND ".join(strings), " OR ".join(strings)


def sqlite_probes(query: SearchQuery) -> dict[str, str]:
    """What the look-up of each group's own index matches: any word of the query."""
    _, any_word = sqlite_words(query)
    return {f"in_{name}": any_word for name in FIELDS}


SQLITE_PROBE = text(
    "SELECT "
    + ", ".join(
        f"EXISTS (SELECT 1 FROM image_search_index_{name}"
        f" WHERE image_search_index_{name} MATCH :in_{name})"
        for name in FIELDS
    )
)


def sqlite_rank_match(
    query: SearchQuery, score: int, present: frozenset[str], viewer_id: int | None
) -> str:
    """The FTS5 expression of one rank, for one viewer."""
    every_word, any_word = sqlite_words(query)
    groups = groups_of(score)
    parts = [f"{{{' '.join(groups)}}} : ({every_word})"]
    if len(groups) > 1:
        parts += [f"{{{name}}} : ({any_word})" for name in groups]
    expression = "(" + " AND ".join(parts) + ")"
    for name in FIELDS:
        if name in present and name not in groups:
            expression = f"({expression} NOT {{{name}}} : ({any_word}))"
    hidden = '{access} : "private"'
    if viewer_id is not None:
        hidden = f'({hidden} NOT {{access}} : "u{viewer_id}")'
    return f"{expression} NOT {hidden}"


_SQLITE_KEY = (
    "((CAST(strftime('%s', :at) AS INTEGER) * 1000000"
    " + CAST(substr(substr(:at, 21) || '000000', 1, 6) AS INTEGER)) * 1024 + 1024)"
)
_SQLITE_AFTER = (
    f"AND image_search_index.rowid < {_SQLITE_KEY} "
    "AND (s.created_at, s.image_id) < (:at, :after_id)"
)
_SQLITE_RANK = """SELECT * FROM (
    SELECT s.image_id AS image_id, {score} AS score
    FROM image_search_index JOIN image_search AS s ON s.doc_id = image_search_index.rowid
    WHERE image_search_index MATCH :rank_{score} {after}
    AND image_search_index.rowid >= coalesce((
        SELECT min(page.doc_id) / 1024 * 1024 FROM (
            SELECT image_search_index.rowid AS doc_id
            FROM image_search_index JOIN image_search AS s ON s.doc_id = image_search_index.rowid
            WHERE image_search_index MATCH :rank_{score} {after}
            ORDER BY image_search_index.rowid DESC LIMIT :limit
        ) AS page
    ), 0)
    ORDER BY s.created_at DESC, s.image_id DESC LIMIT :limit
)"""

# One read of each rank instead: the rows in rowid order, SLACK past the page, put in order
# here. Exact unless the page's last microsecond goes on past what was read (``page_of``).
SLACK = 4
_SQLITE_RANK_ONCE = """SELECT * FROM (
    SELECT s.image_id AS image_id, {score} AS score, image_search_index.rowid AS doc_id
    FROM image_search_index JOIN image_search AS s ON s.doc_id = image_search_index.rowid
    WHERE image_search_index MATCH :rank_{score} {after}
    ORDER BY image_search_index.rowid DESC LIMIT :fetch
)"""
_PAGE_ONCE = """
SELECT hits.image_id, i.version, hits.score, hits.doc_id
FROM ({ranks} LIMIT :fetch) AS hits JOIN images AS i ON i.id = hits.image_id
"""
_MICROSECOND = 1024  # the rowids of one microsecond (migration 0015)


@cache
def page_once_statement(ranks: tuple[int, ...], after_score: int | None) -> TextClause:
    """``page_statement``, each rank read once (parameter ``fetch``: the page plus SLACK)."""
    return _union(_SQLITE_RANK_ONCE, _PAGE_ONCE, ranks, after_score, "fetch")


def page_of(
    rows: list[tuple[str, int, int, int]], ranks: tuple[int, ...], limit: int
) -> list[tuple[str, int, int]] | None:
    """The page's (image id, version, score)s from ``page_once_statement``'s rows (id,
    version, score, rowid), best rank first and each newest first, ties by id; None when
    the read stopped inside the microsecond of the page's last row of the rank it stopped
    in (rows of it may be missing): ``page_statement`` then reads it exactly."""
    by_rank: dict[int, list[tuple[str, int, int, int]]] = {score: [] for score in ranks}
    for row in rows:
        by_rank[row[2]].append(row)
    page: list[tuple[str, int, int, int]] = []
    for score in ranks:
        found = by_rank[score]
        if len(rows) >= limit + SLACK and found and found is _last_read(by_rank, ranks):
            needed = limit - len(page)
            in_order = sorted((row[3] for row in found), reverse=True)
            if needed > 0 and in_order[needed - 1] // _MICROSECOND <= in_order[-1] // _MICROSECOND:
                return None
        page += sorted(found, key=lambda row: (row[3] // _MICROSECOND, row[0]), reverse=True)
    return [(image_id, version, score) for image_id, version, score, _ in page[:limit]]


def _last_read(
    by_rank: dict[int, list[tuple[str, int, int, int]]], ranks: tuple[int, ...]
) -> list[tuple[str, int, int, int]]:
    """The rows of the last rank that has any: the only one the read can have cut short."""
    return next(by_rank[score] for score in reversed(ranks) if by_rank[score])


# --- The page ---------------------------------------------------------------------------------

_PAGE = """
SELECT hits.image_id, i.version, hits.score
FROM ({ranks} LIMIT :limit) AS hits JOIN images AS i ON i.id = hits.image_id
"""


@cache
def page_statement(ranks: tuple[int, ...], after_score: int | None) -> TextClause:
    """The SQLite page over ``ranks`` (best first, each its own match parameter
    ``rank_<score>``); the rank ``after_score`` continues after the cursor (parameters
    ``at`` and ``after_id``)."""
    return _union(_SQLITE_RANK, _PAGE, ranks, after_score, "limit")


def _union(
    rank: str, page: str, ranks: tuple[int, ...], after_score: int | None, count: str
) -> TextClause:
    """``page`` over the arms ``rank`` of ``ranks``, in order; ``count`` names the parameter
    that bounds them."""
    arms = [
        rank.format(score=score, after=_SQLITE_AFTER if score == after_score else "")
        for score in ranks
    ]
    statement = text(page.format(ranks="\nUNION ALL\n".join(arms)))
    if after_score is None:
        return statement
    return statement.bindparams(
        bindparam("at", type_=image_search.c.created_at.type),
        bindparam("after_id", type_=String),
        bindparam(count, type_=Integer),
    )
