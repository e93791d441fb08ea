"""``Metadata.write_together``: on SQLite the writes that wait at the same moment share one
transaction and one commit (group commit), each in a savepoint; on PostgreSQL each is a
transaction of its own. Either way every caller's rows are committed when it hears back, and
a unit that fails is undone alone."""

from __future__ import annotations

import asyncio
from datetime import datetime

from shutterbox.adapters.db.engine import open_database
from shutterbox.adapters.db.metadata import SqlMetadata
from shutterbox.adapters.db.migrate import upgrade_to_head
from shutterbox.ports.metadata import AlreadyExists, WriteTransaction

T0 = datetime(2024, 5, 1, 12, 0, 0)


def _create(name: str):
    async def work(tx: WriteTransaction) -> int:
        return (await tx.users.create(name, "x", is_admin=False, created_at=T0)).id

    return work


async def _usernames(sql: SqlMetadata, names: list[str]) -> set[str]:
    found = set()
    async with sql.read() as tx:
        for name in names:
            user = await tx.users.by_name(name)
            if user is not None:
                found.add(user.username)
    return found


async def test_concurrent_writes_all_commit_and_a_failing_one_is_undone_alone(sql: SqlMetadata):
    await sql.write_together(_create("taken"))  # before the burst: taken whatever the order
    names = [f"user{n:02d}" for n in range(40)]
    calls = [sql.write_together(_create(name)) for name in names]

    async def failing(tx: WriteTransaction) -> None:
        await tx.users.create("doomed", "x", is_admin=False, created_at=T0)
        await tx.users.create("taken", "x", is_admin=False, created_at=T0)

    results = await asyncio.gather(*calls, sql.write_together(failing), return_exceptions=True)
    ids, failure = results[:-1], results[-1]
    assert isinstance(failure, AlreadyExists)
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == len(names)
    assert await _usernames(sql, [*names, "doomed"]) == set(names)  # "doomed" was undone

    # committed for good: a fresh connection (another process) sees every row
    other = SqlMetadata(open_database(sql.db.url))
    try:
        assert await _usernames(other, names) == set(names)
    finally:
        await other.close()


async def test_on_sqlite_a_unit_that_awaits_more_than_the_database_is_refused(tmp_path):
    db = open_database(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}")
    await upgrade_to_head(db)
    sql = SqlMetadata(db)
    try:

        async def slow(tx: WriteTransaction) -> None:
            await tx.users.create("sleeper", "x", is_admin=False, created_at=T0)
            await asyncio.sleep(0.01)

        results = await asyncio.gather(
            sql.write_together(slow), sql.write_together(_create("fine")), return_exceptions=True
        )
        assert isinstance(results[0], RuntimeError)
        assert "awaited something besides the database" in str(results[0])
        assert isinstance(results[1], int)
        assert await _usernames(sql, ["sleeper", "fine"]) == {"fine"}
    finally:
        await db.dispose()
