"""Search at scale: the repository's search query over 1,000,000 images, on SQLite and on
PostgreSQL, against the query it replaced (score every match, then keep the best page)
measured on the same database in the same run.

The databases are bench/feed.py's (its schema, data and bulk load; the SQLite one is kept
under bench/.work/ and shared with it). For each search (a common tag, a common caption
word, a rare word, two words, the prefix of a common word) it times the repository's
``images`` (the page of 20, with its images) and the old statement alone (its 20 ids), one
call at a time, ``--repeat`` times each after a warm-up, and reports p50 and p99 of each and
their ratio (fewer calls of the old statement, which takes up to seconds). Python timing
of the calls on one connection, no HTTP: the search's own cost.

Run from the repository root: `python -m bench.search` (PostgreSQL for `--database
postgresql`, see tests/support/servers.py).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text

from bench.benchkit import (
    argument_parser,
    environment_lines,
    exit_on_sigterm,
    fail,
    markdown_table,
    publish,
)
from bench.feed import TAGS, PostgresLoader, Shape, build, postgres_version, sqlite_data_dir
from shutterbox.adapters.db.engine import open_database
from shutterbox.adapters.db.metadata import SqlMetadata
from shutterbox.domain.search import FIELD_WEIGHTS, SearchQuery, parse_query
from tests.support.servers import POSTGRES_ADMIN_URL, postgres_database, reachable

SECTION = "search"
PAGE = 20
SEARCHES = {
    "a common tag": TAGS[0],
    "a common caption word": "sunset",
    "a rare word (a username)": "user00123",
    "two words": f"morning {TAGS[1]}",
    "a prefix of a common word": "sun",
}

# The statements search ran before it read one rank at a time: every match scored, then a
# top-N sort (the baseline).
_OLD_SQLITE_SCORE = " + ".join(
    f"(image_search_index.rowid IN (SELECT rowid FROM image_search_index"
    f" WHERE image_search_index MATCH :in_{name})) * {weight}"
    for name, weight in FIELD_WEIGHTS.items()
)
OLD_SQLITE = text(f"""
SELECT s.image_id, s.created_at, {_OLD_SQLITE_SCORE} AS score
FROM image_search_index JOIN image_search AS s ON s.doc_id = image_search_index.rowid
WHERE image_search_index MATCH :words AND (s.visibility = 'public' OR s.owner_id = -1)
ORDER BY score DESC, s.created_at DESC, s.image_id DESC LIMIT {PAGE}
""")
_OLD_PG_SCORE = " + ".join(
    f"(to_tsvector('simple'::regconfig, s.{name}) @@ to_tsquery('simple', :any_word))::int"
    f" * {weight}"
    for name, weight in FIELD_WEIGHTS.items()
)
OLD_PG = text(f"""
SELECT s.image_id, s.created_at, {_OLD_PG_SCORE} AS score FROM image_search AS s
WHERE to_tsvector('simple'::regconfig, s.tags || ' ' || s.caption || ' ' || s.names
    || ' ' || s.alt_text) @@ to_tsquery('simple', :words)
AND (s.visibility = 'public' OR s.owner_id = -1)
ORDER BY score DESC, s.created_at DESC, s.image_id DESC LIMIT {PAGE}
""")


def old_parameters(dialect: str, query: SearchQuery) -> dict[str, str]:
    *whole, last = query.terms
    if dialect == "postgresql":
        lexemes = [f"'{term}'" for term in whole] + [f"'{last}':*"]
        return {"words": " & ".join(lexemes), "any_word": " | ".join(lexemes)}
    strings = [*(f'"{term}"' for term in whole), f'"{last}"*']
    any_word = " OR ".join(strings)
    columns = "{tags caption names alt_text}"
    return {
        "words": f"{columns} : ({' AND '.join(strings)})",
        **{f"in_{name}": f"{name} : ({any_word})" for name in FIELD_WEIGHTS},
    }


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def timed(call: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, float, Any]:
    """p50 and p99 in seconds of ``repeat`` calls after a warm-up, and the last answer."""
    answer = None
    for _ in range(max(1, repeat // 10)):
        answer = await call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        answer = await call()
        samples.append(time.perf_counter() - started)
    return percentile(samples, 0.5), percentile(samples, 0.99), answer


async def measure(url: str, repeat: int, baseline_repeat: int) -> list[list[str]]:
    db = open_database(url)
    rows = []
    try:
        metadata = SqlMetadata(db)
        async with metadata.read() as tx:
            conn = tx.search.conn  # type: ignore[attr-defined]
            dialect = conn.dialect.name
            old = OLD_PG if dialect == "postgresql" else OLD_SQLITE
            for label, words in SEARCHES.items():
                query = parse_query(words)

                async def new(query: SearchQuery = query) -> Any:
                    return await tx.search.images(query, viewer_id=None, after=None, limit=PAGE)

                async def before(query: SearchQuery = query) -> Any:
                    return (await conn.execute(old, old_parameters(dialect, query))).all()

                old50, old99, old_rows = await timed(before, baseline_repeat)
                new50, new99, hits = await timed(new, repeat)
                if [h.image.id for h in hits] != [r[0] for r in old_rows]:
                    raise RuntimeError(f"{words!r}: the new page differs from the old one")
                rows.append(
                    [
                        f"{label}: `{words}`",
                        f"{old50 * 1000:.2f}",
                        f"{old99 * 1000:.2f}",
                        f"{new50 * 1000:.2f}",
                        f"{new99 * 1000:.2f}",
                        f"{old50 / new50:.1f}x",
                    ]
                )
                print(f"  {label}: before p50 {old50 * 1000:.2f} ms, after {new50 * 1000:.2f} ms")
    finally:
        await db.dispose()
    return rows


def report(results: dict[str, list[list[str]]], shape: Shape, args: argparse.Namespace) -> str:
    headers = ["Search", "before p50 ms", "before p99 ms", "p50 ms", "p99 ms", "p50 speed-up"]
    lines = [
        f"## Search at {shape.images:,} images",
        "",
        "`python -m bench.search`: bench/feed.py's database (its data: 1-3 of 300 tags per "
        "image, Zipf-like; a caption from 7, one of them `Sunset`; no alt text), then for each "
        f"search {args.repeat} calls one at a time after a warm-up ({args.baseline_repeat} "
        "of the old statement), timed in Python: the "
        "repository's `images` (a page of 20, with its images; one rank at a time) and "
        "the statement it replaced alone (every match scored, then the best 20; its ids "
        "only, checked equal to the new page's). Anonymous viewer, first page.",
        "",
        *environment_lines(extra_packages=("sqlalchemy", "aiosqlite", "asyncpg")),
    ]
    for database, rows in results.items():
        lines += ["", f"### {database}", "", markdown_table(headers, rows)]
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    parser = argument_parser(__doc__)
    parser.add_argument("--images", type=int, default=1_000_000, help="images in the database")
    parser.add_argument("--users", type=int, default=10_000, help="users who own images")
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql", "both"), default="both", help="which"
    )
    parser.add_argument("--repeat", type=int, default=200, help="calls per search")
    parser.add_argument(
        "--baseline-repeat",
        type=int,
        default=10,
        help="calls per search of the old statement (up to seconds each at 1 M images)",
    )
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    exit_on_sigterm()
    shape = Shape(args.images, args.users)
    results: dict[str, list[list[str]]] = {}
    if args.database in ("sqlite", "both"):
        data_dir, _ = sqlite_data_dir(shape, rebuild=False)
        url = f"sqlite+aiosqlite:///{(data_dir / 'shutterbox.db').resolve()}"
        results[f"SQLite {sqlite3.sqlite_version}"] = asyncio.run(
            measure(url, args.repeat, args.baseline_repeat)
        )
    if args.database in ("postgresql", "both"):
        if not reachable(POSTGRES_ADMIN_URL):
            fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}")
            return 1
        with postgres_database() as url:
            print(f"PostgreSQL: building {shape.images:,} images", flush=True)
            asyncio.run(build(PostgresLoader(url), shape))
            version = asyncio.run(postgres_version(url))
            results[f"PostgreSQL {version}"] = asyncio.run(
                measure(url, args.repeat, args.baseline_repeat)
            )
    publish(SECTION, report(results, shape, args), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
