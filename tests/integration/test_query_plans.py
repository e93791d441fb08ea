"""Every list query is one seek of an index that ends in the page's order, on SQLite and on
PostgreSQL: no full scan of a table or an index, no sort of the rows. A list that is fast
on 100 rows and slow on a million is a bug, and a plan shows it at any size.

The queries are the repositories' own: each list is read through the metadata port while
the statements it sends are recorded, then each statement is explained with its own
parameters. SQLite runs without statistics (as an installation does: nobody runs ANALYZE);
PostgreSQL is analysed and told to avoid sequential scans and sorts wherever it can, so a
plan that still has one had no other way."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text

from shutterbox.adapters.db.engine import Database, open_database
from shutterbox.adapters.db.metadata import SqlMetadata
from shutterbox.adapters.db.migrate import upgrade_to_head
from shutterbox.domain.albums import Album, Share
from shutterbox.domain.images import Image, Status, Variant, Visibility
from shutterbox.domain.moderation import ReportStatus
from shutterbox.domain.search import SearchPosition, parse_query
from shutterbox.domain.social import Comment, Notification, NotificationKind
from shutterbox.ports.metadata import Transaction

T0 = datetime(2024, 5, 1, 12, 0, 0)
LIST_TABLES = (
    *("images", "variants", "image_tags", "home_timeline", "follows", "users", "image_search"),
    *("albums", "album_images", "shares", "likes", "comments", "notifications"),
    *("reports", "moderation_audit", "blocks", "image_holds"),
)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = open_database(database_url)
    await upgrade_to_head(db)
    await _populate(SqlMetadata(db))
    if not db.is_sqlite:
        async with db.writer.begin() as conn:
            await conn.execute(text("ANALYZE"))
    try:
        yield db
    finally:
        await db.dispose()


async def _populate(metadata: SqlMetadata) -> None:
    """A few users with public, private, deleted and tagged images, and follows."""
    async with metadata.write() as tx:
        users = [
            await tx.users.create(f"user{n}", "x", is_admin=False, created_at=T0) for n in range(8)
        ]
        for n in range(240):
            owner = users[n % len(users)]
            image = Image(
                id=f"img{n:05d}",
                owner_id=owner.id,
                owner_username=owner.username,
                status=Status.PROCESSING,
                visibility=Visibility.PRIVATE if n % 7 == 0 else Visibility.PUBLIC,
                created_at=T0 + timedelta(minutes=n),
                original_key=f"originals/{n}.jpg",
                original_media_type="image/jpeg",
                original_bytes=1000,
                original_sha256=f"{n:064d}",
                tags=["sea", f"t{n % 5}"],
            )
            await tx.images.insert(image)
            variant = Variant("thumb", f"variants/{n}-thumb.jpg", "image/jpeg", 9, 9, 99, "ab" * 32)
            await tx.images.save_processed(image.id, {"width": 9}, [variant])
            if n % 11 == 0:
                await tx.images.mark_deleted(image.id, T0)
        for followee in users[1:6]:
            await tx.follows.add(users[0].id, followee.id, T0)
        await _albums_and_links(tx, users)
        await _populate_social(tx, users)


async def _albums_and_links(tx: Any, users: list[Any]) -> None:
    """Each user's albums (every third private) holding their images, and share links."""
    for n in range(24):
        owner = users[n % len(users)]
        at = T0 + timedelta(minutes=n)
        visibility = Visibility.PRIVATE if n % 3 == 0 else Visibility.PUBLIC
        album = Album(f"alb{n:05d}", owner.id, "", f"album {n}", "", visibility, None, at, at)
        await tx.albums.create(album)
        for m in range(n % len(users), 240, 40):
            await tx.albums.add_image(album.id, f"img{m:05d}", at)
        link = Share(f"shr{n:05d}", owner.id, f"{n:064d}", album.id, None, None, None, False, at)
        await tx.shares.create(link)


async def _populate_social(tx: Any, users: list[Any]) -> None:
    """Likes, comments and notifications on the images above."""
    for n in range(0, 240, 3):
        image_id, owner = f"img{n:05d}", users[n % len(users)]
        for liker in users[:3]:
            await tx.likes.add(liker.id, image_id, T0)
        for k in range(3):
            author = users[(n + k) % len(users)]
            comment = Comment(f"c{n:05d}{k}", image_id, author.id, author.username, "hi", T0)
            await tx.comments.add(replace(comment, created_at=T0 + timedelta(minutes=n, seconds=k)))
            notice = Notification(
                f"n{n:05d}{k}",
                owner.id,
                NotificationKind.COMMENT,
                T0 + timedelta(minutes=n, seconds=k),
                image_id=image_id,
                comment_id=comment.id,
            )
            await tx.notifications.add(notice, author.id)


Read = Callable[[Transaction], Awaitable[Any]]
CURSOR = (T0 + timedelta(minutes=200), "img00200")
LISTS: dict[str, Read] = {
    "feed": lambda tx: tx.images.feed(limit=21, cursor=None),
    "feed, deep": lambda tx: tx.images.feed(limit=21, cursor=CURSOR),
    "profile": lambda tx: tx.images.feed(limit=21, cursor=CURSOR, owner_id=3),
    "profile by name": lambda tx: tx.images.feed(limit=21, cursor=CURSOR, owner_name="user3"),
    "own profile by name": lambda tx: tx.images.feed(
        limit=21, cursor=None, owner_name="user3", include_private=True
    ),
    "own profile": lambda tx: tx.images.feed(
        limit=21, cursor=CURSOR, owner_id=3, include_private=True
    ),
    "tag": lambda tx: tx.images.feed(limit=21, cursor=CURSOR, tag="sea"),
    "home": lambda tx: tx.images.feed(limit=21, cursor=CURSOR, home_of=1),
    "profile count": lambda tx: tx.images.count_ready(3, include_private=False),
    "own profile count": lambda tx: tx.images.count_ready(3, include_private=True),
    "trash": lambda tx: tx.images.list_trash(3, limit=21, cursor=None),
    "library (export)": lambda tx: tx.images.library_page(3, after=CURSOR, limit=500),
    "followers": lambda tx: tx.follows.people(2, of_followers=True, after="a", limit=21),
    "following": lambda tx: tx.follows.people(1, of_followers=False, after=None, limit=21),
    "search people": lambda tx: tx.search.usernames("user", limit=10),
    "albums of a user": lambda tx: tx.albums.of_owner(
        3, include_private=False, limit=21, cursor=CURSOR
    ),
    "own albums": lambda tx: tx.albums.of_owner(3, include_private=True, limit=21, cursor=None),
    "album images": lambda tx: tx.albums.images(
        "alb00003", include_private=False, ready_only=True, limit=21, cursor=None
    ),
    "own album images, deep": lambda tx: tx.albums.images(
        "alb00003", include_private=True, ready_only=False, limit=21, cursor=(1 << 21, "img00003")
    ),
    "shared album images": lambda tx: tx.albums.images(
        "alb00003", include_private=True, ready_only=True, limit=21, cursor=None
    ),
    "album covers": lambda tx: tx.albums.covers(["img00001", "img00002"]),
    "share links of a user": lambda tx: tx.shares.of_owner(3, limit=21, cursor=CURSOR),
    "liked by me (a page)": lambda tx: tx.likes.liked(1, [f"img{n:05d}" for n in range(0, 60)]),
    "comments": lambda tx: tx.comments.page("img00030", after=None, limit=51),
    "comments, deep": lambda tx: tx.comments.page("img00030", after=(T0, "c"), limit=51),
    "notifications": lambda tx: tx.notifications.page(4, before=None, limit=21),
    "notifications, deep": lambda tx: tx.notifications.page(4, before=CURSOR, limit=21),
    "new notifications": lambda tx: tx.notifications.since(4, (T0, ""), 20),
    "unread notifications": lambda tx: tx.notifications.unread_count(4, at_most=100),
    "open reports": lambda tx: tx.reports.queue(ReportStatus.OPEN, after=(T0, 5), limit=21),
    "resolved reports": lambda tx: tx.reports.queue(ReportStatus.RESOLVED, after=(T0, 5), limit=21),
    "audit log": lambda tx: tx.moderation.audit(before=(T0, 5), limit=21),
    "blocked people": lambda tx: tx.blocks.blocked_names(1, after="a", limit=21),
    "blocks of a viewer": lambda tx: tx.blocks.hidden_from(1),
}

# Searches read one rank at a time (``search_ranks``), each newest first and no further than
# the page: what they must not do is read a table whole. On SQLite each rank is a read of
# the FTS5 index in rowid order (reported as a "SCAN" of the virtual table by index) and the
# rows of the page are put in order by a sort bounded by the page; on PostgreSQL a rank is a
# GIN bitmap scan (rare words) or a walk of ix_image_search_newest (common ones), so bitmap
# scans and the sort of a rare word's few rows stay allowed. Everything else is a seek by key.
SEARCH_CURSOR = SearchPosition(4, T0 + timedelta(minutes=200), "img00200")
SEARCHES: dict[str, Read] = {
    "search": lambda tx: tx.search.images(
        parse_query("sea t1"), viewer_id=None, after=None, limit=21
    ),
    "search, own, deep": lambda tx: tx.search.images(
        parse_query("sea t"), viewer_id=3, after=SEARCH_CURSOR, limit=21
    ),
    "search, a common word": lambda tx: tx.search.images(
        parse_query("sea"), viewer_id=None, after=None, limit=21
    ),
    "search, a prefix, deep": lambda tx: tx.search.images(
        parse_query("se"), viewer_id=None, after=SearchPosition(8, T0, "img00100"), limit=21
    ),
    "search, a username": lambda tx: tx.search.images(
        parse_query("user3"), viewer_id=3, after=None, limit=21
    ),
}


async def _statements(db: Database, read: Read) -> list[tuple[str, Any]]:
    """The statements ``read`` sends, with their parameters."""
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    event.listen(db.reader.sync_engine, "before_cursor_execute", record)
    try:
        async with SqlMetadata(db).read() as tx:
            assert await read(tx) is not None
    finally:
        event.remove(db.reader.sync_engine, "before_cursor_execute", record)
    assert sent, "the read sent no SELECT"
    return sent


async def _sqlite_problems(db: Database, statement: str, parameters: Any) -> list[str]:
    async with db.reader.connect() as conn:
        raw = await conn.get_raw_connection()
        cursor = await raw.driver_connection.execute(  # type: ignore[union-attr]
            "EXPLAIN QUERY PLAN " + statement, parameters
        )
        plan = [row[3] for row in await cursor.fetchall()]
    return [
        line
        for line in plan
        if line.startswith("SCAN") or "TEMP B-TREE" in line  # a full scan, or a sort
    ]


_AVOIDED = ("enable_seqscan", "enable_sort", "enable_incremental_sort", "enable_bitmapscan")


async def _postgres_problems(
    db: Database, statement: str, parameters: Any, avoided: tuple[str, ...] = _AVOIDED
) -> list[str]:
    async with db.reader.connect() as conn:
        raw = await conn.get_raw_connection()
        asyncpg_conn = raw.driver_connection
        async with asyncpg_conn.transaction():  # type: ignore[union-attr]
            for setting in avoided:
                await asyncpg_conn.execute(f"SET LOCAL {setting} = off")  # type: ignore[union-attr]
            plan_json = await asyncpg_conn.fetchval(  # type: ignore[union-attr]
                "EXPLAIN (FORMAT JSON) " + statement, *parameters
            )
    problems: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        kind = node["Node Type"]
        if kind == "Seq Scan" and node.get("Relation Name") in LIST_TABLES:
            problems.append(f"Seq Scan on {node['Relation Name']}")
        if kind in ("Sort", "Incremental Sort"):
            problems.append(f"{kind} by {node.get('Sort Key')}")
        for child in node.get("Plans", []):
            walk(child)

    plan = json.loads(plan_json) if isinstance(plan_json, str) else plan_json
    walk(plan[0]["Plan"])
    return problems


@pytest.mark.parametrize("name", list(LISTS))
async def test_no_list_query_scans_or_sorts(database: Database, name: str):
    explain = _sqlite_problems if database.is_sqlite else _postgres_problems
    for statement, parameters in await _statements(database, LISTS[name]):
        problems = await explain(database, statement, parameters)
        assert problems == [], f"{name}: {statement}\n{problems}"


async def _sqlite_table_scans(db: Database, statement: str, parameters: Any) -> list[str]:
    return [
        line
        for line in await _sqlite_problems(db, statement, parameters)
        if line.startswith("SCAN")
        and "VIRTUAL TABLE INDEX" not in line
        and line not in ("SCAN hits", "SCAN page")  # a page itself: at most ``limit`` rows
        and not line.startswith("SCAN (subquery-")  # a rank's page, likewise
        and line != "SCAN CONSTANT ROW"  # the look-up of each field group's index
    ]


async def _postgres_table_scans(db: Database, statement: str, parameters: Any) -> list[str]:
    problems = await _postgres_problems(db, statement, parameters, avoided=_AVOIDED[:1])
    return [problem for problem in problems if problem.startswith("Seq Scan")]


@pytest.mark.parametrize("name", list(SEARCHES))
async def test_no_search_reads_a_table_whole(database: Database, name: str):
    explain = _sqlite_table_scans if database.is_sqlite else _postgres_table_scans
    for statement, parameters in await _statements(database, SEARCHES[name]):
        problems = await explain(database, statement, parameters)
        assert problems == [], f"{name}: {statement}\n{problems}"


async def test_the_check_catches_a_scan(database: Database):
    """The same check on a query known to scan: it must complain, or it proves nothing."""
    explain = _sqlite_problems if database.is_sqlite else _postgres_problems
    statement = "SELECT id FROM images WHERE caption = 'nothing' ORDER BY original_bytes"
    params: Any = () if database.is_sqlite else []
    assert await explain(database, statement, params) != []
