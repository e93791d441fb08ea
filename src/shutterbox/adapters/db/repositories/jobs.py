"""The jobs table: the ``JobStore`` of the metadata database, the source of truth for every
job delivery.

A job is claimed by an UPDATE that sets a lease; a job whose lease ran out (its worker died)
is claimable again. Completed jobs are deleted; failed ones stay for inspection. On
PostgreSQL the claim skips rows other workers have locked (``FOR UPDATE SKIP LOCKED``) and
adding a job sends a ``NOTIFY`` on ``NOTIFY_CHANNEL``, delivered when (and only if) the
adding transaction commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.engine import Database
from shutterbox.adapters.db.repositories.job_adds import NOTIFY_CHANNEL, JobAdds
from shutterbox.adapters.db.repositories.job_batches import (
    FAILED,
    QUEUED,
    RUNNING,
)
from shutterbox.adapters.db.repositories.job_batches import (
    connection_of as _connection,
)
from shutterbox.adapters.db.tables import jobs
from shutterbox.clock import utcnow
from shutterbox.domain.jobs import JobKind, Lane
from shutterbox.ports import Job
from shutterbox.ports.metadata import WriteTransaction

# Built once: every upload adds a job.
_DELETE_JOB = delete(jobs).where(
    jobs.c.kind == bindparam("kind"), jobs.c.image_id == bindparam("image_id")
)
_INSERT_JOB = jobs.insert().returning(jobs.c.id)
ERROR_LIMIT = 2000


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(jobs.c.state == QUEUED, jobs.c.run_at <= now),
        and_(jobs.c.state == RUNNING, jobs.c.lease_expires_at < now),
    )


def _abandoned(now: datetime, worker_id: str) -> ColumnElement[bool]:
    """Running jobs nobody is working on: their lease ran out (the worker died), or they are
    leased to the very worker asking for work. A worker runs one job at a time and asks only
    when idle, so a job still leased to it was claimed by a commit whose answer never came
    (the connection dropped): it is taken back at once rather than after its lease."""
    return and_(
        jobs.c.state == RUNNING,
        or_(jobs.c.lease_expires_at < now, jobs.c.worker_id == worker_id),
    )


def _next_candidates(now: datetime, worker_id: str) -> tuple[Select[Any], ...]:
    abandoned = (
        select(jobs.c.id)
        .where(_abandoned(now, worker_id))
        .order_by(jobs.c.lease_expires_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    due = (
        select(jobs.c.id)
        .where(jobs.c.state == QUEUED, jobs.c.run_at <= now)
        .order_by(jobs.c.lane, jobs.c.run_at, jobs.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return abandoned, due


def _mine(job: Job, worker_id: str) -> ColumnElement[bool]:
    return and_(jobs.c.id == job.id, jobs.c.worker_id == worker_id, jobs.c.state == RUNNING)


class DatabaseJobStore(JobAdds):
    """The jobs table of ``db``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.postgres = db.writer.dialect.name == "postgresql"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.db.writer.dialect.name})"

    async def add(
        self,
        tx: WriteTransaction,
        kind: JobKind,
        image_id: str,
        payload: dict[str, Any] | None = None,
        delay_seconds: float = 0.0,
        lane: Lane = Lane.NEW,
    ) -> int:
        connection = _connection(tx)
        now = utcnow()
        await connection.execute(_DELETE_JOB, {"kind": str(kind), "image_id": image_id})
        job_id = await connection.scalar(
            _INSERT_JOB,
            {
                "kind": str(kind),
                "image_id": image_id,
                "payload": payload or {},
                "state": QUEUED,
                "attempts": 0,
                "run_at": now + timedelta(seconds=delay_seconds),
                "created_at": now,
                "updated_at": now,
                "lane": int(lane),
            },
        )
        if self.postgres:  # delivered to listeners when (and only if) the transaction commits
            await connection.execute(
                text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL}
            )
        return int(cast(int, job_id))

    async def scheduled(self, tx: WriteTransaction, kind: JobKind, image_id: str) -> bool:
        row = await _connection(tx).scalar(
            select(jobs.c.id).where(
                jobs.c.kind == kind,
                jobs.c.image_id == image_id,
                jobs.c.state.in_([QUEUED, RUNNING]),
            )
        )
        return row is not None

    async def claim(self, worker_id: str, lease_seconds: float) -> Job | None:
        """A job whose worker died (its lease ran out) first, then the next due job: lowest
        lane, earliest due. Each is one seek of an index, however long the queue."""
        for _ in range(5):
            now = utcnow()
            async with self.db.writer.begin() as conn:
                candidate: int | None = None
                for query in _next_candidates(now, worker_id):
                    candidate = (await conn.execute(query)).scalar_one_or_none()
                    if candidate is not None:
                        break
                if candidate is None:
                    return None
                job = await self._lease(conn, candidate, worker_id, lease_seconds, now)
            if job is not None:
                return job
        return None

    async def claim_by_id(self, job_id: int, worker_id: str, lease_seconds: float) -> Job | None:
        now = utcnow()
        async with self.db.writer.begin() as conn:
            return await self._lease(conn, job_id, worker_id, lease_seconds, now)

    async def _lease(
        self,
        conn: AsyncConnection,
        job_id: int,
        worker_id: str,
        lease_seconds: float,
        now: datetime,
    ) -> Job | None:
        row = (
            await conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, or_(_claimable(now), _abandoned(now, worker_id)))
                .values(
                    state=RUNNING,
                    worker_id=worker_id,
                    attempts=jobs.c.attempts + 1,
                    lease_expires_at=now + timedelta(seconds=lease_seconds),
                    updated_at=now,
                )
                .returning(
                    jobs.c.id,
                    jobs.c.kind,
                    jobs.c.image_id,
                    jobs.c.attempts,
                    jobs.c.payload,
                    jobs.c.lane,
                    jobs.c.batch_id,
                )
            )
        ).first()
        if row is None:
            return None
        return Job(
            id=row.id,
            kind=row.kind,
            image_id=row.image_id,
            attempts=row.attempts,
            payload=dict(row.payload or {}),
            lane=Lane(row.lane),
            batch_id=row.batch_id,
        )

    async def subjects(self, job_ids: Sequence[int]) -> dict[int, str]:
        async with self.db.reader.connect() as conn:
            rows = await conn.execute(
                select(jobs.c.id, jobs.c.image_id).where(jobs.c.id.in_(list(job_ids)))
            )
            return {int(job_id): str(image_id) for job_id, image_id in rows}

    async def claimable_at(self, job_id: int) -> datetime | None:
        async with self.db.reader.connect() as conn:
            row = (
                await conn.execute(
                    select(jobs.c.state, jobs.c.run_at, jobs.c.lease_expires_at).where(
                        jobs.c.id == job_id
                    )
                )
            ).first()
        if row is None:
            return None
        if row.state == QUEUED and row.run_at > utcnow():
            return cast(datetime, row.run_at)
        if row.state == RUNNING and row.lease_expires_at is not None:
            return cast(datetime, row.lease_expires_at)  # back if its worker's lease runs out
        return None

    async def extend_lease(self, job: Job, worker_id: str, lease_seconds: float) -> bool:
        now = utcnow()
        async with self.db.writer.begin() as conn:
            result = await conn.execute(
                update(jobs)
                .where(_mine(job, worker_id))
                .values(lease_expires_at=now + timedelta(seconds=lease_seconds), updated_at=now)
            )
        return bool(result.rowcount == 1)

    async def complete(self, job: Job, worker_id: str) -> None:
        async with self.db.writer.begin() as conn:
            await conn.execute(delete(jobs).where(_mine(job, worker_id)))

    async def retry(self, job: Job, worker_id: str, delay_seconds: float, error: str) -> None:
        """Again after ``delay_seconds``, behind new work (a bulk job stays in its lane)."""
        lane = case((jobs.c.lane < int(Lane.RETRY), int(Lane.RETRY)), else_=jobs.c.lane)
        await self._requeue(
            job, worker_id, delay_seconds, last_error=error[:ERROR_LIMIT], lane=lane
        )

    async def postpone(self, job: Job, worker_id: str, delay_seconds: float) -> None:
        """As if added afresh: no attempts counted, no error."""
        await self._requeue(job, worker_id, delay_seconds, attempts=0, last_error=None)

    async def _requeue(
        self, job: Job, worker_id: str, delay_seconds: float, **values: object
    ) -> None:
        now = utcnow()
        async with self.db.writer.begin() as conn:
            await conn.execute(
                update(jobs)
                .where(_mine(job, worker_id))
                .values(
                    state=QUEUED,
                    worker_id=None,
                    lease_expires_at=None,
                    run_at=now + timedelta(seconds=delay_seconds),
                    updated_at=now,
                    **values,
                )
            )

    async def fail(self, job: Job, worker_id: str, error: str) -> None:
        async with self.db.writer.begin() as conn:
            await conn.execute(
                update(jobs)
                .where(_mine(job, worker_id))
                .values(
                    state=FAILED,
                    lease_expires_at=None,
                    last_error=error[:ERROR_LIMIT],
                    updated_at=utcnow(),
                )
            )

    async def depth(self) -> int:
        async with self.db.reader.connect() as conn:
            due = and_(jobs.c.state == QUEUED, jobs.c.run_at <= utcnow())
            count = await conn.scalar(
                select(func.count()).select_from(jobs).where(or_(jobs.c.state == RUNNING, due))
            )
        return int(count or 0)

    async def waiting_new(self) -> int:
        """Jobs of the new-work lane due and not yet claimed: what a new upload queues behind."""
        async with self.db.reader.connect() as conn:
            count = await conn.scalar(
                select(func.count())
                .select_from(jobs)
                .where(
                    jobs.c.state == QUEUED,
                    jobs.c.lane == int(Lane.NEW),
                    jobs.c.run_at <= utcnow(),
                )
            )
        return int(count or 0)

    async def undelivered(self, older_than_seconds: float) -> dict[Lane, list[int]]:
        """Bulk jobs wait their turn for long by design: they count as lost only after ten
        periods."""
        now = utcnow()
        stale = now - timedelta(seconds=older_than_seconds)
        bulk_stale = now - timedelta(seconds=older_than_seconds * 10)
        waited = or_(
            and_(jobs.c.lane < int(Lane.BULK), jobs.c.run_at <= stale, jobs.c.updated_at <= stale),
            and_(jobs.c.run_at <= bulk_stale, jobs.c.updated_at <= bulk_stale),
        )
        lost = or_(
            and_(jobs.c.state == QUEUED, waited),
            and_(jobs.c.state == RUNNING, jobs.c.lease_expires_at < stale),
        )
        async with self.db.writer.begin() as conn:
            query = select(jobs.c.id, jobs.c.lane).where(lost).limit(1000)
            rows = (await conn.execute(query)).all()
            ids = [row.id for row in rows]
            if ids:  # so each is returned at most once per period
                await conn.execute(update(jobs).where(jobs.c.id.in_(ids)).values(updated_at=now))
        found: dict[Lane, list[int]] = {}
        for row in rows:
            found.setdefault(Lane(row.lane), []).append(row.id)
        return found

    async def check(self) -> None:
        await self.depth()
