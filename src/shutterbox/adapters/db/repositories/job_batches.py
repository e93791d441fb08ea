"""The batches of bulk jobs (``BatchStore``), kept beside the jobs table: the job store's
part that opens, counts, follows and finishes a batch."""

from __future__ import annotations

import uuid
from typing import cast

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.engine import Database
from shutterbox.adapters.db.inline_connection import InlineConnection
from shutterbox.adapters.db.tables import batches, jobs
from shutterbox.clock import utcnow
from shutterbox.domain.jobs import JobKind
from shutterbox.ports.jobs import Batch
from shutterbox.ports.metadata import WriteTransaction

QUEUED, RUNNING, FAILED = "queued", "running", "failed"  # the states of a job row


def connection_of(tx: WriteTransaction) -> AsyncConnection:
    """The connection of the caller's metadata transaction (or a bare connection)."""
    conn = tx if isinstance(tx, AsyncConnection) else getattr(tx, "connection", None)
    if isinstance(conn, InlineConnection):  # the same methods, run at once
        return cast(AsyncConnection, conn)
    if not isinstance(conn, AsyncConnection):
        raise TypeError(f"the jobs table needs a metadata database transaction, not {tx!r}")
    return conn


class JobBatches:
    db: Database

    async def open_batch(self, kind: JobKind, selection: str, *, resume: bool = True) -> Batch:
        """The unfinished batch of this kind over this selection (``resume``), or a new one."""
        async with self.db.writer.begin() as conn:
            row = (
                await conn.execute(
                    select(batches)
                    .where(
                        batches.c.kind == str(kind),
                        batches.c.selection == selection,
                        batches.c.finished_at.is_(None),
                    )
                    .order_by(batches.c.created_at.desc())
                    .limit(1)
                )
            ).first()
            if row is not None and resume:
                return Batch(row.id, row.kind, row.selection, row.total, row.created_at, True)
            batch = Batch(uuid.uuid4().hex, str(kind), selection, 0, utcnow(), False)
            await conn.execute(
                batches.insert().values(
                    id=batch.id,
                    kind=batch.kind,
                    selection=selection,
                    total=0,
                    created_at=batch.created_at,
                )
            )
        return batch

    async def count_in_batch(self, tx: WriteTransaction, batch_id: str, added: int) -> int:
        """Count ``added`` more jobs in the batch; its total so far."""
        connection = connection_of(tx)
        await connection.execute(
            update(batches).where(batches.c.id == batch_id).values(total=batches.c.total + added)
        )
        total = await connection.scalar(select(batches.c.total).where(batches.c.id == batch_id))
        return int(total or 0)

    async def finish_batch(self, batch_id: str) -> None:
        async with self.db.writer.begin() as conn:
            await conn.execute(
                update(batches).where(batches.c.id == batch_id).values(finished_at=utcnow())
            )

    async def batch_progress(self, batch_id: str) -> tuple[int, int]:
        """(jobs of the batch still waiting or running, jobs of it that failed for good)."""
        async with self.db.reader.connect() as conn:
            rows = await conn.execute(
                select(jobs.c.state, func.count())
                .where(jobs.c.batch_id == batch_id)
                .group_by(jobs.c.state)
            )
            counts: dict[str, int] = {state: count for state, count in rows}
        return counts.get(QUEUED, 0) + counts.get(RUNNING, 0), counts.get(FAILED, 0)
