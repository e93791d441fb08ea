"""A storage migration's record in SQLite files in the data directory.

One record per target (``<name>.sqlite``): a row per blob whose copy in the target was read
back and matched, committed as soon as it was, so a migration killed at any point knows,
when run again, what it need not copy again (WAL: a commit survives a kill of the process).
A run's listings (both stores, and the originals the image rows name) go into a second
file beside it (``<name>-listing.sqlite``, without a journal), removed when the run ends:
they are compared in SQL and read back in pages in key order, so no listing is ever whole
in memory; a store of 1 M images holds about 7 M blobs. A lock on a third file
(``<name>.lock``) keeps a second migration to the same target from running at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from shutterbox.domain.errors import Conflict
from shutterbox.ports import BlobInfo
from shutterbox.ports.migration import CopiedBlob, Original, Unverified

ROWS_PER_STATEMENT = 1000
T = TypeVar("T")

_RECORD = """
CREATE TABLE IF NOT EXISTS target (url TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS copied (
    key TEXT PRIMARY KEY, size INTEGER NOT NULL, sha256 TEXT NOT NULL, modified TEXT NOT NULL
) WITHOUT ROWID;
"""

_LISTING = """
CREATE TABLE listing.source (
    key TEXT PRIMARY KEY, size INTEGER NOT NULL, modified TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE listing.target (key TEXT PRIMARY KEY, size INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE listing.originals (
    key TEXT PRIMARY KEY, image_id TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL
) WITHOUT ROWID;
"""

# A source blob is verified when the record holds it at the size the source and the target
# list, and with the SHA-256 its image row records (an original: its last change moves with
# its storage class) or else with the same last change.
_UNVERIFIED = """
FROM listing.source AS s
LEFT JOIN listing.originals AS o ON o.key = s.key
LEFT JOIN listing.target AS t ON t.key = s.key
LEFT JOIN copied AS c ON c.key = s.key
WHERE NOT coalesce(
    c.size = s.size AND t.size = s.size
    AND CASE WHEN coalesce(o.sha256, '') != '' THEN c.sha256 = o.sha256
             ELSE c.modified = s.modified END,
    0)
"""


def record_path(directory: Path, target_url: str) -> Path:
    """The record of migrations to ``target_url``, in ``directory``."""
    name = hashlib.sha256(target_url.encode()).hexdigest()[:16]
    return directory / f"{name}.sqlite"


class SqliteMigrationRecord:
    """The record of one target; use it as a context manager (it holds the lock)."""

    def __init__(self, path: Path, target_url: str) -> None:
        self.path = path
        self.target_url = target_url
        self.listing_path = path.with_name(f"{path.stem}-listing.sqlite")
        self._db: sqlite3.Connection | None = None
        self._lock: int | None = None

    def __enter__(self) -> SqliteMigrationRecord:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock)
            raise Conflict(f"another migration to {self.target_url} is running") from None
        self._lock = lock
        try:
            self._db = self._open()
        except BaseException:
            self._unlock()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        self.listing_path.unlink(missing_ok=True)
        self._unlock()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.executescript(_RECORD)
        if db.execute("SELECT count(*) FROM target").fetchone()[0] == 0:
            db.execute("INSERT INTO target (url) VALUES (?)", (self.target_url,))
        self.listing_path.unlink(missing_ok=True)  # left by a run that was killed
        db.execute("ATTACH DATABASE ? AS listing", (str(self.listing_path),))
        db.execute("PRAGMA listing.journal_mode = OFF")
        db.execute("PRAGMA listing.synchronous = OFF")
        return db

    def _unlock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)  # the lock goes with it
            self._lock = None

    @property
    def db(self) -> sqlite3.Connection:
        assert self._db is not None, "the record is not open"
        return self._db

    # The record

    def add(self, key: str, blob: CopiedBlob) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO copied (key, size, sha256, modified) VALUES (?, ?, ?, ?)",
            (key, blob.size, blob.sha256, blob.modified),
        )

    def forget(self, key: str) -> None:
        self.db.execute("DELETE FROM copied WHERE key = ?", (key,))

    def copied(self, key: str) -> CopiedBlob | None:
        row = self.db.execute(
            "SELECT size, sha256, modified FROM copied WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else CopiedBlob(*row)

    # The listings of this run

    def start_listing(self) -> None:
        for table in ("source", "target", "originals"):
            self.db.execute(f"DROP TABLE IF EXISTS listing.{table}")
        self.db.executescript(_LISTING)

    def list_source(self, blobs: Iterable[BlobInfo]) -> None:
        rows = ((b.key, b.size, b.last_modified.isoformat()) for b in blobs)
        self._insert("INSERT OR REPLACE INTO listing.source VALUES (?, ?, ?)", rows)

    def list_target(self, blobs: Iterable[BlobInfo]) -> None:
        rows = ((b.key, b.size) for b in blobs)
        self._insert("INSERT OR REPLACE INTO listing.target VALUES (?, ?)", rows)

    def name_originals(self, originals: Iterable[tuple[str, Original]]) -> None:
        rows = ((key, o.image_id, o.size, o.sha256) for key, o in originals)
        self._insert("INSERT OR REPLACE INTO listing.originals VALUES (?, ?, ?, ?)", rows)

    def _insert(self, statement: str, rows: Iterable[tuple[object, ...]]) -> None:
        for chunk in _batched(rows, ROWS_PER_STATEMENT):
            with _Transaction(self.db):
                self.db.executemany(statement, chunk)

    def unlisted(self, keys: Sequence[str]) -> list[str]:
        found: set[str] = set()
        for chunk in _batched(keys, ROWS_PER_STATEMENT):
            marks = ", ".join("?" * len(chunk))
            query = f"SELECT key FROM listing.source WHERE key IN ({marks})"
            found.update(key for (key,) in self.db.execute(query, chunk))
        return [key for key in keys if key not in found]

    def source_count(self) -> int:
        count: int = self.db.execute("SELECT count(*) FROM listing.source").fetchone()[0]
        return count

    def unverified_totals(self) -> tuple[int, int]:
        count, size = self.db.execute(f"SELECT count(*), sum(s.size) {_UNVERIFIED}").fetchone()
        return count, size or 0

    def unverified(self, after: str, limit: int) -> list[Unverified]:
        rows = self.db.execute(
            "SELECT s.key, s.size, s.modified, o.image_id, o.size, o.sha256 "
            f"{_UNVERIFIED} AND s.key > ? ORDER BY s.key LIMIT ?",
            (after, limit),
        )
        return [
            Unverified(
                BlobInfo(key, size, datetime.fromisoformat(modified)),
                None if image_id is None else Original(image_id, original_size, sha256),
            )
            for key, size, modified, image_id, original_size, sha256 in rows
        ]

    def only_in_target(self, after: str, limit: int) -> list[str]:
        rows = self.db.execute(
            "SELECT t.key FROM listing.target AS t WHERE t.key > ? AND NOT EXISTS "
            "(SELECT 1 FROM listing.source AS s WHERE s.key = t.key) ORDER BY t.key LIMIT ?",
            (after, limit),
        )
        return [key for (key,) in rows]


def verified_keys(path: Path) -> int:
    """How many blobs the record at ``path`` holds verified (read-only, while a migration
    may be writing it)."""
    if not path.exists():
        return 0
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        made = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'copied'").fetchone()
        count: int = db.execute("SELECT count(*) FROM copied").fetchone()[0] if made else 0
        return count
    finally:
        db.close()


class _Transaction:
    """BEGIN ... COMMIT (ROLLBACK on an error) on a connection in autocommit mode."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def _batched(items: Iterable[T], size: int) -> Iterator[tuple[T, ...]]:
    it = iter(items)
    while chunk := tuple(islice(it, size)):
        yield chunk
