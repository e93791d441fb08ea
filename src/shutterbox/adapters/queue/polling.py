"""Delivery by polling the jobs table (the default, embedded and scaled).

Idle workers claim the next due row themselves, waking every ``job_poll_seconds``; a job
added in this process wakes them at once, and on PostgreSQL so does one added anywhere
(``LISTEN`` on the channel the job store ``NOTIFY``s at commit). Nothing can be lost in
delivery: the table is the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from shutterbox.adapters.db.engine import Database
from shutterbox.adapters.db.repositories.job_adds import NOTIFY_CHANNEL
from shutterbox.domain.jobs import Lane, Outcome
from shutterbox.ports import Job, JobStore

log = logging.getLogger(__name__)


class DatabasePolling:
    """Workers claim from ``store`` directly; ``db`` is where PostgreSQL wake-ups come from."""

    def __init__(self, store: JobStore, db: Database) -> None:
        self.store = store
        self.db = db
        self._wakeup = asyncio.Event()
        self._listener: Any = None
        self._listen_lock = asyncio.Lock()
        self._postgres = db.writer.dialect.name == "postgresql"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.db.writer.dialect.name})"

    async def dispatch(self, job_ids: list[int], lane: Lane = Lane.NEW) -> None:
        """Called after the adding transaction committed (the claim orders by lane)."""
        self._wakeup.set()

    async def claim(self, worker_id: str, lease_seconds: float) -> Job | None:
        return await self.store.claim(worker_id, lease_seconds)

    async def extended(self, job: Job) -> None:
        """The lease is the row's: nothing else to keep."""

    async def settle(self, job: Job, outcome: Outcome) -> None:
        """The row is the delivery: nothing else to settle."""

    async def sweep(self) -> int:
        """Nothing can be lost in delivery when the table is the queue."""
        return 0

    async def check(self) -> None:
        """Reachable when the job store is."""

    async def wait_for_work(self, timeout: float) -> None:
        if self._postgres and self._listener is None:
            await self._listen()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout)
        self._wakeup.clear()

    async def _listen(self) -> None:
        """One LISTEN connection per delivery, shared by the process's workers."""
        import asyncpg

        async with self._listen_lock:
            if self._listener is not None:
                return
            url = self.db.writer.url.set(drivername="postgresql")
            try:
                listener = await asyncpg.connect(
                    url.render_as_string(hide_password=False),
                    timeout=self.db.connect_timeout_seconds,
                )
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
