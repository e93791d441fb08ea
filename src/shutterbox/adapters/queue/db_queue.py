"""The job queue as a table in the metadata database (the embedded default).

A job is claimed by a single UPDATE that sets a lease; a job whose lease ran out
(its worker died) is claimable again. Completed jobs are deleted; failed ones stay
for inspection.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.engine import Database
from shutterbox.adapters.db.tables import jobs
from shutterbox.clock import utcnow
from shutterbox.ports import Job

QUEUED, RUNNING, FAILED = "queued", "running", "failed"


class DatabaseJobQueue:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._wakeup = asyncio.Event()

    def __repr__(self) -> str:
        return "DatabaseJobQueue()"

    async def enqueue(
        self,
        conn: AsyncConnection,
        kind: str,
        image_id: str,
        payload: dict[str, Any] | None = None,
        delay_seconds: float = 0.0,
    ) -> None:
        now = utcnow()
        await conn.execute(delete(jobs).where(jobs.c.kind == kind, jobs.c.image_id == image_id))
        await conn.execute(
            jobs.insert().values(
                kind=kind,
                image_id=image_id,
                payload=payload or {},
                state=QUEUED,
                attempts=0,
                run_at=now + timedelta(seconds=delay_seconds),
                created_at=now,
                updated_at=now,
            )
        )
        self._wakeup.set()

    def _claimable(self, now: Any) -> Any:
        return or_(
            and_(jobs.c.state == QUEUED, jobs.c.run_at <= now),
            and_(jobs.c.state == RUNNING, jobs.c.lease_expires_at < now),
        )

    async def claim(self, worker_id: str, lease_seconds: float) -> Job | None:
        now = utcnow()
        for _ in range(5):
            async with self.db.writer.begin() as conn:
                candidate = (
                    await conn.execute(
                        select(jobs.c.id)
                        .where(self._claimable(now))
                        .order_by(jobs.c.run_at, jobs.c.id)
                        .limit(1)
                    )
                ).scalar_one_or_none()
                if candidate is None:
                    return None
                row = (
                    await conn.execute(
                        update(jobs)
                        .where(jobs.c.id == candidate, self._claimable(now))
                        .values(
                            state=RUNNING,
                            worker_id=worker_id,
                            attempts=jobs.c.attempts + 1,
                            lease_expires_at=now + timedelta(seconds=lease_seconds),
                            updated_at=now,
                        )
                        .returning(
                            jobs.c.id, jobs.c.kind, jobs.c.image_id, jobs.c.attempts, jobs.c.payload
                        )
                    )
                ).first()
            if row is not None:
                return Job(
                    id=row.id,
                    kind=row.kind,
                    image_id=row.image_id,
                    attempts=row.attempts,
                    payload=dict(row.payload or {}),
                )
        return None

    def _mine(self, job: Job, worker_id: str) -> Any:
        return and_(jobs.c.id == job.id, jobs.c.worker_id == worker_id, jobs.c.state == RUNNING)

    async def extend_lease(self, job: Job, worker_id: str, lease_seconds: float) -> bool:
        now = utcnow()
        async with self.db.writer.begin() as conn:
            result = await conn.execute(
                update(jobs)
                .where(self._mine(job, worker_id))
                .values(lease_expires_at=now + timedelta(seconds=lease_seconds), updated_at=now)
            )
        return result.rowcount == 1

    async def complete(self, job: Job, worker_id: str) -> None:
        async with self.db.writer.begin() as conn:
            await conn.execute(delete(jobs).where(self._mine(job, worker_id)))

    async def retry(self, job: Job, worker_id: str, delay_seconds: float, error: str) -> None:
        now = utcnow()
        async with self.db.writer.begin() as conn:
            await conn.execute(
                update(jobs)
                .where(self._mine(job, worker_id))
                .values(
                    state=QUEUED,
                    worker_id=None,
                    lease_expires_at=None,
                    run_at=now + timedelta(seconds=delay_seconds),
                    last_error=error[:2000],
                    updated_at=now,
                )
            )

    async def fail(self, job: Job, worker_id: str, error: str) -> None:
        async with self.db.writer.begin() as conn:
            await conn.execute(
                update(jobs)
                .where(self._mine(job, worker_id))
                .values(
                    state=FAILED,
                    lease_expires_at=None,
                    last_error=error[:2000],
                    updated_at=utcnow(),
                )
            )

    async def depth(self) -> int:
        async with self.db.reader.connect() as conn:
            count = await conn.scalar(
                select(func.count()).select_from(jobs).where(jobs.c.state.in_([QUEUED, RUNNING]))
            )
        return int(count or 0)

    async def wait_for_work(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout)
        self._wakeup.clear()
