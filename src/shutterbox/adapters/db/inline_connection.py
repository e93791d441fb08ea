"""A synchronous SQLAlchemy connection behind the ``AsyncConnection`` methods the
repositories call (``execute``, ``scalar``, ``scalars``), for ``SqlMetadata.quick_read``.

aiosqlite runs every call in its own thread, several hops per query (cursor, execute, fetch,
close), each costing more than SQLite takes to answer a seek from its page cache. A read
of a page of a list is a few such seeks and, in WAL mode, never waits for a writer; so it
runs here on the event loop's thread, with the very same statements and repositories.
Only bounded reads belong here: a query whose cost grows with the data would stall every
request of the process meanwhile.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Result, ScalarResult


class InlineConnection:
    def __init__(self, connection: Connection) -> None:
        self.sync_connection = connection
        self.dialect = connection.dialect

    async def execute(self, statement: Any, parameters: Any = None) -> Result[Any]:
        return self.sync_connection.execute(statement, parameters)

    async def scalar(self, statement: Any, parameters: Any = None) -> Any:
        return self.sync_connection.scalar(statement, parameters)

    async def scalars(self, statement: Any, parameters: Any = None) -> ScalarResult[Any]:
        return self.sync_connection.scalars(statement, parameters)
