"""Delivery through Kafka, with the jobs table as the source of truth.

The same design as JetStream (``jetstream.py``): a job is a row written in the same
transaction as the image; once that commits, the job's id is published to a topic, keyed by
the image's id (one image's jobs land in one partition). The workers of a deployment share a
consumer group. A worker claims the row a message names (a lease, in the job store), and a
partition's offset is committed only up to the first message not yet settled: a message is
settled once its job's outcome is committed, or once its row turns out not to be claimable.
Messages carry no state, so a duplicate (a rebalance, a crash before a commit) is harmless.

Kafka cannot delay one message, so a job that must wait (a retry's backoff, a postponed or
not yet due job) never holds its partition: its message is settled at once, and this
process publishes the job again when it is due. Nor does Kafka take a message back from a
consumer that stalls: while a job runs, this process keeps a timer at the end of its lease
(moved on at each extension), which publishes the job again if the lease runs out, for
whichever worker is free to take it over. If the process dies first, or a message is
lost (the broker down at publish time, a broker that lost its log), the sweeper republishes
every due job that has had no delivery for a while: a lost message delays an image, it
never loses it.

Bulk work (reprocessing, imports, lifecycle passes) goes to a topic of its own, read by a
consumer group of its own: a worker takes a bulk job only when no new one is waiting.

As on JetStream, every call to the brokers has a deadline (``timeout_seconds``; how the
clients are made to keep it: ``kafka_clients.py``) and the calls that tell whether they
answer (connecting, publishing, the check) go through the queue's circuit breaker: while it
is open, publishing is skipped at once (the rows are committed; the sweeper publishes them
once the breaker lets a trial through), workers fetch nothing and commit no offset (they
wait; no job is lost, a message not committed is only delivered again).

The URL: ``kafka://host:9092[,host2:9092]?topic=shutterbox-jobs`` with, optionally,
``partitions`` and ``replication`` (used when the topics have to be created), ``group``
(the consumer group; one per deployment), ``session_timeout_ms`` (how soon the partitions of
a worker process that died go to the others; 10 s by default, at least what the brokers'
``group.min.session.timeout.ms`` allows), and for a hosted Kafka ``security_protocol``
(``SASL_SSL``, ``SSL``), ``sasl_mechanism`` (``PLAIN``, ``SCRAM-SHA-256``,
``SCRAM-SHA-512``) with the user and password in the URL (``kafka://user:pass@host:9092``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRebalanceListener

from shutterbox.adapters.queue import kafka_clients
from shutterbox.adapters.queue.kafka_settings import KafkaSettings
from shutterbox.adapters.queue.republishing import republish_lost
from shutterbox.clock import utcnow
from shutterbox.domain.jobs import Done, Fail, Lane, Outcome, Postpone, Retry
from shutterbox.domain.resilience import CircuitBreaker, DependencyDown, guarded, is_open
from shutterbox.ports import Job, JobStore

log = logging.getLogger(__name__)

# A claim waits a little longer than a fetch is held open (``FETCH_MAX_WAIT_MS``) for new
# work before it looks at the bulk topic, so that a new upload is not passed over for bulk.
NEW_WORK_WAIT_SECONDS = 0.15


@dataclass
class _Partition:
    """The offsets of one partition handed out and not yet settled."""

    unsettled: set[int] = field(default_factory=set)
    next_offset: int = 0  # one past the highest offset handed out
    committed: int = -1


@dataclass
class _Lane:
    """One topic, its consumer, and what its consumer has handed out."""

    topic: str
    group: str
    consumer: Any = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    partitions: dict[Any, _Partition] = field(default_factory=dict)
    generation: int = 0  # raised at every rebalance: older deliveries commit nothing


@dataclass(frozen=True)
class _Delivery:
    lane: _Lane
    partition: Any
    offset: int
    generation: int


class KafkaDelivery:
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
        self.settings = KafkaSettings.from_url(url)
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.fetch_timeout = fetch_timeout
        self.republish_after_seconds = republish_after_seconds
        self.timeout_seconds = timeout_seconds
        self.breaker = breaker
        self._lanes = {
            Lane.NEW: _Lane(self.settings.topic, self.settings.group),
            Lane.BULK: _Lane(self.settings.bulk_topic, f"{self.settings.group}.bulk"),
        }
        self._producer: Any = None
        self._topics_ready = False
        self._connect_lock = asyncio.Lock()
        self._deliveries: dict[int, _Delivery] = {}
        self._timers: set[asyncio.TimerHandle] = set()
        self._lease_ends: dict[int, asyncio.TimerHandle] = {}
        self._publishing: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        servers = ",".join(self.settings.bootstrap_servers)
        return f"{type(self).__name__}({servers}, topic={self.settings.topic})"

    # Connecting ---------------------------------------------------------------------------

    async def _ensure_topics(self) -> None:
        await kafka_clients.ensure_topics(self.settings, self.timeout_seconds)
        self._topics_ready = True

    async def producer(self) -> Any:
        """The producer, started once (the topics made first); callers bound the wait."""
        async with self._connect_lock:
            if self._producer is None:
                if not self._topics_ready:
                    await self._ensure_topics()
                self._producer = await kafka_clients.start_producer(
                    self.settings, self.timeout_seconds
                )
            return self._producer

    async def _consumer(self, lane: _Lane) -> Any:
        """The lane's consumer, connected within the deadline, through the breaker (held
        under the lane's lock); it goes on joining its group in the background."""
        if lane.consumer is None:
            with guarded(self.breaker):
                async with asyncio.timeout(self.timeout_seconds):
                    if not self._topics_ready:
                        await self._ensure_topics()
                    lane.consumer = await kafka_clients.start_consumer(
                        self.settings,
                        lane.topic,
                        lane.group,
                        _Rebalance(lane),
                        self.timeout_seconds,
                    )
        return lane.consumer

    async def start(self) -> None:
        """Join both consumer groups now, rather than in the first claims: joining a group
        takes a moment."""
        for lane in self._lanes.values():
            async with lane.lock:
                consumer = await self._consumer(lane)
                async with asyncio.timeout(30):
                    while not consumer.assignment():  # the group has handed out partitions
                        await asyncio.sleep(0.05)

    async def check(self) -> None:
        with guarded(self.breaker):
            async with asyncio.timeout(self.timeout_seconds):
                await kafka_clients.broker_answers(await self.producer())

    # Publishing ---------------------------------------------------------------------------

    async def dispatch(self, job_ids: list[int], lane: Lane = Lane.NEW) -> None:
        if not job_ids:
            return
        topic = self._lanes[Lane.BULK if lane == Lane.BULK else Lane.NEW].topic
        try:
            keys = await self.store.subjects(job_ids)
        except Exception as error:  # the rows are committed: the sweeper publishes them later
            log.warning("could not read jobs %s (%s); the sweeper will", job_ids, error)
            return
        try:
            with guarded(self.breaker):
                async with asyncio.timeout(self.timeout_seconds * max(1, len(job_ids))):
                    await self._publish(topic, job_ids, keys)
        except DependencyDown:  # the breaker is open: the sweeper publishes them later
            log.debug("the queue's breaker is open; jobs %s wait for the sweeper", job_ids)
        except Exception as error:  # the rows are committed: the sweeper publishes them later
            log.warning("could not publish jobs %s (%s); the sweeper will", job_ids, error)
            self._topics_ready = False  # a broker that lost its topics gets them again

    async def _publish(self, topic: str, job_ids: list[int], keys: dict[int, str]) -> None:
        producer = await self.producer()
        if not self._topics_ready:
            await self._ensure_topics()
        sent = [
            await producer.send(
                topic, str(job_id).encode(), key=keys.get(job_id, str(job_id)).encode()
            )
            for job_id in job_ids
        ]
        # given up at the deadline, the messages are still the producer's: it sends them, or
        # fails them at its own request timeout (a duplicate of a republished job is harmless)
        await asyncio.gather(*sent)

    def _publish_when_due(
        self, job_id: int, lane: Lane, delay_seconds: float
    ) -> asyncio.TimerHandle:
        """Publish the job again once it is due (the sweeper does it if this process dies)."""
        loop = asyncio.get_running_loop()

        def publish() -> None:
            self._timers.discard(timer)
            task = loop.create_task(self.dispatch([job_id], lane))
            self._publishing.add(task)
            task.add_done_callback(self._publishing.discard)

        timer = loop.call_later(max(0.0, delay_seconds), publish)
        self._timers.add(timer)
        return timer

    def _watch_lease(self, job: Job, lease_seconds: float) -> None:
        """Publish the job again if its lease runs out before it is settled."""
        self._forget_lease(job.id)
        self._lease_ends[job.id] = self._publish_when_due(job.id, job.lane, lease_seconds + 0.1)

    def _forget_lease(self, job_id: int) -> None:
        timer = self._lease_ends.pop(job_id, None)
        if timer is not None:
            timer.cancel()
            self._timers.discard(timer)

    # Consuming ----------------------------------------------------------------------------

    async def claim(self, worker_id: str, lease_seconds: float) -> Job | None:
        """A job from the new-work topic if one is waiting there, else a bulk one; none
        while the breaker is open (the jobs wait in the table)."""
        if is_open(self.breaker):
            return None
        waits = ((Lane.NEW, NEW_WORK_WAIT_SECONDS), (Lane.BULK, self.fetch_timeout))
        for lane, timeout in waits:
            job = await self._claim_from(self._lanes[lane], worker_id, lease_seconds, timeout)
            if job is not None:
                return job
        return None

    async def _claim_from(
        self, lane: _Lane, worker_id: str, lease_seconds: float, timeout: float
    ) -> Job | None:
        async with lane.lock:
            consumer = await self._consumer(lane)
            try:  # held past its wait only while the group shares out partitions anew
                async with asyncio.timeout(timeout + self.timeout_seconds):
                    batches = await consumer.getmany(timeout_ms=int(timeout * 1000), max_records=1)
            except TimeoutError:  # a rebalance, or silent brokers: the next claim asks again
                return None
            records = [(tp, record) for tp, found in batches.items() for record in found]
            for tp, record in records:
                partition = lane.partitions.setdefault(tp, _Partition())
                partition.unsettled.add(record.offset)
                partition.next_offset = max(partition.next_offset, record.offset + 1)
        for tp, record in records:
            delivery = _Delivery(lane, tp, record.offset, lane.generation)
            try:
                job_id = int(record.value)
            except (TypeError, ValueError):
                await self._settle_delivery(delivery)
                continue
            job = await self.store.claim_by_id(job_id, worker_id, lease_seconds)
            if job is not None:
                self._deliveries[job.id] = delivery
                self._watch_lease(job, lease_seconds)
                return job
            await self._not_claimable(job_id, delivery)
        return None

    async def _not_claimable(self, job_id: int, delivery: _Delivery) -> None:
        """The row is done, gone, running elsewhere, or not due yet: settle the message, and
        publish the job again when it is due."""
        due = await self.store.claimable_at(job_id)
        await self._settle_delivery(delivery)
        if due is not None:
            lane = Lane.BULK if delivery.lane is self._lanes[Lane.BULK] else Lane.NEW
            self._publish_when_due(job_id, lane, (due - utcnow()).total_seconds() + 0.1)

    async def _settle_delivery(self, delivery: _Delivery) -> None:
        """Commit the partition's offset up to its first message still unsettled."""
        lane = delivery.lane
        if delivery.generation != lane.generation:
            return  # handed out before a rebalance: the partition may be another's now
        partition = lane.partitions.get(delivery.partition)
        if partition is None:
            return
        partition.unsettled.discard(delivery.offset)
        upto = min(partition.unsettled) if partition.unsettled else partition.next_offset
        if upto <= partition.committed or is_open(self.breaker):
            return  # while the breaker is open, a later settlement commits this one too
        # The client retries a commit the broker cannot take (a broker that lost the topic)
        # without end; a worker must not wait on it: the message is then only delivered again.
        try:
            async with asyncio.timeout(self.timeout_seconds):
                await lane.consumer.commit({delivery.partition: upto})
            partition.committed = upto
        except Exception as error:  # rebalanced meanwhile: the messages come again, harmless
            log.info("could not commit offset %s of %s (%s)", upto, delivery.partition, error)

    async def extended(self, job: Job) -> None:
        if job.id in self._lease_ends:
            self._watch_lease(job, self.lease_seconds)

    async def settle(self, job: Job, outcome: Outcome) -> None:
        self._forget_lease(job.id)
        delivery = self._deliveries.pop(job.id, None)
        if delivery is None:
            return
        await self._settle_delivery(delivery)
        match outcome:
            case Retry(delay_seconds=delay) | Postpone(delay_seconds=delay):
                self._publish_when_due(job.id, job.lane, delay + 0.1)
            case Done() | Fail():
                pass

    async def wait_for_work(self, timeout: float) -> None:
        # claim's fetch already waited for a message, unless the breaker kept it from asking
        await asyncio.sleep(timeout if is_open(self.breaker) else 0)

    async def sweep(self) -> int:
        """Republish jobs that are due but have had no delivery for a while."""
        return await republish_lost(self.store, self.dispatch, self.republish_after_seconds)

    async def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self._lease_ends.clear()
        for task in list(self._publishing):
            task.cancel()
        for lane in self._lanes.values():
            if lane.consumer is not None:
                await kafka_clients.stop(lane.consumer, self.timeout_seconds)
                lane.consumer = None
                lane.partitions.clear()
        if self._producer is not None:
            await kafka_clients.stop(self._producer, self.timeout_seconds)
            self._producer = None


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Forget what was handed out when the group moves partitions: their messages are
    delivered again, to whoever has them now, and answered from the rows."""

    def __init__(self, lane: _Lane) -> None:
        self.lane = lane

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self.lane.generation += 1
        self.lane.partitions.clear()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.lane.generation += 1
        self.lane.partitions.clear()
