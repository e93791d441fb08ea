"""Delivery through NATS JetStream, with the jobs table as the source of truth.

A job is still a row, written in the same transaction as the image (a transactional
outbox); once that commits, its id is published to a durable JetStream stream read by one
pull consumer that every worker shares. A worker claims the row the message names (with a
lease, in the job store), keeps the message in progress while it works, and acks only after
the row is committed; a failure naks it with the retry delay. Messages carry no state, so a
duplicate is harmless, and the sweeper republishes jobs whose message was lost (NATS down
at publish time, a crash between commit and publish), so a lost message delays an image but
never loses it.

Every call to the server has a deadline (``timeout_seconds``: connecting, a publish's
acknowledgement, the stream's API) and goes through the queue's circuit breaker: while it is
open, publishing is skipped at once (the rows are committed; the sweeper publishes them once
the breaker lets a trial through) and workers fetch nothing (they wait, and no job is lost).

Bulk work (reprocessing, imports, lifecycle passes) is published on a subject of its own,
read by a second consumer: a worker takes a bulk job only when no other job is waiting, so a
batch never delays new uploads. (A retried job keeps its place in its own subject, delayed
by the nak.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import parse_qs, urlparse

from shutterbox.adapters.queue.republishing import republish_lost
from shutterbox.clock import utcnow
from shutterbox.domain.jobs import Done, Fail, Lane, Outcome, Postpone, Retry
from shutterbox.domain.resilience import CircuitBreaker, DependencyDown, guarded, is_open
from shutterbox.ports import Job, JobStore

log = logging.getLogger(__name__)

DEFAULT_STREAM = "SHUTTERBOX_JOBS"
CONSUMER = "shutterbox-workers"
BULK_CONSUMER = "shutterbox-workers-bulk"


class JetStreamDelivery:
    def __init__(
        self,
        store: JobStore,
        url: str,
        *,
        lease_seconds: float,
        max_attempts: int,
        fetch_timeout: float = 1.0,
        republish_after_seconds: float = 30.0,
        timeout_seconds: float = 5.0,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.store = store
        self.timeout_seconds = timeout_seconds
        self.breaker = breaker
        parsed = urlparse(url)
        self.stream = parse_qs(parsed.query).get("stream", [DEFAULT_STREAM])[0]
        self.subject = f"{self.stream.lower()}.jobs"
        self.bulk_subject = f"{self.stream.lower()}.bulk"
        self.server = parsed._replace(query="").geturl()
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.fetch_timeout = fetch_timeout
        self.republish_after_seconds = republish_after_seconds
        self._nc: Any = None
        self._js: Any = None
        self._connect_lock = asyncio.Lock()
        self._subscriptions: dict[tuple[str, str], Any] = {}
        self._messages: dict[int, Any] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.server}, stream={self.stream})"

    async def jetstream(self) -> Any:
        """The JetStream context, connecting (and making the stream and consumer) once."""
        async with self._connect_lock:
            if self._js is not None:
                return self._js
            import nats
            from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StreamConfig
            from nats.js.errors import BadRequestError

            nc = await nats.connect(
                self.server,
                name="shutterbox",
                connect_timeout=self.timeout_seconds,
                max_reconnect_attempts=-1,
            )
            js = nc.jetstream(timeout=self.timeout_seconds)
            stream = StreamConfig(
                name=self.stream,
                subjects=[self.subject, self.bulk_subject],
                retention=RetentionPolicy.WORK_QUEUE,
            )
            try:
                await js.add_stream(stream)
            except BadRequestError:  # exists with other settings (an older version's)
                await js.update_stream(stream)
            for durable, subject in ((CONSUMER, self.subject), (BULK_CONSUMER, self.bulk_subject)):
                await js.add_consumer(
                    self.stream,
                    ConsumerConfig(
                        durable_name=durable,
                        ack_policy=AckPolicy.EXPLICIT,
                        ack_wait=self.lease_seconds,
                        # "not yet" answers count as deliveries too; the row's attempts decide
                        max_deliver=self.max_attempts * 4 + 10,
                        filter_subject=subject,
                    ),
                )
            self._nc, self._js = nc, js
            return js

    async def check(self) -> None:
        with guarded(self.breaker):
            async with asyncio.timeout(self.timeout_seconds):
                js = await self.jetstream()
                await js.stream_info(self.stream)

    async def dispatch(self, job_ids: list[int], lane: Lane = Lane.NEW) -> None:
        subject = self.bulk_subject if lane == Lane.BULK else self.subject
        try:
            with guarded(self.breaker):
                async with asyncio.timeout(self.timeout_seconds * max(1, len(job_ids))):
                    js = await self.jetstream()
                    for job_id in job_ids:
                        await js.publish(subject, str(job_id).encode())
        except DependencyDown:  # the breaker is open: the sweeper publishes them later
            log.debug("the queue's breaker is open; jobs %s wait for the sweeper", job_ids)
        except Exception as error:  # the row is committed: the sweeper publishes it later
            log.warning("could not publish jobs %s (%s); the sweeper will", job_ids, error)

    async def _subscription(self, worker_id: str, durable: str) -> Any:
        if (worker_id, durable) not in self._subscriptions:
            js = await self.jetstream()
            self._subscriptions[worker_id, durable] = await js.pull_subscribe_bind(
                durable=durable, stream=self.stream
            )
        return self._subscriptions[worker_id, durable]

    async def claim(self, worker_id: str, lease_seconds: float) -> Job | None:
        """A job from the new-work consumer if one is waiting there, else a bulk one;
        none while the breaker is open (the jobs wait in the table)."""
        import nats.errors

        if is_open(self.breaker):
            return None
        for durable, timeout in ((CONSUMER, 0.05), (BULK_CONSUMER, self.fetch_timeout)):
            subscription = await self._subscription(worker_id, durable)
            try:
                messages = await subscription.fetch(1, timeout=timeout)
            except nats.errors.TimeoutError:
                continue
            return await self._claim_from(messages, worker_id, lease_seconds)
        return None

    async def _claim_from(self, messages: Any, worker_id: str, lease_seconds: float) -> Job | None:
        for message in messages:
            try:
                job_id = int(message.data)
            except ValueError:
                await message.term()
                continue
            job = await self.store.claim_by_id(job_id, worker_id, lease_seconds)
            if job is not None:
                self._messages[job.id] = message
                return job
            await self._not_claimable(job_id, message)
        return None

    async def _not_claimable(self, job_id: int, message: Any) -> None:
        """The row is done, gone, or not due yet: ack, or come back when it is due."""
        due = await self.store.claimable_at(job_id)
        if due is None:
            await message.ack()
        else:
            await message.nak(delay=max(0.1, (due - utcnow()).total_seconds() + 0.1))

    async def extended(self, job: Job) -> None:
        message = self._messages.get(job.id)
        if message is not None:
            with contextlib.suppress(Exception):
                await message.in_progress()

    async def settle(self, job: Job, outcome: Outcome) -> None:
        message = self._messages.pop(job.id, None)
        if message is None:
            return
        match outcome:
            case Done():
                how, options = "ack", {}
            case Retry(delay_seconds=delay):
                how, options = "nak", {"delay": delay}
            case Fail():
                how, options = "term", {}
            case Postpone():  # a new message, which waits (nak) until the row is due
                how, options = "ack", {}
        try:
            await getattr(message, how)(**options)
        except Exception as error:  # redelivered later and answered from the row
            log.warning("could not %s the message of job %s (%s)", how, job.id, error)
        if isinstance(outcome, Postpone):
            await self.dispatch([job.id], job.lane)

    async def wait_for_work(self, timeout: float) -> None:
        # claim's fetch already waited for a message, unless the breaker kept it from asking
        await asyncio.sleep(timeout if is_open(self.breaker) else 0)

    async def sweep(self) -> int:
        """Republish jobs that are due but have had no delivery for a while."""
        return await republish_lost(self.store, self.dispatch, self.republish_after_seconds)

    async def close(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                # not drain(): a pending fetch would hold it for the drain timeout, and an
                # unacked message is redelivered to another worker anyway
                await self._nc.close()
            self._nc = self._js = None
            self._subscriptions.clear()
