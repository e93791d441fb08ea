"""The media look-up on SQLite, run inline on the event loop.

Every GET of a variant asks the database one question: which files does this variant have,
and may anyone see them (``VARIANT_FILES``: one seek of images' primary key and one of
variants'). Through aiosqlite that costs eight thread hops (begin, cursor, execute, fetch,
close, rollback), several times what SQLite takes to answer a point query from its page
cache. In WAL mode a reader never waits for a writer, so the same compiled statement runs
here on a plain ``sqlite3`` connection of this process, without leaving the event loop.
Nothing is cached: a delete or a change to private committed by any process is seen by the
next request. PostgreSQL keeps the asynchronous path (asyncpg needs no threads).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import sqlite

from shutterbox.adapters.db.repositories.image_lists import VARIANT_FILES
from shutterbox.domain.images import Variant, Visibility
from shutterbox.ports.metadata import VariantFiles

_COMPILED = VARIANT_FILES.compile(dialect=sqlite.dialect())
_SQL = str(_COMPILED)
_ORDER = tuple(_COMPILED.positiontup or ())


def _moment(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


class InlineSqliteReads:
    """Point reads on one ``sqlite3`` connection of this process, opened on first use."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None

    def _open(self) -> sqlite3.Connection:
        if self._connection is None:
            # Used from the event loop's thread only, but that may not be the opener's.
            connection = sqlite3.connect(self.path, check_same_thread=False)
            connection.isolation_level = None  # autocommit: each query its own snapshot
            connection.execute("PRAGMA query_only=ON")
            connection.execute("PRAGMA busy_timeout=1000")
            self._connection = connection
        return self._connection

    def variant_files(self, image_id: str, name: str) -> VariantFiles | None:
        values = {"image_id": image_id, "name": name}
        rows = self._open().execute(_SQL, [values[key] for key in _ORDER]).fetchall()
        if not rows:
            return None
        owner_id, visibility, deleted_at, last_modified = rows[0][:4]
        return VariantFiles(
            image_id=image_id,
            owner_id=owner_id,
            visibility=Visibility(visibility),
            deleted=deleted_at is not None,
            last_modified=_moment(last_modified),
            formats={row[-1]: Variant(*row[4:]) for row in rows if row[5] is not None},
        )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
