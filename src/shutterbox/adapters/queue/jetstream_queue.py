"""Jobs delivered through NATS JetStream, with the jobs table as the source of truth.

A job is still a row, written in the same transaction as the image (a transactional
outbox); once that commits, its id is published to a durable JetStream stream read by one
pull consumer that every worker shares. A worker claims the row the message names (with a
lease, as in the database queue), keeps the message in progress while it works, and acks
only after the row is committed; a failure naks it with the retry delay. Messages carry no
state, so a duplicate is harmless, and the sweeper republishes jobs whose message was lost
(NATS down at publish time, a crash between commit and publish), so a lost message delays
an image but never loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from sqlalchemy import and_, or_, select, update

from shutterbox.adapters.db.engine import Database
from shutterbox.adapters.db.tables import jobs
from shutterbox.adapters.queue.db_queue import QUEUED, RUNNING, DatabaseJobQueue
from shutterbox.clock import utcnow
from shutterbox.ports import Job

log = logging.getLogger(__name__)

DEFAULT_STREAM = "SHUTTERBOX_JOBS"
CONSUMER = "shutterbox-workers"


class JetStreamJobQueue(DatabaseJobQueue):
    def __init__(
        self,
        db: Database,
        url: str,
        *,
        lease_seconds: float,
        max_attempts: int,
        fetch_timeout: float = 1.0,
        republish_after_seconds: float = 30.0,
    ) -> None:
        super().__init__(db)
        parsed = urlparse(url)
        self.stream = parse_qs(parsed.query).get("stream", [DEFAULT_STREAM])[0]
        self.subject = f"{self.stream.lower()}.jobs"
        self.server = parsed._replace(query="").geturl()
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.fetch_timeout = fetch_timeout
        self.republish_after_seconds = republish_after_seconds
        self._nc: Any = None
        self._js: Any = None
        self._connect_lock = asyncio.Lock()
        self._subscriptions: dict[str, Any] = {}
        self._messages: dict[int, Any] = {}

    def __repr__(self) -> str:
        return f"JetStreamJobQueue({self.server}, stream={self.stream})"

    async def _jetstream(self) -> Any:
        async with self._connect_lock:
            if self._js is not None:
                return self._js
            import nats
            from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StreamConfig
            from nats.js.errors import BadRequestError

            nc = await nats.connect(
                self.server, name="shutterbox", connect_timeout=2, max_reconnect_attempts=-1
            )
            js = nc.jetstream()
            stream = StreamConfig(
                name=self.stream, subjects=[self.subject], retention=RetentionPolicy.WORK_QUEUE
            )
            try:
                await js.add_stream(stream)
            except BadRequestError:  # exists with other settings: use it as it is
                log.info("using the existing JetStream stream %s", self.stream)
            await js.add_consumer(
                self.stream,
                ConsumerConfig(
                    durable_name=CONSUMER,
                    ack_policy=AckPolicy.EXPLICIT,
                    ack_wait=self.lease_seconds,
                    # "not yet" answers count as deliveries too; the row's attempts decide
                    max_deliver=self.max_attempts * 4 + 10,
                    filter_subject=self.subject,
                ),
            )
            self._nc, self._js = nc, js
            return js

    async def check(self) -> None:
        await super().check()
        async with asyncio.timeout(5):
            js = await self._jetstream()
            await js.stream_info(self.stream)

    async def dispatch(self, job_ids: list[int]) -> None:
        try:
            js = await self._jetstream()
            for job_id in job_ids:
                await js.publish(self.subject, str(job_id).encode())
        except Exception as error:  # the row is committed: the sweeper publishes it later
            log.warning("could not publish jobs %s (%s); the sweeper will", job_ids, error)

    async def _subscription(self, worker_id: str) -> Any:
        if worker_id not in self._subscriptions:
            js = await self._jetstream()
            self._subscriptions[worker_id] = await js.pull_subscribe_bind(
                durable=CONSUMER, stream=self.stream
            )
        return self._subscriptions[worker_id]

    async def claim(self, worker_id: str, lease_seconds: float) -> Job | None:
        import nats.errors

        subscription = await self._subscription(worker_id)
        try:
            messages = await subscription.fetch(1, timeout=self.fetch_timeout)
        except nats.errors.TimeoutError:
            return None
        for message in messages:
            try:
                job_id = int(message.data)
            except ValueError:
                await message.term()
                continue
            job = await self.claim_by_id(job_id, worker_id, lease_seconds)
            if job is not None:
                self._messages[job.id] = message
                return job
            await self._not_claimable(job_id, message)
        return None

    async def _not_claimable(self, job_id: int, message: Any) -> None:
        """The row is done, gone, or not due yet: ack, or come back when it is due."""
        async with self.db.reader.connect() as conn:
            row = (
                await conn.execute(
                    select(jobs.c.state, jobs.c.run_at, jobs.c.lease_expires_at).where(
                        jobs.c.id == job_id
                    )
                )
            ).first()
        now = utcnow()
        due = None
        if row is not None and row.state == QUEUED and row.run_at > now:
            due = row.run_at
        elif row is not None and row.state == RUNNING and row.lease_expires_at is not None:
            due = row.lease_expires_at  # another worker holds it; back if its lease runs out
        if due is None:
            await message.ack()
        else:
            await message.nak(delay=max(0.1, (due - now).total_seconds() + 0.1))

    async def extend_lease(self, job: Job, worker_id: str, lease_seconds: float) -> bool:
        extended = await super().extend_lease(job, worker_id, lease_seconds)
        message = self._messages.get(job.id)
        if extended and message is not None:
            with contextlib.suppress(Exception):
                await message.in_progress()
        return extended

    async def complete(self, job: Job, worker_id: str) -> None:
        await super().complete(job, worker_id)
        await self._settle(job, "ack")

    async def retry(self, job: Job, worker_id: str, delay_seconds: float, error: str) -> None:
        await super().retry(job, worker_id, delay_seconds, error)
        await self._settle(job, "nak", delay=delay_seconds)

    async def fail(self, job: Job, worker_id: str, error: str) -> None:
        await super().fail(job, worker_id, error)
        await self._settle(job, "term")

    async def _settle(self, job: Job, how: str, **options: float) -> None:
        message = self._messages.pop(job.id, None)
        if message is None:
            return
        try:
            await getattr(message, how)(**options)
        except Exception as error:  # redelivered later and answered from the row
            log.warning("could not %s the message of job %s (%s)", how, job.id, error)

    async def wait_for_work(self, timeout: float) -> None:
        await asyncio.sleep(0)  # claim's fetch already waited for a message

    async def sweep(self) -> int:
        """Republish jobs that are due but have had no delivery for a while."""
        now = utcnow()
        stale = now - timedelta(seconds=self.republish_after_seconds)
        lost = or_(
            and_(jobs.c.state == QUEUED, jobs.c.run_at <= stale, jobs.c.updated_at <= stale),
            and_(jobs.c.state == RUNNING, jobs.c.lease_expires_at < stale),
        )
        async with self.db.writer.begin() as conn:
            ids = list((await conn.execute(select(jobs.c.id).where(lost).limit(1000))).scalars())
            if ids:  # so each is republished at most once per period
                await conn.execute(update(jobs).where(jobs.c.id.in_(ids)).values(updated_at=now))
        if ids:
            log.info("republishing %d jobs whose delivery was lost", len(ids))
            await self.dispatch(ids)
        return len(ids)

    async def close(self) -> None:
        await super().close()
        if self._nc is not None:
            with contextlib.suppress(Exception):
                # not drain(): a pending fetch would hold it for the drain timeout, and an
                # unacked message is redelivered to another worker anyway
                await self._nc.close()
            self._nc = self._js = None
            self._subscriptions.clear()
