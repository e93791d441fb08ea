"""Keeping SQLite's word indexes in one piece.

An FTS5 index is a set of segments (b-trees): each commit writes a small one, and FTS5
merges four of one size into one of the next. A word is one seek per segment, cheap
however many there are; but a prefix longer than the prefix indexes keep (``prefix='1 2 3 4
5 6 7 8'``, migration 0015) is read from every large segment in full, and costs about a
millisecond per large segment: at a million images, with the index in a dozen segments, a
search for a username took 2-4 ms of SQLite where one segment takes 0.1 ms.

So the lifecycle pass merges an index into one segment once the pages outside its largest
segment are more than ``SPREAD`` of those in it: a merge rewrites the whole index, and
merging only then costs, over time, a few rewrites of what was added since, not of the
whole index each time. Each step is FTS5's incremental ``merge`` command, about ``pages``
pages of work in a write transaction of its own, so that uploads are never held up for
longer than one step. Nothing to do on PostgreSQL, whose GIN indexes keep no segments.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.repositories.search_ranks import FIELDS

INDEXES = ("image_search_index", *(f"image_search_index_{name}" for name in FIELDS))
SPREAD = 0.25  # merge once the other segments hold this share of the largest one's pages

# The pages of each segment, about: %_idx holds a row per leaf page that starts a term.
_SEGMENT_PAGES = "SELECT count(*) FROM {index}_idx GROUP BY segid"
_MERGE = "INSERT INTO {index} ({index}, rank) VALUES ('merge', :pages)"
_CHANGES = text("SELECT total_changes()")


async def spread_indexes(conn: AsyncConnection) -> list[str]:
    """The word indexes that are worth merging into one segment (SQLite; none elsewhere)."""
    if conn.dialect.name != "sqlite":
        return []
    spread = []
    for index in INDEXES:
        pages = sorted((await conn.execute(text(_SEGMENT_PAGES.format(index=index)))).scalars())
        if len(pages) > 1 and sum(pages[:-1]) > SPREAD * pages[-1]:
            spread.append(index)
    return spread


async def merge_step(conn: AsyncConnection, index: str, pages: int, *, first: bool) -> bool:
    """About ``pages`` pages of merging ``index`` into one segment (``first``: the step that
    starts the merge of every segment); True while work remains."""
    if index not in INDEXES:
        raise ValueError(f"not a word index: {index}")
    before = (await conn.execute(_CHANGES)).scalar_one()
    await conn.execute(text(_MERGE.format(index=index)), {"pages": -pages if first else pages})
    done = (await conn.execute(_CHANGES)).scalar_one() - before
    return bool(done >= 2)  # FTS5: fewer than two changes means there was nothing to merge
