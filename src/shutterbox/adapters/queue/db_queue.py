"""The job queue as a table in the metadata database (the default, embedded and scaled).

A job is claimed by an UPDATE that sets a lease; a job whose lease ran out (its worker died)
is claimable again. Completed jobs are deleted; failed ones stay for inspection. On
PostgreSQL the claim skips rows other workers have locked (``FOR UPDATE SKIP LOCKED``) and
idle workers are woken by ``LISTEN/NOTIFY`` the moment a job is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.engine import Database
from shutterbox.adapters.db.tables import jobs
from shutterbox.clock import utcnow
from shutterbox.ports import Job

log = logging.getLogger(__name__)

QUEUED, RUNNING, FAILED = "queued", "running", "failed"
NOTIFY_CHANNEL = "shutterbox_jobs"


class DatabaseJobQueue:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._wakeup = asyncio.Event()
        self._listener: Any = None
        self._listen_lock = asyncio.Lock()
        self._postgres = db.writer.dialect.name == "postgresql"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.db.writer.dialect.name})"

    async def enqueue(
        self,
        conn: AsyncConnection,
        kind: str,
        image_id: str,
        payload: dict[str, Any] | None = None,
        delay_seconds: float = 0.0,
    ) -> int:
        now = utcnow()
        await conn.execute(delete(jobs).where(jobs.c.kind == kind, jobs.c.image_id == image_id))
        job_id = await conn.scalar(
            jobs.insert()
            .values(
                kind=kind,
                image_id=image_id,
                payload=payload or {},
                state=QUEUED,
                attempts=0,
                run_at=now + timedelta(seconds=delay_seconds),
                created_at=now,
                updated_at=now,
            )
            .returning(jobs.c.id)
        )
        if self._postgres:  # delivered to listeners when (and only if) the transaction commits
            await conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
        return int(job_id)

    async def dispatch(self, job_ids: list[int]) -> None:
        """Called after the enqueuing transaction committed."""
        self._wakeup.set()

    def _claimable(self, now: Any) -> Any:
        return or_(
            and_(jobs.c.state == QUEUED, jobs.c.run_at <= now),
            and_(jobs.c.state == RUNNING, jobs.c.lease_expires_at < now),
        )

    async def claim(self, worker_id: str, lease_seconds: float) -> Job | None:
        for _ in range(5):
            now = utcnow()
            async with self.db.writer.begin() as conn:
                candidate = (
                    await conn.execute(
                        select(jobs.c.id)
                        .where(self._claimable(now))
                        .order_by(jobs.c.run_at, jobs.c.id)
                        .limit(1)
                        .with_for_update(skip_locked=True)
                    )
                ).scalar_one_or_none()
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
        self, conn: AsyncConnection, job_id: int, worker_id: str, lease_seconds: float, now: Any
    ) -> Job | None:
        row = (
            await conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, self._claimable(now))
                .values(
                    state=RUNNING,
                    worker_id=worker_id,
                    attempts=jobs.c.attempts + 1,
                    lease_expires_at=now + timedelta(seconds=lease_seconds),
                    updated_at=now,
                )
                .returning(jobs.c.id, jobs.c.kind, jobs.c.image_id, jobs.c.attempts, jobs.c.payload)
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
        )

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
        return bool(result.rowcount == 1)

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
            due = and_(jobs.c.state == QUEUED, jobs.c.run_at <= utcnow())
            count = await conn.scalar(
                select(func.count()).select_from(jobs).where(or_(jobs.c.state == RUNNING, due))
            )
        return int(count or 0)

    async def scheduled(self, conn: AsyncConnection, kind: str, image_id: str) -> bool:
        row = await conn.scalar(
            select(jobs.c.id).where(
                jobs.c.kind == kind,
                jobs.c.image_id == image_id,
                jobs.c.state.in_([QUEUED, RUNNING]),
            )
        )
        return row is not None

    async def check(self) -> None:
        await self.depth()

    async def sweep(self) -> int:
        """Recover work whose delivery was lost; nothing to do when the table is the queue."""
        return 0

    async def wait_for_work(self, timeout: float) -> None:
        if self._postgres and self._listener is None:
            await self._listen()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout)
        self._wakeup.clear()

    async def _listen(self) -> None:
        """One LISTEN connection per queue, shared by the process's workers."""
        import asyncpg

        async with self._listen_lock:
            if self._listener is not None:
                return
            url = self.db.writer.url.set(drivername="postgresql")
            try:
                listener = await asyncpg.connect(url.render_as_string(hide_password=False))
            except (OSError, asyncpg.PostgresError) as error:  # polling still finds the work
                log.warning("LISTEN failed (%s); relying on polling", error)
                return
            try:
                await listener.add_listener(NOTIFY_CHANNEL, lambda *_: self._wakeup.set())
            except BaseException:
                await listener.close()
                raise
            self._listener = listener

    async def close(self) -> None:
        async with self._listen_lock:
            if self._listener is not None:
                with contextlib.suppress(Exception):
                    await self._listener.close()
                self._listener = None
