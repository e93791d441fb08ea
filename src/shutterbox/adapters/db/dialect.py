"""What differs between SQLite and PostgreSQL, written once: the upsert (and, later, advisory
locks). Both dialects spell ``INSERT ... ON CONFLICT`` the same way."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.ext.asyncio import AsyncConnection


def upsert(
    conn: AsyncConnection,
    table: Table,
    values: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    *,
    conflict: Sequence[Column[Any]] | None = None,
    update: Callable[[Any], Mapping[str, Any]] | None = None,
) -> Any:
    """``INSERT ... ON CONFLICT``: with ``update`` (given the ``excluded`` row, it returns the
    columns to set) ``DO UPDATE`` on the ``conflict`` columns; without it ``DO NOTHING``."""
    statement = insert_for(conn, table).values(values)
    if update is None:
        return statement.on_conflict_do_nothing(index_elements=conflict)
    return statement.on_conflict_do_update(index_elements=conflict, set_=update(statement.excluded))


def insert_for(conn: AsyncConnection, table: Table) -> Any:
    """The dialect's own ``INSERT`` construct, the one that knows ``ON CONFLICT``."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)
