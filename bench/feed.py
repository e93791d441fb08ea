"""The read path at scale: the list endpoints over 1,000,000 images, on SQLite and on
PostgreSQL, measured with wrk against /healthz.

For each database it builds 1,000,000 ready images over 10,000 users through the project's
own schema (its migrations, then a bulk load and `rebuild_home_timelines`), starts
`shutterbox serve --workers 0` on it (with one API process, then with two) and loads each
endpoint with `wrk` (4 connections): `/healthz` (the baseline), the public feed's first page
and a page 5,000 pages deep, a small and the largest user's images, a common tag's images,
three searches (the common tag, a caption word, a username), an image with 1,000 comments
(its JSON, its comments' first page, its web page), and the home of a user following 200
and of one following 2,000. Reported per database: p50,
p99 and requests per second of each, and its p50 and p99 against /healthz's, next to the
target: every list endpoint's p99 within 10 ms and within 5x /healthz's (information, not a
test).

Run from the repository root: `python -m bench.feed` (needs `wrk`, and PostgreSQL for
`--database postgresql`, see tests/support/servers.py). The SQLite database is kept under
bench/.work/ between runs (`--rebuild` makes it again); the PostgreSQL one is dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import itertools
import json
import os
import random
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx2 as httpx
from argon2 import PasswordHasher
from sqlalchemy import Table, and_, event, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bench.benchkit import (
    WORK_DIR,
    WrkResult,
    argument_parser,
    cpu_count,
    environment_lines,
    exit_on_sigterm,
    fail,
    log_in,
    markdown_table,
    median,
    ms,
    publish,
    ratio,
    relative,
    run_directory,
    run_wrk,
    running,
    shutterbox_serve,
    tool_versions,
)
from shutterbox.adapters.db.engine import open_database
from shutterbox.adapters.db.metadata import SqlMetadata
from shutterbox.adapters.db.migrate import MIGRATIONS_DIR, upgrade_to_head
from shutterbox.adapters.db.repositories import search, timeline
from shutterbox.adapters.db.tables import (
    comments,
    follows,
    home_timeline,
    image_search,
    image_tags,
    images,
    users,
    variants,
)
from shutterbox.adapters.imaging import MEDIA_TYPES
from shutterbox.config.processing import ProcessingSettings
from shutterbox.domain.images import (
    FORMAT_EXTENSIONS,
    VARIANT_SPECS,
    fit_within,
    original_key,
    variant_key,
)
from shutterbox.entrypoints.web.image_pages import COMMENTS_SHOWN
from shutterbox.services.images.cursors import encode_position
from shutterbox.services.images.search_upkeep import merge_spread_indexes
from tests.support.servers import POSTGRES_ADMIN_URL, postgres_database, reachable

SECTION = "feed"
PASSWORD = "bench-password-1"
SEED = 20_240_601
BUILD_VERSION = 4  # bump when the generated data changes: cached databases are made again
CACHE_DIR = WORK_DIR / "feed"

# The data -------------------------------------------------------------------------------------
START = datetime(2024, 6, 1)  # images are created over the year that follows
DAY_MICROSECONDS = 24 * 3600 * 1_000_000
YEAR_MICROSECONDS = 365 * DAY_MICROSECONDS
CHUNK = 25_000  # images generated and inserted at a time
OWNER_EXPONENT = 0.75  # the user of popularity rank r owns images in proportion to r ** -0.75
PRIVATE_SHARE = 0.03
TAGS = [f"tag{n:03d}" for n in range(300)]  # the tag of rank r is drawn in proportion to 1/r
KNOWN_TAG, KNOWN_TAG_EVERY = "bench", 100  # every 100th image (in id order) also has this tag
READERS = {"reader200": 200, "reader2000": 2000}  # the users the bench logs in as: follows
COMMENTS = 1_000  # on one public image, by as many users as there are, over the next days
COMMENT_TEXTS = ["Lovely light!", "Where is this?", "Great shot", "Wow", "The colours 😍"]
FORMATS = ProcessingSettings().formats  # the formats every variant is made in by default
VARIANT_BYTES = {"full": 480_000, "medium": 170_000, "thumb": 24_000}  # a JPEG's typical size
FORMAT_BYTES = {"jpeg": 1.0, "webp": 0.7, "avif": 0.55}  # against the JPEG's
PICTURE_SIZES = [(4032, 3024), (3024, 4032), (4000, 3000), (6000, 4000), (1920, 1080)]
EXPOSURE, NO_EXPOSURE = ("1/125", 1.8, 100, 6.9), (None, None, None, None)
CAMERAS = [("Apple", "iPhone 14 Pro"), ("Google", "Pixel 8"), ("FUJIFILM", "X-T4"), (None, None)]
CAPTIONS = ["", "", "Sunset", "At the market", "Morning light", "Old town", "On the way home"]
BLURHASH = "LKO2?U%2Tw=w]~RBVZRi};RPxuwH"

# The measurement ------------------------------------------------------------------------------
PAGE = 20
DEPTH_PAGES = 5_000
SMALL_USER_IMAGES = 50
THREADS, CONNECTIONS = 2, 4
TARGET_P99_SECONDS = 0.010
TARGET_RATIO = 5.0
BASELINE = "/healthz"
STARTUP_TIMEOUT_SECONDS = 120.0

Row = tuple[Any, ...]
Stamp = Callable[[datetime], Any]  # a timestamp as the load hands it to the database

USER_COLUMNS = ("id", "username", "password_hash", "is_admin", "created_at")
IMAGE_COLUMNS = (
    *("id", "owner_id", "status", "visibility", "caption", "alt_text", "tags", "width"),
    *("height", "taken_at", "camera_make", "camera_model", "exposure_time", "f_number", "iso"),
    *("focal_length_mm", "blurhash", "dominant_color", "original_key", "original_media_type"),
    *("original_bytes", "original_sha256", "original_storage_class", "created_at"),
    "processed_at",
)
FOLLOW_COLUMNS = ("follower_id", "followee_id", "created_at", "follower_name", "followee_name")
COMMENT_COLUMNS = ("id", "image_id", "author_id", "text", "created_at")


# Generating the rows --------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """What a database is built from: the same shape gives the same rows."""

    images: int
    users: int
    seed: int = SEED

    @property
    def reader_ids(self) -> dict[str, int]:
        """The readers come after the users who own images, and own none themselves."""
        return {name: self.users + 1 + n for n, name in enumerate(READERS)}


def _zipf(count: int, exponent: float) -> list[float]:
    """Cumulative weights of ranks 1..count in proportion to rank ** -exponent."""
    return list(itertools.accumulate(rank**-exponent for rank in range(1, count + 1)))


def _image_ids(rng: random.Random, count: int) -> list[str]:
    """Ids like `new_image_id()`'s (80 random bits as 16 lowercase base32 characters), sorted:
    they are random anyway, and in order the primary keys of images, variants and tags are
    appended to rather than written all over."""
    encoded = base64.b32encode(rng.randbytes(10 * count)).decode().lower()
    ids = sorted({encoded[i : i + 16] for i in range(0, len(encoded), 16)})
    if len(ids) != count:
        raise RuntimeError("two generated image ids are the same; try another seed")
    return ids


# The date in object keys, as `original_key` writes it, by days after START.
DAYS = [(START + timedelta(days=n)).strftime("%Y/%m/%d") for n in range(366)]


class Dataset:
    """The rows of a shape that Python makes: users, images (in chunks) and follows.
    ``stamp`` turns each timestamp into what the database's loader takes."""

    def __init__(self, shape: Shape, stamp: Stamp) -> None:
        self.shape = shape
        self.stamp = stamp
        self.owners: set[int] = set()  # users with at least one image, once images() is done
        self.commented: tuple[str, datetime] | None = None  # the first public image made

    def users(self) -> list[Row]:
        rng = random.Random(self.shape.seed - 1)
        rows: list[Row] = []
        for user_id in range(1, self.shape.users + 1):
            joined = START - timedelta(days=rng.uniform(0, 1000))
            # Nobody logs in as them: a hash no password matches.
            rows.append((user_id, owner_name(user_id), "!", False, self.stamp(joined)))
        password_hash = PasswordHasher().hash(PASSWORD)
        for name, user_id in self.shape.reader_ids.items():
            rows.append((user_id, name, password_hash, False, self.stamp(START)))
        return rows

    def images(self) -> Iterator[list[Row]]:
        """Ready images in chunks, created over a year, the owners skewed (Zipf-like), 1-3
        tags each; the variants and tag rows are made from them by the database."""
        rng = random.Random(self.shape.seed)
        ids = _image_ids(rng, self.shape.images)
        by_rank = list(range(1, self.shape.users + 1))
        rng.shuffle(by_rank)  # which user has which popularity
        owner_weights = _zipf(self.shape.users, OWNER_EXPONENT)
        tag_weights = _zipf(len(TAGS), 1.0)
        stamp, uniform = self.stamp, rng.random
        for start in range(0, len(ids), CHUNK):
            batch = ids[start : start + CHUNK]
            # Drawn a chunk at a time, which is much faster than one image at a time.
            owners = rng.choices(by_rank, cum_weights=owner_weights, k=len(batch))
            self.owners.update(owners)
            sizes = rng.choices(PICTURE_SIZES, k=len(batch))
            cameras = rng.choices(CAMERAS, k=len(batch))
            captions = rng.choices(CAPTIONS, k=len(batch))
            tag_counts = rng.choices((1, 2, 3), k=len(batch))
            drawn_tags = iter(rng.choices(TAGS, cum_weights=tag_weights, k=sum(tag_counts)))
            hashes = rng.randbytes(32 * len(batch)).hex()
            rows: list[Row] = []
            drawn = zip(batch, owners, sizes, cameras, captions, tag_counts, strict=True)
            for n, (image_id, owner, size, (make, model), caption, count) in enumerate(drawn):
                moment = int(uniform() * YEAR_MICROSECONDS)
                created = START + timedelta(microseconds=moment)
                visibility = "private" if uniform() < PRIVATE_SHARE else "public"
                if self.commented is None and visibility == "public":
                    self.commented = (image_id, created)
                tags = list(dict.fromkeys(itertools.islice(drawn_tags, count)))
                if (start + n) % KNOWN_TAG_EVERY == 0:
                    tags.append(KNOWN_TAG)
                taken = created - timedelta(seconds=int(uniform() * 30 * 86400))
                processed = created + timedelta(microseconds=int((1 + 4 * uniform()) * 1e6))
                rows.append(
                    (
                        *(image_id, owner, "ready"),
                        visibility,
                        *(caption, "", json.dumps(tags), *size),
                        *(stamp(taken) if make else None, make, model),
                        *(EXPOSURE if make else NO_EXPOSURE),
                        BLURHASH,
                        f"#{int(uniform() * 0x1000000):06x}",
                        f"originals/{DAYS[moment // DAY_MICROSECONDS]}/{image_id}.jpg",
                        "image/jpeg",
                        1_500_000 + int(uniform() * 4_500_000),
                        hashes[64 * n : 64 * n + 64],
                        *("STANDARD", stamp(created), stamp(processed)),
                    )
                )
            yield rows

    def follows(self) -> list[Row]:
        """Each reader follows as many users with images as its name says (or all of them)."""
        rng = random.Random(self.shape.seed + 1)
        candidates = sorted(self.owners)
        rows: list[Row] = []
        for name, reader in self.shape.reader_ids.items():
            followed = rng.sample(candidates, min(READERS[name], len(candidates)))
            rows.extend(
                (reader, followee, self.stamp(START), name, owner_name(followee))
                for followee in sorted(followed)
            )
        return rows

    def comments(self) -> list[Row]:
        """``COMMENTS`` comments on the first public image, once images() is done."""
        if self.commented is None:
            raise RuntimeError("comments are made after the images")
        image_id, created = self.commented
        rng = random.Random(self.shape.seed + 2)
        ids = _image_ids(rng, COMMENTS)  # comment ids are made as image ids are
        moments = sorted(rng.uniform(60, 5 * 86400) for _ in range(COMMENTS))
        return [
            (
                comment_id,
                image_id,
                rng.randint(1, self.shape.users),
                rng.choice(COMMENT_TEXTS),
                self.stamp(created + timedelta(seconds=moment)),
            )
            for comment_id, moment in zip(ids, moments, strict=True)
        ]


def owner_name(user_id: int) -> str:
    return f"user{user_id:05d}"


def variant_shapes() -> list[Row]:
    """Per picture size, the variants the pipeline makes of it: every size in every default
    format (name, format, the end of its key, media type, width, height, typical bytes)."""
    return [
        (
            *(width, height, spec.name, fmt, f"-{spec.name}.{FORMAT_EXTENSIONS[fmt]}"),
            *(MEDIA_TYPES[fmt], *fit_within(width, height, spec.max_side)),
            VARIANT_BYTES[spec.name] * FORMAT_BYTES[fmt],
        )
        for width, height in PICTURE_SIZES
        for spec in sorted(VARIANT_SPECS, key=lambda spec: spec.name)  # primary key order
        for fmt in sorted(FORMATS)
    ]


# The rows the database makes from the images: SQL with this dialect's {day} (the image's date
# as YYYY/MM/DD), {fraction} (random, in [0, 1)), {sha256} (64 random hex digits) and {tags}
# (the image's tags, a row each: t.value).
VARIANT_SHAPES_TABLE = """CREATE TEMPORARY TABLE bench_variant_shapes (
    picture_width INTEGER, picture_height INTEGER, name TEXT, format TEXT, key_suffix TEXT,
    media_type TEXT, width INTEGER, height INTEGER, typical_bytes REAL)"""
MAKE_VARIANTS = """INSERT INTO variants
    (image_id, name, format, key, media_type, width, height, bytes, sha256, storage_class)
SELECT i.id, s.name, s.format, 'variants/' || {day} || '/' || i.id || s.key_suffix,
    s.media_type, s.width, s.height, CAST(s.typical_bytes * (0.6 + 0.8 * {fraction}) AS INTEGER),
    {sha256}, 'STANDARD'
FROM images AS i CROSS JOIN bench_variant_shapes AS s
WHERE s.picture_width = i.width AND s.picture_height = i.height"""
MAKE_TAGS = """INSERT INTO image_tags (image_id, tag, created_at)
SELECT i.id, t.value, i.created_at FROM images AS i, {tags}"""


# Loading a database ---------------------------------------------------------------------------

# The tables whose secondary indexes are dropped while rows go in, and made again after.
LOADED_TABLES = ("images", "variants", "image_tags", "comments")


class Loader:
    """A fast bulk load into one database; the subclasses say how."""

    # The name and definition of each secondary index of the tables in :tables (JSON).
    index_query = ""
    sql: ClassVar[dict[str, str]] = {}  # the pieces of MAKE_VARIANTS and MAKE_TAGS

    def __init__(self, url: str) -> None:
        self.url = url

    def stamp(self, at: datetime) -> Any:
        """A timestamp as this database's load takes it."""
        return at

    def engine(self) -> AsyncEngine:
        return create_async_engine(self.url)

    async def prepare(self, conn: AsyncConnection) -> None:
        """Settings for the load's transaction."""

    async def insert(
        self, conn: AsyncConnection, table: Table, columns: Sequence[str], rows: list[Row]
    ) -> None:
        raise NotImplementedError

    async def drop_indexes(self, conn: AsyncConnection, tables: Sequence[str]) -> list[str]:
        """Drop the secondary indexes of ``tables`` and return their definitions (the
        migrations' own), to make them again once the rows are in: one sort per index instead
        of a million scattered inserts."""
        query = text(self.index_query)
        found = (await conn.execute(query, {"tables": json.dumps(list(tables))})).all()
        for name, _ in found:
            await conn.execute(text(f'DROP INDEX "{name}"'))
        return [str(definition) for _, definition in found]

    async def analyze(self, conn: AsyncConnection) -> None:
        """Inside the transaction, once the rows and their indexes are in."""

    async def settle(self, engine: AsyncEngine) -> None:
        """After the commit: leave the database as an installation would have it."""


class SqliteLoader(Loader):
    """One executemany per chunk, in one transaction with no journal and no syncs (a file
    that a crash would leave broken is built elsewhere and moved in place once done). No
    ANALYZE: an installation has no statistics, and the queries must not need them."""

    index_query = (
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN (SELECT value FROM json_each(:tables))"
    )
    sql: ClassVar[dict[str, str]] = {
        "day": "strftime('%Y/%m/%d', i.created_at)",
        "fraction": "(abs(random()) % 1000000) / 1000000.0",
        "sha256": "lower(hex(randomblob(32)))",
        "tags": "json_each(i.tags) AS t",
    }

    def stamp(self, at: datetime) -> Any:
        return at.isoformat(" ", "microseconds")  # the text SQLAlchemy stores

    def engine(self) -> AsyncEngine:
        engine = create_async_engine(self.url)

        @event.listens_for(engine.sync_engine, "connect")
        def _fast(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1000000"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.execute(f"PRAGMA threads={cpu_count()}")  # sorts for CREATE INDEX
            cursor.close()

        return engine

    async def insert(
        self, conn: AsyncConnection, table: Table, columns: Sequence[str], rows: list[Row]
    ) -> None:
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
        await conn.exec_driver_sql(sql, rows)

    async def settle(self, engine: AsyncEngine) -> None:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA journal_mode=WAL")


class PostgresLoader(Loader):
    """COPY (asyncpg's copy_records_to_table) into the migrated tables, with the foreign key
    triggers off for the load (the rows are consistent by construction); ANALYZE before the
    home timelines are made (or their INSERT ... SELECT is planned blind); after the commit
    VACUUM ANALYZE, which autovacuum would otherwise start in the middle of the measurement,
    and a checkpoint."""

    index_query = (
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
        "AND i.tablename IN (SELECT json_array_elements_text(CAST(:tables AS json))) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
    )
    sql: ClassVar[dict[str, str]] = {
        "day": "to_char(i.created_at, 'YYYY/MM/DD')",
        "fraction": "random()",
        "sha256": "encode(sha256(CAST(CAST(random() AS text) AS bytea)), 'hex')",
        "tags": "json_array_elements_text(i.tags) AS t(value)",
    }

    async def prepare(self, conn: AsyncConnection) -> None:
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        await conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        await conn.execute(text("SET LOCAL synchronous_commit = off"))

    async def insert(
        self, conn: AsyncConnection, table: Table, columns: Sequence[str], rows: list[Row]
    ) -> None:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.copy_records_to_table(table.name, records=rows, columns=list(columns))

    async def analyze(self, conn: AsyncConnection) -> None:
        await conn.execute(
            text("SELECT setval(pg_get_serial_sequence('users', 'id'), max(id)) FROM users")
        )
        await conn.execute(text("ANALYZE"))

    async def settle(self, engine: AsyncEngine) -> None:
        async with engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM (ANALYZE)"))
            await autocommit.execute(text("CHECKPOINT"))


class Progress:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    def say(self, what: str) -> None:
        print(f"  {what} ({time.perf_counter() - self.started:.0f} s)", flush=True)


async def load_rows(loader: Loader, conn: AsyncConnection, data: Dataset, say: Progress) -> None:
    """Users, images (the next chunk made in a thread while one is written), follows; then
    the variants and tags, made by the database from the images."""
    await loader.insert(conn, users, USER_COLUMNS, data.users())
    loop = asyncio.get_running_loop()
    chunks = data.images()
    upcoming = loop.run_in_executor(None, next, chunks, None)
    done = 0
    while (chunk := await upcoming) is not None:
        upcoming = loop.run_in_executor(None, next, chunks, None)
        await loader.insert(conn, images, IMAGE_COLUMNS, chunk)
        done += len(chunk)
        if done % 200_000 < CHUNK or done == data.shape.images:
            say.say(f"{done:,} images")
    await loader.insert(conn, follows, FOLLOW_COLUMNS, data.follows())
    await loader.insert(conn, comments, COMMENT_COLUMNS, data.comments())
    await conn.execute(
        images.update()
        .where(images.c.id == (data.commented or ("", None))[0])
        .values(comment_count=COMMENTS)
    )
    await conn.execute(text(VARIANT_SHAPES_TABLE))
    columns = ", ".join(f":p{n}" for n in range(9))
    await conn.execute(
        text(f"INSERT INTO bench_variant_shapes VALUES ({columns})"),
        [{f"p{n}": value for n, value in enumerate(row)} for row in variant_shapes()],
    )
    await conn.execute(text(MAKE_VARIANTS.format(**loader.sql)))
    await conn.execute(text(MAKE_TAGS.format(**loader.sql)))
    say.say("variants and tags")


async def build(loader: Loader, shape: Shape) -> float:
    """Migrate an empty database to the project's schema, load the shape's rows, fill the
    home timelines with the project's `rebuild_home_timelines`; the seconds it took."""
    say = Progress()
    db = open_database(loader.url)
    try:
        await upgrade_to_head(db)
    finally:
        await db.dispose()
    engine = loader.engine()
    try:
        async with engine.begin() as conn:
            await loader.prepare(conn)
            indexes = await loader.drop_indexes(conn, LOADED_TABLES)
            await load_rows(loader, conn, Dataset(shape, loader.stamp), say)
            for definition in indexes:
                await conn.execute(text(definition))
            say.say(f"{len(indexes)} indexes")
            await loader.analyze(conn)
            indexes = await loader.drop_indexes(conn, ["home_timeline"])
            await timeline.rebuild_home_timelines(conn)
            for definition in indexes:
                await conn.execute(text(definition))
            say.say("home timelines")
            # PostgreSQL loaded with its triggers off: the search rows are made here; SQLite's
            # triggers made them as the images went in, and its word index is rebuilt whole
            await search.rebuild_search_index(conn)
            say.say("search index")
        await loader.settle(engine)
    finally:
        await engine.dispose()
    return time.perf_counter() - say.started


def schema_fingerprint() -> str:
    """Changes when the migrations, the timeline module or the generated data change: a cached
    database made before then is made again."""
    digest = hashlib.sha256(str(BUILD_VERSION).encode())
    for path in [*sorted(MIGRATIONS_DIR.rglob("*.py")), Path(timeline.__file__)]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class Built:
    seconds: float
    in_this_run: bool


def sqlite_data_dir(shape: Shape, rebuild: bool) -> tuple[Path, Built]:
    """The data directory of the SQLite database of ``shape``, built unless a cached one is
    there (for this schema)."""
    name = f"sqlite-{shape.images}-{shape.users}-{shape.seed}"
    fingerprint = schema_fingerprint()
    data_dir = CACHE_DIR / f"{name}-{fingerprint}"
    facts = data_dir / "build.json"
    if facts.exists() and not rebuild:
        seconds = float(json.loads(facts.read_text())["build_seconds"])
        print(f"SQLite: using {relative(data_dir)} (built in {seconds:.0f} s)", flush=True)
        return data_dir, Built(seconds, in_this_run=False)
    for stale in CACHE_DIR.glob("sqlite-*"):  # this one (--rebuild), and any of another schema
        if stale.name.startswith(f"{name}-") or not stale.name.endswith(f"-{fingerprint}"):
            shutil.rmtree(stale)
    building = CACHE_DIR / f".building-{data_dir.name}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    print(f"SQLite: building {shape.images:,} images over {shape.users:,} users", flush=True)
    try:
        url = f"sqlite+aiosqlite:///{(building / 'shutterbox.db').resolve()}"
        seconds = asyncio.run(build(SqliteLoader(url), shape))
        (building / "build.json").write_text(json.dumps({"build_seconds": seconds}))
        building.rename(data_dir)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    print(f"SQLite: built in {seconds:.0f} s", flush=True)
    return data_dir, Built(seconds, in_this_run=True)


# What the endpoints will be asked -------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """Read from the built database: whom and what to ask for, and how much there is."""

    public_images: int
    user_count: int
    median_user: int
    small_user: tuple[str, int]  # username, public images
    largest_user: tuple[str, int]
    common_tag: tuple[str, int]  # tag, images
    deep_pages: int
    deep_cursor: str
    deep_first_id: str  # the first image of the page after the cursor
    homes: dict[str, int]  # reader: images in their home
    sunsets: int  # public images whose caption holds "sunset" (a search, ranked)
    commented: tuple[str, int]  # the image with the most comments, and how many


async def check_keys(conn: AsyncConnection, image_id: str) -> None:
    """The image's object keys, written by the load, are the ones the project makes."""
    image = (await conn.execute(select(images).where(images.c.id == image_id))).one()
    found = await conn.execute(select(variants.c.key).where(variants.c.image_id == image_id))
    expected = {
        variant_key(image.id, image.created_at, spec.name, FORMAT_EXTENSIONS[fmt])
        for spec in VARIANT_SPECS
        for fmt in FORMATS
    }
    if (
        image.original_key != original_key(image.id, image.created_at, "jpg")
        or set(found.scalars()) != expected
    ):
        raise RuntimeError(f"the keys of image {image_id} are not the project's: fix the load")


async def check_search_index(conn: AsyncConnection) -> None:
    """Every ready, undeleted image has its search row: the load filled the index."""
    listed = await conn.scalar(
        select(func.count()).where(images.c.status == "ready", images.c.deleted_at.is_(None))
    )
    indexed = await conn.scalar(select(func.count()).select_from(image_search))
    if listed != indexed:
        raise RuntimeError(f"{indexed} search rows for {listed} listed images: fix the load")


async def survey(url: str, shape: Shape) -> Facts:
    engine = create_async_engine(url)
    shown = and_(
        images.c.status == "ready",
        images.c.deleted_at.is_(None),
        images.c.visibility == "public",
    )
    try:
        async with engine.connect() as conn:
            counts = (
                await conn.execute(
                    select(images.c.owner_id, func.count()).where(shown).group_by(images.c.owner_id)
                )
            ).all()
            by_size = sorted((int(n), int(owner)) for owner, n in counts)
            small = min(by_size, key=lambda pair: (abs(pair[0] - SMALL_USER_IMAGES), pair[1]))
            largest = by_size[-1]
            names = dict(
                (
                    await conn.execute(
                        select(users.c.id, users.c.username).where(
                            users.c.id.in_([small[1], largest[1]])
                        )
                    )
                ).all()
            )
            tag, tagged = (
                await conn.execute(
                    select(image_tags.c.tag, func.count())
                    .group_by(image_tags.c.tag)
                    .order_by(func.count().desc())
                    .limit(1)
                )
            ).one()
            public = sum(n for n, _ in by_size)
            pages = min(DEPTH_PAGES, public // PAGE - 1)  # a full page after the cursor
            last, first = (
                await conn.execute(
                    select(images.c.created_at, images.c.id)
                    .where(shown)
                    .order_by(images.c.created_at.desc(), images.c.id.desc())
                    .offset(pages * PAGE - 1)
                    .limit(2)
                )
            ).all()
            await check_keys(conn, first.id)
            sunsets = int(
                await conn.scalar(
                    select(func.count()).where(shown, func.lower(images.c.caption) == "sunset")
                )
                or 0
            )
            await check_search_index(conn)
            commented_id, comment_count = (
                await conn.execute(
                    select(comments.c.image_id, func.count())
                    .group_by(comments.c.image_id)
                    .order_by(func.count().desc())
                    .limit(1)
                )
            ).one()
            homes = {}
            for name, reader in shape.reader_ids.items():
                homes[name] = int(
                    await conn.scalar(
                        select(func.count())
                        .select_from(home_timeline)
                        .where(home_timeline.c.user_id == reader)
                    )
                    or 0
                )
    finally:
        await engine.dispose()
    return Facts(
        public_images=public,
        user_count=len(by_size),
        median_user=by_size[len(by_size) // 2][0],
        small_user=(names[small[1]], small[0]),
        largest_user=(names[largest[1]], largest[0]),
        common_tag=(str(tag), int(tagged)),
        deep_pages=pages,
        deep_cursor=encode_position(last.created_at, last.id),
        deep_first_id=str(first.id),
        homes=homes,
        sunsets=sunsets,
        commented=(str(commented_id), int(comment_count)),
    )


@dataclass(frozen=True)
class Endpoint:
    label: str
    path: str
    reader: str | None = None  # logs in as this reader
    first_id: str | None = None  # the id the page must start with, when known
    answer: str = "page"  # "page": a JSON page of PAGE items; "one": a JSON object; "html"


def endpoints(facts: Facts) -> list[Endpoint]:
    small, small_count = facts.small_user
    largest, largest_count = facts.largest_user
    tag, tagged = facts.common_tag
    deep = f"{facts.deep_pages:,} pages deep"
    commented, comment_count = facts.commented
    return [
        Endpoint("`/healthz` (baseline)", BASELINE),
        Endpoint("feed, first page", f"/api/v1/feed?limit={PAGE}"),
        Endpoint(
            f"feed, {deep}",
            f"/api/v1/feed?limit={PAGE}&cursor={facts.deep_cursor}",
            first_id=facts.deep_first_id,
        ),
        Endpoint(
            f"small user's images ({small_count:,})", f"/api/v1/users/{small}/images?limit={PAGE}"
        ),
        Endpoint(
            f"largest user's images ({largest_count:,})",
            f"/api/v1/users/{largest}/images?limit={PAGE}",
        ),
        Endpoint(f"common tag's images ({tagged:,})", f"/api/v1/tags/{tag}/images?limit={PAGE}"),
        Endpoint(f"search, the common tag ({tagged:,})", f"/api/v1/search?q={tag}&limit={PAGE}"),
        Endpoint(
            f"search, a caption word ({facts.sunsets:,})", f"/api/v1/search?q=sunset&limit={PAGE}"
        ),
        Endpoint(
            f"search, a rare word: a username ({small_count:,})",
            f"/api/v1/search?q={small}&limit={PAGE}",
        ),
        Endpoint(
            f"an image with {comment_count:,} comments", f"/api/v1/images/{commented}", answer="one"
        ),
        Endpoint(
            f"its comments, first page ({comment_count:,})",
            f"/api/v1/images/{commented}/comments?limit={PAGE}",
        ),
        Endpoint(
            f"its web page (HTML, the first {COMMENTS_SHOWN} comments)",
            f"/images/{commented}",
            answer="html",
        ),
        *(
            Endpoint(
                f"home, following {READERS[name]:,} ({facts.homes[name]:,} images)",
                f"/api/v1/home?limit={PAGE}",
                reader=name,
            )
            for name in READERS
        ),
    ]


def check_answers(
    base_url: str, targets: list[Endpoint], headers: dict[str, dict[str, str]]
) -> None:
    """Each endpoint answers 200 with a full page (and the deep page starts where the cursor
    says), so that wrk measures real pages."""
    with httpx.Client(base_url=base_url, timeout=60.0) as client:
        for target in targets:
            answer = client.get(target.path, headers=headers.get(target.reader or "", {}))
            if answer.status_code != 200:
                raise RuntimeError(f"{target.path} answered {answer.status_code}: {answer.text}")
            if target.path == BASELINE:
                continue
            if target.answer == "html":
                if "text/html" not in answer.headers.get("content-type", ""):
                    raise RuntimeError(f"{target.path} answered no page")
                continue
            if target.answer == "one":
                if "id" not in answer.json():
                    raise RuntimeError(f"{target.path} answered no image")
                continue
            items = answer.json()["items"]
            if len(items) != PAGE:
                raise RuntimeError(f"{target.path} answered {len(items)} images, not {PAGE}")
            if target.first_id is not None and items[0]["id"] != target.first_id:
                raise RuntimeError(
                    f"{target.path} starts with {items[0]['id']}, not {target.first_id}"
                )


# Measuring ------------------------------------------------------------------------------------


@dataclass
class Measured:
    database: str
    version: str
    built: Built
    facts: Facts
    targets: list[Endpoint]
    runs: dict[Endpoint, list[WrkResult]]  # one result per round
    load: float  # the machine's load average when the measurement began
    api_processes: int


def measure(
    base_url: str, targets: list[Endpoint], tokens: dict[str, str], args: argparse.Namespace
) -> dict[Endpoint, list[WrkResult]]:
    """A short warm-up of every endpoint, then ``rounds`` rounds of /healthz followed by each
    endpoint in turn."""
    headers = {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}
    check_answers(base_url, targets, headers)

    def load(target: Endpoint, seconds: float) -> WrkResult:
        result = run_wrk(
            base_url + target.path,
            seconds=seconds,
            threads=THREADS,
            connections=CONNECTIONS,
            headers=headers.get(target.reader or ""),
        )
        if result.bad_status:
            raise RuntimeError(f"{target.path}: {result.bad_status} answers were not 2xx")
        return result

    for target in targets:
        load(target, max(1, args.duration // 5))
    runs: dict[Endpoint, list[WrkResult]] = {target: [] for target in targets}
    for number in range(args.rounds):
        for target in targets:
            result = load(target, args.duration)
            runs[target].append(result)
            print(
                f"  round {number + 1}: {target.label}: p50 {ms(result.p50)} ms, "
                f"p99 {ms(result.p99)} ms, {result.requests_per_second:,.0f} req/s",
                flush=True,
            )
    return runs


async def postgres_version(url: str) -> str:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return str(await conn.scalar(text("SHOW server_version"))).split()[0]
    finally:
        await engine.dispose()


def serve_and_measure(
    database: str,
    version: str,
    data_dir: Path,
    url: str,
    built: Built,
    shape: Shape,
    args: argparse.Namespace,
    **settings: str,
) -> list[Measured]:
    """The endpoints measured on a server with each of ``args.api_processes`` in turn."""
    facts = asyncio.run(survey(url, shape))
    targets = endpoints(facts)
    results = []
    for processes in args.api_processes:
        with run_directory("feed") as run_dir:
            process, base_url = shutterbox_serve(
                data_dir,
                run_dir / "serve.log",
                workers=0,
                api_processes=processes,
                access_log="false",  # as deploy/ runs it: nginx logs the requests
                **settings,
            )
            with running(process, STARTUP_TIMEOUT_SECONDS):
                tokens = {name: log_in(base_url, name, PASSWORD) for name in READERS}
                print(
                    f"{database}, {_processes(processes)}: measuring {len(targets)} endpoints",
                    flush=True,
                )
                load = os.getloadavg()[0]
                runs = measure(base_url, targets, tokens, args)
        results.append(Measured(database, version, built, facts, targets, runs, load, processes))
    return results


def _processes(count: int) -> str:
    return f"{count} API process" + ("es" if count > 1 else "")


async def search_upkeep(url: str) -> int:
    """What the lifecycle pass of a running installation does to its search index (SQLite:
    merges the word indexes a bulk load left in pieces; idempotent, so a cached database is
    merged once); the steps it took."""
    db = open_database(url)
    try:
        return await merge_spread_indexes(SqlMetadata(db))
    finally:
        await db.dispose()


def run_sqlite(shape: Shape, args: argparse.Namespace) -> list[Measured]:
    data_dir, built = sqlite_data_dir(shape, args.rebuild)
    url = f"sqlite+aiosqlite:///{(data_dir / 'shutterbox.db').resolve()}"
    started = time.perf_counter()
    steps = asyncio.run(search_upkeep(url))
    print(f"SQLite: search index upkeep, {steps} steps ({time.perf_counter() - started:.0f} s)")
    return serve_and_measure("SQLite", sqlite3.sqlite_version, data_dir, url, built, shape, args)


def run_postgresql(shape: Shape, args: argparse.Namespace) -> list[Measured]:
    with (
        postgres_database() as url,
        run_directory("feed-postgresql") as data_dir,
    ):
        print(
            f"PostgreSQL: building {shape.images:,} images over {shape.users:,} users", flush=True
        )
        seconds = asyncio.run(build(PostgresLoader(url), shape))
        print(f"PostgreSQL: built in {seconds:.0f} s", flush=True)
        version = asyncio.run(postgres_version(url))
        return serve_and_measure(
            "PostgreSQL",
            version,
            data_dir,
            url,
            Built(seconds, in_this_run=True),
            shape,
            args,
            database_url=url,
        )


# Reporting ------------------------------------------------------------------------------------


def results_table(measured: Measured) -> str:
    baseline = measured.runs[measured.targets[0]]
    rows = []
    for target in measured.targets:
        runs = measured.runs[target]
        p99 = median([r.p99 for r in runs])
        p50_ratio = median([r.p50 / b.p50 for r, b in zip(runs, baseline, strict=True)])
        p99_ratio = median([r.p99 / b.p99 for r, b in zip(runs, baseline, strict=True)])
        if target.path == BASELINE:
            verdict = "baseline"
        else:
            misses = [
                *(["p99 > 10 ms"] if p99 > TARGET_P99_SECONDS else []),
                *([f"p99 > {TARGET_RATIO:.0f}x"] if p99_ratio > TARGET_RATIO else []),
            ]
            verdict = "no: " + ", ".join(misses) if misses else "yes"
        rows.append(
            [
                target.label,
                ms(median([r.p50 for r in runs])),
                ms(p99),
                f"{median([r.requests_per_second for r in runs]):,.0f}",
                ratio(p50_ratio),
                ratio(p99_ratio),
                verdict,
            ]
        )
    headers = ["Endpoint", "p50 ms", "p99 ms", "req/s", "p50 / healthz", "p99 / healthz", "Target"]
    return markdown_table(headers, rows)


def database_section(measured: Measured) -> list[str]:
    facts = measured.facts
    when = "in this run" if measured.built.in_this_run else "in an earlier run, and kept"
    socket_errors = sum(r.socket_errors for runs in measured.runs.values() for r in runs)
    homes = ", ".join(f"{name}: {count:,}" for name, count in facts.homes.items())
    lines = [
        f"### {measured.database} {measured.version}, {_processes(measured.api_processes)}",
        "",
        f"Built in {measured.built.seconds:.0f} s {when}. {facts.public_images:,} public "
        f"images over {facts.user_count:,} users (median {facts.median_user:,} each); "
        f"images in the readers' homes: {homes}. The machine's load average when the "
        f"measurement began: {measured.load:.1f}.",
        "",
        results_table(measured),
    ]
    if socket_errors:
        lines += ["", f"wrk counted {socket_errors} socket errors (timeouts included)."]
    return lines


def _count(number: int) -> str:
    """1 M for a million (docs/scaling.md links to the section as #read-path-at-1-m-images)."""
    return f"{number // 1_000_000} M" if number % 1_000_000 == 0 else f"{number:,}"


def report(results: list[Measured], shape: Shape, args: argparse.Namespace) -> str:
    variants = len(VARIANT_SPECS) * len(FORMATS)
    lines = [
        f"## Read path at {_count(shape.images)} images",
        "",
        "`python -m bench.feed`: for each database, a database of "
        f"{shape.images:,} ready images over {shape.users:,} users made through the "
        "project's schema (its migrations, a bulk load, `rebuild_home_timelines`), then "
        "`shutterbox serve --workers 0 --api-processes N` on it (with "
        "`SHUTTERBOX_ACCESS_LOG=false`, as deploy/ runs it behind nginx) for each N of "
        f"{', '.join(map(str, args.api_processes))}, loaded with `wrk` "
        f"(`-t{THREADS} -c{CONNECTIONS} -d{args.duration}s --latency`, so "
        f"{CONNECTIONS} requests in flight) one endpoint at a time: `/healthz` (the "
        "baseline), then each list endpoint, and that whole round "
        f"{args.rounds} times after a short warm-up. Every number is the median of the "
        "rounds; a ratio is the median of the per-round ratios against `/healthz`.",
        "",
        *environment_lines(extra_packages=("sqlalchemy", "aiosqlite", "asyncpg", "uvicorn")),
        f"- {tool_versions('wrk')}; wrk, the server and the database share the machine",
        f"- Data: created over a year; {PRIVATE_SHARE:.0%} private; owners drawn from a "
        f"Zipf-like law (user of rank r in proportion to r^-{OWNER_EXPONENT}), so a few users "
        f"have thousands of images and most a few dozen; 1-3 tags each from {len(TAGS)} "
        f"(tag of rank r in proportion to 1/r); {variants} variants each "
        f"({', '.join(s.name for s in VARIANT_SPECS)} in {', '.join(FORMATS)}); two readers, "
        + ", ".join(f"{name} following {count:,} users" for name, count in READERS.items())
        + f"; pages of {PAGE}; {COMMENTS:,} comments on one public image (its JSON, its "
        "comments' first page, and its web page, which shows the first "
        f"{COMMENTS_SHOWN})",
        "",
        f"Target: every list endpoint's p99 within {TARGET_P99_SECONDS * 1000:.0f} ms and within "
        f"{TARGET_RATIO:.0f}x `/healthz`'s p99 (information, not a test). The deep feed page "
        "is asked with the cursor a client holds after that many pages (computed from the "
        "database, the way the API encodes it).",
        "",
        "How the databases are made: `upgrade_to_head` (the migrations) on an empty database; "
        "the secondary indexes of `images`, `variants`, `image_tags` and `comments` dropped and "
        "made again from their own definitions once the rows are in; users, images, follows "
        "and comments written "
        "from Python (SQLite: `executemany` in one transaction, no journal, no syncs; "
        "PostgreSQL: `COPY` with the foreign-key triggers off); the variants (keys as "
        "`variant_key` makes them, sizes by `fit_within`) and the `image_tags` rows made by "
        "the database from the images; then `rebuild_home_timelines`, and the search index "
        "made from the rows; then, on SQLite, the lifecycle pass's search index upkeep "
        "(`services/images/search_upkeep.py`: the FTS5 indexes the load left in pieces "
        "merged into one, as on an installation whose workers have run it). SQLite gets no "
        "`ANALYZE` (an installation has no statistics); PostgreSQL gets `VACUUM ANALYZE`, "
        "as autovacuum would after a load, so that it does not run during the measurement. "
        "The SQLite database is kept under `bench/.work/` for the next run.",
    ]
    for measured in results:
        lines += ["", *database_section(measured)]
    return "\n".join(lines)


# Entry point ----------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argument_parser(__doc__)
    parser.add_argument("--images", type=int, default=1_000_000, help="images in the database")
    parser.add_argument("--users", type=int, default=10_000, help="users who own images")
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql", "both"), default="both", help="which"
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="make the cached SQLite database again"
    )
    parser.add_argument("--duration", type=int, default=5, help="seconds of wrk per endpoint")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of all the endpoints")
    parser.add_argument(
        "--api-processes",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 2],
        help="comma-separated API process counts to measure, each in turn (default 1,2)",
    )
    args = parser.parse_args()
    if min(args.api_processes) < 1:
        parser.error("--api-processes counts must be at least 1")
    if args.images < 10 * PAGE or args.users < 1 or args.rounds < 1 or args.duration < 1:
        parser.error(
            f"--images must be at least {10 * PAGE}, --users and --rounds at least 1, "
            "--duration at least 1"
        )
    return args


def main() -> int:
    args = parse_args()
    exit_on_sigterm()
    if shutil.which("wrk") is None:
        fail("wrk is not installed (Debian/Ubuntu: apt install wrk)")
        return 1
    wanted = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    if "postgresql" in wanted and not reachable(POSTGRES_ADMIN_URL):
        fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}")
        return 1
    shape = Shape(args.images, args.users)
    runners = {"sqlite": run_sqlite, "postgresql": run_postgresql}
    results = [measured for name in wanted for measured in runners[name](shape, args)]
    publish(SECTION, report(results, shape, args), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
