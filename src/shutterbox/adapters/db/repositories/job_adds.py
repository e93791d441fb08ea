"""Adding many jobs at once to the jobs table: the jobs of a batch (``add_batch``) and the
jobs of many subjects in one transaction (``add_many``), a few statements for each thousand
subjects rather than a few for each job."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, select, text

from shutterbox.adapters.db.repositories.job_batches import (
    QUEUED,
    RUNNING,
    JobBatches,
    connection_of,
)
from shutterbox.adapters.db.tables import jobs
from shutterbox.clock import utcnow
from shutterbox.domain.jobs import JobKind, Lane
from shutterbox.ports.metadata import WriteTransaction

NOTIFY_CHANNEL = "shutterbox_jobs"
IDS_PER_STATEMENT = 1_000  # subjects named in one statement (parameters are bounded)


def _queued(kind: JobKind, payload: dict[str, Any], lane: Lane) -> dict[str, Any]:
    """A new job row, due now (its subject to be added)."""
    now = utcnow()
    return {
        "kind": str(kind),
        "payload": payload,
        "state": QUEUED,
        "attempts": 0,
        "run_at": now,
        "created_at": now,
        "updated_at": now,
        "lane": int(lane),
    }


class JobAdds(JobBatches):
    postgres: bool

    async def add_many(
        self,
        tx: WriteTransaction,
        kind: JobKind,
        image_ids: Sequence[str],
        payload: dict[str, Any],
        lane: Lane,
    ) -> list[int]:
        connection = connection_of(tx)
        wanted = list(dict.fromkeys(image_ids))
        row = _queued(kind, payload, lane)
        added: list[int] = []
        for start in range(0, len(wanted), IDS_PER_STATEMENT):
            part = wanted[start : start + IDS_PER_STATEMENT]
            subjects = and_(jobs.c.kind == str(kind), jobs.c.image_id.in_(part))
            await connection.execute(delete(jobs).where(subjects))  # replaced, as by add
            await connection.execute(jobs.insert(), [{**row, "image_id": i} for i in part])
            added += (await connection.execute(select(jobs.c.id).where(subjects))).scalars()
        if added and self.postgres:
            await connection.execute(
                text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL}
            )
        return sorted(added)

    async def add_batch(
        self,
        tx: WriteTransaction,
        kind: JobKind,
        image_ids: Sequence[str],
        payload: dict[str, Any],
        batch_id: str,
    ) -> list[int]:
        """Add a job of this kind in the bulk lane for each image that has none waiting or
        running (those are left as they are: they will do the work anyway)."""
        connection = connection_of(tx)
        taken = set(
            (
                await connection.execute(
                    select(jobs.c.image_id).where(
                        jobs.c.kind == kind,
                        jobs.c.image_id.in_(list(image_ids)),
                        jobs.c.state.in_([QUEUED, RUNNING]),
                    )
                )
            ).scalars()
        )
        wanted = [i for i in image_ids if i not in taken]
        if not wanted:
            return []
        await connection.execute(  # a failed job of the same kind makes way
            delete(jobs).where(jobs.c.kind == kind, jobs.c.image_id.in_(wanted))
        )
        row = {**_queued(kind, payload, Lane.BULK), "batch_id": batch_id}
        await connection.execute(jobs.insert(), [{**row, "image_id": i} for i in wanted])
        ids = await connection.execute(
            select(jobs.c.id).where(jobs.c.kind == kind, jobs.c.image_id.in_(wanted))
        )
        if self.postgres:
            await connection.execute(
                text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL}
            )
        return sorted(ids.scalars())
