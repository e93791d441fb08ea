"""The media look-up on SQLite, run inline on the event loop.

Every GET of a variant asks the database one question: which files does this variant have,
and may anyone see them (``VARIANT_FILES``: one seek of images' primary key and one of
variants'). Through aiosqlite that costs eight thread hops (begin, cursor, execute, fetch,
close, rollback), several times what SQLite takes to answer a point query from its page
cache. In WAL mode a reader never waits for a writer, so the same compiled statement runs
here on a connection of the inline reader's pool (``Database.inline_reader``, the standard
library's driver), without leaving the event loop and without SQLAlchemy's statement
machinery (a quarter of the cost of ``quick_read`` for this one query).
Nothing is cached: a delete or a change to private committed by any process is seen by the
next request. PostgreSQL keeps the asynchronous path (asyncpg needs no threads).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine
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
    """Point reads on the inline reader's connections (``Database.inline_reader``), with the
    compiled SQL and no SQLAlchemy statement machinery in between."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def variant_files(self, image_id: str, name: str) -> VariantFiles | None:
        values = {"image_id": image_id, "name": name}
        connection = self.engine.raw_connection()  # from the pool, back to it on close
        try:
            cursor = connection.cursor()
            rows = cursor.execute(_SQL, [values[key] for key in _ORDER]).fetchall()
            cursor.close()
        finally:
            connection.close()
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
