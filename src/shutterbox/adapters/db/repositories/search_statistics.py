"""How common the words of each field group are, from PostgreSQL's own statistics: what
ANALYZE keeps for the GIN expression index of each group (``pg_stats.most_common_elems``
and their frequencies, the share of rows holding each of the group's commonest words, and
below the least of them every word it does not list). ``search_postgres`` bounds from them
how many rows a rank can hold, and reads a rank that cannot hold many from its GIN indexes
at once instead of walking the newest rows for it first.

Read once per ``REFRESH_SECONDS`` per database and process: ANALYZE itself runs only every
so often (autovacuum, after a tenth of the rows changed), and a stale bound only chooses
the slower of two correct ways.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Float, String, column, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

REFRESH_SECONDS = 600.0
# A group whose statistics list no word at all: its words are rarer than the least a list
# keeps, about one row in a thousand at the default statistics target.
UNLISTED_FREQUENCY = 0.001

_READ = text(
    """
    SELECT substr(st.tablename, length('ix_image_search_words_') + 1),
        st.most_common_elems::text::text[], st.most_common_elem_freqs,
        (SELECT c.reltuples FROM pg_class AS c
         WHERE c.oid = to_regclass(quote_ident(current_schema()) || '.image_search'))
    FROM pg_stats AS st
    WHERE st.schemaname = current_schema() AND st.tablename LIKE 'ix\\_image\\_search\\_words\\_%'
    """
).columns(
    column("field_group", String),
    column("words", ARRAY(String)),
    column("frequencies", ARRAY(Float)),
    column("rows", Float),
)


@dataclass(frozen=True)
class WordFrequencies:
    """The share of rows holding a word in a group, or an upper bound of it."""

    rows: float  # how many search rows there are (0: not known)
    common: dict[str, dict[str, float]] = field(default_factory=dict)  # group -> word -> share
    least: dict[str, float] = field(default_factory=dict)  # group -> bound of unlisted words

    def of(self, group: str, word: str) -> float:
        """At least the share of rows whose ``group`` holds ``word`` (1.0: not known)."""
        if group not in self.least:
            return 1.0
        return self.common[group].get(word, self.least[group])

    def rank_bound(self, groups: tuple[str, ...], words: list[tuple[str, ...]]) -> float:
        """At least the share of rows of a rank: its groups are ``groups``, and each item of
        ``words`` is a word of the query with the words it stands for (a prefix: every known
        completion; an empty tuple when they are not known). Every word is in one of the
        groups, and every group holds one of the words."""
        if not self.rows:
            return 1.0

        def share(group: str, forms: tuple[str, ...]) -> float:
            return sum(self.of(group, form) for form in forms) if forms else 1.0

        each_word = min(sum(share(group, forms) for group in groups) for forms in words)
        each_group = min(sum(share(group, forms) for forms in words) for group in groups)
        return min(1.0, each_word, each_group)


def frequencies_from(rows: list[Any]) -> WordFrequencies:
    """From ``_READ``'s rows: a group's list of words and their shares, then the least and
    the most of those shares (how ``ts_typanalyze`` keeps them)."""
    common: dict[str, dict[str, float]] = {}
    least: dict[str, float] = {}
    total = 0.0
    for group, words, frequencies, table_rows in rows:
        total = max(total, float(table_rows or 0.0))
        listed = list(words or [])
        shares = list(frequencies or [])
        common[group] = dict(zip(listed, shares, strict=False))
        least[group] = min(shares[: len(listed)]) if listed else UNLISTED_FREQUENCY
    return WordFrequencies(total, common, least)


_known: dict[str, tuple[float, WordFrequencies]] = {}  # database URL -> (read at, frequencies)


async def word_frequencies(conn: AsyncConnection, database: str) -> WordFrequencies:
    """The frequencies of ``database`` (its URL), read again once they are old."""
    now = time.monotonic()
    known = _known.get(database)
    if known is not None and now - known[0] < REFRESH_SECONDS:
        return known[1]
    frequencies = frequencies_from(list(await conn.execute(_READ)))
    _known[database] = (now, frequencies)
    return frequencies
