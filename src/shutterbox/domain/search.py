"""The rules of a search: what a query may be, how it is cut into words, and how a hit is
ranked. The databases (SQLite FTS5, PostgreSQL full-text search) and the in-memory fake all
follow these rules, so that one query gives the same hits in the same order on each.

Text is cut into words at anything that is not a letter or a digit (``_``, ``-``, ``.`` and
quotes included) and compared in lower case, without stemming: "sunset" finds "Sunset" and
"sunset-beach", not "sunsets" — except the query's last word, which matches as a prefix, so
that results follow as one types. Every word must match somewhere in the image (its tags,
caption, owner's username, place name or alt text).

Ranking: an image scores the sum of the weights of the fields in which at least one word of
the query is found (tags 8, caption 4, username or place 2, alt text 1): a photo tagged with
the word outranks one that only mentions it in its caption, which outranks one whose alt text
alone holds it. Images of equal score come newest first (created time, then id). The score
depends only on the image and the query, never on the rest of the collection (as bm25's
inverse document frequency would), so a page's position (score, created time, id) means the
same thing on the next request: pages never repeat or skip an image because others were
uploaded in between."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

MAX_QUERY_CHARS = 200
MAX_TERMS = 8
MAX_TERM_CHARS = 64

# The weight of each field group, in the order of the search index's columns.
FIELD_WEIGHTS = {"tags": 8, "caption": 4, "names": 2, "alt_text": 1}

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The words of ``text`` as the search index holds them."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class SearchQuery:
    """Checked words: each must match a whole word of the image, the last one a word's start."""

    terms: tuple[str, ...]

    @property
    def fingerprint(self) -> str:
        """Names the query in a cursor (a page of one query is no position in another)."""
        return " ".join(self.terms)


def parse_query(raw: str) -> SearchQuery:
    """The query's words; ``ValueError`` with a message a person can act on if there is
    nothing to search for, or too much."""
    if len(raw) > MAX_QUERY_CHARS:
        raise ValueError(f"a search is at most {MAX_QUERY_CHARS} characters")
    terms = words(raw)
    if not terms:
        raise ValueError("give at least one word (letters or digits) to search for")
    if len(terms) > MAX_TERMS:
        raise ValueError(f"a search has at most {MAX_TERMS} words, got {len(terms)}")
    if any(len(term) > MAX_TERM_CHARS for term in terms):
        raise ValueError(f"a word of a search is at most {MAX_TERM_CHARS} characters")
    return SearchQuery(tuple(dict.fromkeys(terms)))


def username_prefix(raw: str) -> str | None:
    """What a username search starts with: the query as typed when it could begin a
    username (letters a-z, digits, ``_``), else None."""
    typed = raw.strip().lower().lstrip("@")
    return typed if re.fullmatch(r"[a-z0-9_]{1,30}", typed) else None


@dataclass(frozen=True)
class SearchPosition:
    """Where a page of hits ended: results continue strictly after it in the order
    (score descending, created time descending, image id descending)."""

    score: int
    created_at: datetime
    image_id: str


def matches(query: SearchQuery, fields: dict[str, str]) -> int | None:
    """The score of an image whose field groups hold ``fields`` (by ``FIELD_WEIGHTS`` name),
    or None when some word of the query is in none of them. The reference the databases'
    queries are tested against (and what the in-memory fake runs)."""
    found = {name: set(words(text)) for name, text in fields.items()}
    *whole, last = query.terms

    def hit(term: str, in_words: set[str], prefix: bool) -> bool:
        return any(w.startswith(term) for w in in_words) if prefix else term in in_words

    everywhere = set().union(*found.values())
    if not all(hit(t, everywhere, False) for t in whole) or not hit(last, everywhere, True):
        return None
    score = 0
    for name, in_words in found.items():
        if any(hit(t, in_words, False) for t in whole) or hit(last, in_words, True):
            score += FIELD_WEIGHTS[name]
    return score
