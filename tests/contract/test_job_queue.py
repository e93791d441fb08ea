"""The job ports, each suite on every adapter: the job store (the jobs table, on SQLite and
PostgreSQL) and the deliveries (database polling on SQLite and PostgreSQL, NATS JetStream),
each delivery composed with the store into the queue the workers use; and the registry,
one handler for every kind of job."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from shutterbox.adapters.db.engine import Database, open_database
from shutterbox.adapters.db.migrate import upgrade_to_head
from shutterbox.adapters.db.repositories import job_adds
from shutterbox.adapters.db.repositories.jobs import DatabaseJobStore
from shutterbox.adapters.queue import ComposedJobQueue, DatabasePolling
from shutterbox.adapters.queue.jetstream import JetStreamDelivery
from shutterbox.adapters.queue.kafka import KafkaDelivery
from shutterbox.domain.jobs import Done, Fail, JobKind, Lane, Postpone, Retry
from shutterbox.ports import Job, JobStore
from shutterbox.services import jobs as registry
from shutterbox.services.storage import restores
from tests.support.servers import require_nats


@contextlib.asynccontextmanager
async def _open_db(backend: str, request: pytest.FixtureRequest, tmp_path: Path):
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'q.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    db: Database = open_database(url)
    await upgrade_to_head(db)
    try:
        yield db
    finally:
        await db.dispose()


@contextlib.asynccontextmanager
async def _open_queue(kind: str, request: pytest.FixtureRequest, tmp_path: Path):
    backend = "sqlite" if kind == "db-sqlite" else "postgres"
    async with _open_db(backend, request, tmp_path) as db:
        store = DatabaseJobStore(db)
        if kind == "kafka":
            broker = request.getfixturevalue("kafka_broker")
            delivery: JetStreamDelivery | DatabasePolling | KafkaDelivery = KafkaDelivery(
                store,
                broker.queue_url(),
                lease_seconds=0.2,
                max_attempts=5,
                fetch_timeout=0.1,
                republish_after_seconds=0.2,
            )
            await delivery.start()
        elif kind == "nats-jetstream":
            stream = f"SHUTTERBOX_TEST_{uuid.uuid4().hex[:10].upper()}"
            delivery = JetStreamDelivery(
                store,
                f"{require_nats()}?stream={stream}",
                lease_seconds=0.2,
                max_attempts=5,
                fetch_timeout=0.1,
                republish_after_seconds=0.2,
            )
        else:
            delivery = DatabasePolling(store, db)
        job_queue = ComposedJobQueue(store, delivery)
        try:
            yield job_queue
        finally:
            if isinstance(delivery, JetStreamDelivery):
                js = await delivery.jetstream()
                await js.delete_stream(delivery.stream)
            await job_queue.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobStore]:
    async with _open_db(request.param, request, tmp_path) as db:
        yield DatabaseJobStore(db)


@pytest.fixture(params=["db-sqlite", "db-postgres", "nats-jetstream", "kafka"])
async def queue(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ComposedJobQueue]:
    async with _open_queue(request.param, request, tmp_path) as job_queue:
        yield job_queue


@pytest.fixture(params=["db-sqlite", "db-postgres"])
async def db_queue(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[ComposedJobQueue]:
    """The deliveries whose waiting is their own (JetStream's claim blocks on the stream)."""
    async with _open_queue(request.param, request, tmp_path) as job_queue:
        yield job_queue


def _db(store: JobStore) -> Database:
    assert isinstance(store, DatabaseJobStore)
    return store.db


async def _add(store: JobStore, kind: JobKind, image_id: str, delay: float = 0.0) -> int:
    async with _db(store).writer.begin() as conn:
        return await store.add(conn, kind, image_id, {"n": 1}, delay_seconds=delay)


async def _enqueue(queue: ComposedJobQueue, kind: JobKind, image_id: str, delay: float = 0.0):
    await queue.dispatch([await _add(queue.store, kind, image_id, delay)])


async def _claim_within(queue: ComposedJobQueue, worker: str, seconds: float):
    """Claim, trying for up to ``seconds`` (a pushed message may take a moment)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        job = await queue.claim(worker, 30)
        if job is not None:
            return job
        await asyncio.sleep(0.02)
    return None


# The job store: the jobs table, the source of truth.


async def test_store_add_claim_complete(store: JobStore):
    await _add(store, JobKind.PROCESS_IMAGE, "img1")
    assert await store.depth() == 1
    job = await store.claim("w1", 30)
    assert job is not None
    assert (job.kind, job.image_id, job.attempts, job.payload) == (
        "process_image",
        "img1",
        1,
        {"n": 1},
    )
    assert await store.claim("w2", 30) is None  # leased
    await store.complete(job, "w1")
    assert await store.depth() == 0


async def test_store_an_expired_lease_is_claimed_again(store: JobStore):
    await _add(store, JobKind.PROCESS_IMAGE, "img1")
    first = await store.claim("dead-worker", 0.2)
    assert first is not None
    await asyncio.sleep(0.3)
    second = await store.claim("w2", 30)
    assert second is not None and second.id == first.id and second.attempts == 2
    # the dead worker coming back cannot complete a job that is no longer its own
    await store.complete(first, "dead-worker")
    assert await store.depth() == 1
    assert not await store.extend_lease(first, "dead-worker", 30)
    assert await store.extend_lease(second, "w2", 30)


async def test_store_retry_waits_for_its_delay(store: JobStore):
    await _add(store, JobKind.PROCESS_IMAGE, "img1")
    job = await store.claim("w1", 30)
    assert job is not None
    await store.retry(job, "w1", 0.5, "boom")
    assert await store.claim("w1", 30) is None
    assert await store.claimable_at(job.id) is not None
    await asyncio.sleep(0.6)
    again = await store.claim("w1", 30)
    assert again is not None and again.attempts == 2


async def test_store_postponed_jobs_wait_without_counting_an_attempt(store: JobStore):
    await _add(store, JobKind.RESTORE_ORIGINAL, "img1")
    job = await store.claim("w1", 30)
    assert job is not None and job.attempts == 1
    await store.postpone(job, "w1", 0.5)
    assert await store.claim("w1", 30) is None
    await asyncio.sleep(0.6)
    again = await store.claim("w1", 30)
    assert again is not None and again.id == job.id and again.attempts == 1


async def test_store_delayed_jobs_wait(store: JobStore):
    job_id = await _add(store, JobKind.RECLAIM_IMAGE, "img1", delay=0.5)
    assert await store.claim("w1", 30) is None
    assert await store.depth() == 0  # scheduled for later: not work waiting yet
    assert await store.claimable_at(job_id) is not None
    await asyncio.sleep(0.6)
    assert await store.claim_by_id(job_id, "w1", 30) is not None


async def test_store_failed_jobs_leave_the_queue(store: JobStore):
    await _add(store, JobKind.PROCESS_IMAGE, "img1")
    job = await store.claim("w1", 30)
    assert job is not None
    await store.fail(job, "w1", "gave up")
    assert await store.depth() == 0
    assert await store.claim("w1", 30) is None
    assert await store.claimable_at(job.id) is None  # failed: never again


async def test_store_knows_what_is_scheduled(store: JobStore):
    async with _db(store).reader.connect() as conn:
        assert not await store.scheduled(conn, JobKind.LIFECYCLE_PASS, "-")
    await _add(store, JobKind.LIFECYCLE_PASS, "-", delay=60)
    async with _db(store).reader.connect() as conn:
        assert await store.scheduled(conn, JobKind.LIFECYCLE_PASS, "-")
        assert not await store.scheduled(conn, JobKind.PROCESS_IMAGE, "-")


async def test_store_concurrent_claims_never_share_a_job(store: JobStore):
    for n in range(20):
        await _add(store, JobKind.PROCESS_IMAGE, f"img{n}")

    claimed: list[int] = []

    async def claimer(name: str) -> None:
        deadline = asyncio.get_running_loop().time() + 10
        for attempt in itertools.count():
            if len(claimed) >= 20 or asyncio.get_running_loop().time() >= deadline:
                break
            # a worker asks only when idle: each claim here is a worker of its own
            job = await store.claim(f"{name}.{attempt}", 30)
            if job is not None:
                claimed.append(job.id)

    await asyncio.gather(*[claimer(f"w{n}") for n in range(5)])
    assert len(claimed) == 20
    assert len(set(claimed)) == 20  # none claimed twice while its lease holds


async def test_store_finds_undelivered_jobs_once_per_period(store: JobStore):
    job_id = await _add(store, JobKind.PROCESS_IMAGE, "orphan")
    assert await store.undelivered(0.2) == {}  # just added: its delivery may be on its way
    await asyncio.sleep(0.3)
    assert await store.undelivered(0.2) == {Lane.NEW: [job_id]}
    assert await store.undelivered(0.2) == {}  # returned: not again until the period passes


async def test_store_check_passes_when_reachable(store: JobStore):
    await store.check()


# The deliveries, each composed with the store into the workers' queue.


async def test_enqueue_claim_complete(queue: ComposedJobQueue):
    await _enqueue(queue, JobKind.PROCESS_IMAGE, "img1")
    assert await queue.depth() == 1
    job = await queue.claim("w1", 30)
    assert job is not None
    assert (job.kind, job.image_id, job.attempts, job.payload) == (
        "process_image",
        "img1",
        1,
        {"n": 1},
    )
    assert await queue.claim("w2", 30) is None  # leased
    await queue.complete(job, "w1")
    assert await queue.depth() == 0


async def test_an_expired_lease_is_claimed_again(queue: ComposedJobQueue):
    await _enqueue(queue, JobKind.PROCESS_IMAGE, "img1")
    first = await queue.claim("dead-worker", 0.2)
    assert first is not None
    await asyncio.sleep(0.3)
    second = await _claim_within(queue, "w2", 2.0)
    assert second is not None and second.id == first.id and second.attempts == 2
    # the dead worker coming back cannot complete a job that is no longer its own
    await queue.complete(first, "dead-worker")
    assert await queue.depth() == 1
    assert not await queue.extend_lease(first, "dead-worker", 30)
    assert await queue.extend_lease(second, "w2", 30)


async def test_retry_waits_for_its_delay(queue: ComposedJobQueue):
    await _enqueue(queue, JobKind.PROCESS_IMAGE, "img1")
    job = await queue.claim("w1", 30)
    assert job is not None
    await queue.retry(job, "w1", 0.5, "boom")
    assert await queue.claim("w1", 30) is None
    await asyncio.sleep(0.6)
    again = await _claim_within(queue, "w1", 2.0)
    assert again is not None and again.attempts == 2


async def test_delayed_jobs_wait(queue: ComposedJobQueue):
    await _enqueue(queue, JobKind.RECLAIM_IMAGE, "img1", delay=0.5)
    assert await queue.claim("w1", 30) is None
    assert await queue.depth() == 0  # scheduled for later: not work waiting yet
    await asyncio.sleep(0.6)
    assert await _claim_within(queue, "w1", 2.0) is not None


async def test_failed_jobs_leave_the_queue(queue: ComposedJobQueue):
    await _enqueue(queue, JobKind.PROCESS_IMAGE, "img1")
    job = await queue.claim("w1", 30)
    assert job is not None
    await queue.fail(job, "w1", "gave up")
    assert await queue.depth() == 0
    assert await queue.claim("w1", 30) is None


async def test_concurrent_claims_never_share_a_job(queue: ComposedJobQueue):
    for n in range(20):
        await _enqueue(queue, JobKind.PROCESS_IMAGE, f"img{n}")

    claimed: list[int] = []

    async def claimer(name: str) -> None:
        deadline = asyncio.get_running_loop().time() + 10
        for attempt in itertools.count():
            if len(claimed) >= 20 or asyncio.get_running_loop().time() >= deadline:
                break
            # a worker asks only when idle: each claim here is a worker of its own
            job = await queue.claim(f"{name}.{attempt}", 30)
            if job is not None:
                claimed.append(job.id)

    await asyncio.gather(*[claimer(f"w{n}") for n in range(5)])
    assert len(claimed) == 20
    assert len(set(claimed)) == 20  # none claimed twice while its lease holds


async def test_wait_for_work_wakes_on_enqueue(db_queue: ComposedJobQueue):
    queue = db_queue
    await queue.wait_for_work(0.01)  # starts listening where the delivery listens
    waiter = asyncio.create_task(queue.wait_for_work(5))
    await asyncio.sleep(0.05)
    await _enqueue(queue, JobKind.PROCESS_IMAGE, "img1")
    async with asyncio.timeout(1):
        await waiter


async def test_a_job_from_another_process_wakes_a_waiting_worker(db_queue: ComposedJobQueue):
    """On PostgreSQL the wake-up comes through LISTEN/NOTIFY, not this process's memory."""
    queue = db_queue
    db = _db(queue.store)
    if db.writer.dialect.name != "postgresql":
        return  # SQLite is one machine: other processes are found by polling
    other = DatabaseJobStore(db)  # another node: its own store, no dispatch to this one
    await queue.wait_for_work(0.01)
    waiter = asyncio.create_task(queue.wait_for_work(5))
    await asyncio.sleep(0.05)
    async with db.writer.begin() as conn:
        await other.add(conn, JobKind.PROCESS_IMAGE, "elsewhere")
    async with asyncio.timeout(1):
        await waiter


async def test_a_lost_delivery_is_swept_up(queue: ComposedJobQueue):
    """A job committed but never delivered (the process died before publishing) is found."""
    await _add(queue.store, JobKind.PROCESS_IMAGE, "orphan")  # and no dispatch
    await asyncio.sleep(0.3)
    await queue.sweep()
    job = await _claim_within(queue, "w1", 3.0)
    assert job is not None and job.image_id == "orphan"


async def test_a_postponed_job_is_delivered_again(queue: ComposedJobQueue):
    """Checking later is not a failure: the same job comes back, its attempts not counted."""
    await _enqueue(queue, JobKind.RESTORE_ORIGINAL, "img1")
    job = await queue.claim("w1", 30)
    assert job is not None
    await queue.record(job, "w1", Postpone(0.3))
    assert await queue.claim("w1", 30) is None
    again = await _claim_within(queue, "w1", 3.0)
    assert again is not None and again.id == job.id and again.attempts == 1


async def test_check_passes_when_reachable(queue: ComposedJobQueue):
    await queue.check()


async def test_check_fails_when_nats_is_unreachable(tmp_path: Path):
    db = open_database(f"sqlite+aiosqlite:///{tmp_path / 'q.db'}")
    await upgrade_to_head(db)
    store = DatabaseJobStore(db)
    dead = ComposedJobQueue(
        store, JetStreamDelivery(store, "nats://127.0.0.1:1", lease_seconds=5, max_attempts=3)
    )
    try:
        with pytest.raises(Exception):  # noqa: B017 - any connection error will do
            await dead.check()
    finally:
        await dead.close()
        await db.dispose()


# The registry.


def test_every_job_kind_has_exactly_one_handler():
    declared = Counter(handler.kind for handler in registry.DECLARED)
    assert declared == Counter(set(JobKind))
    assert set(registry.HANDLERS) == set(JobKind)


def _settings_only(max_attempts: int = 3, base: float = 0.5) -> Any:
    """Enough of Services for the registry's policy (the work itself is replaced)."""
    return SimpleNamespace(
        settings=SimpleNamespace(job_max_attempts=max_attempts, job_retry_base_seconds=base)
    )


async def test_a_failing_job_is_retried_with_backoff_then_given_up(
    monkeypatch: pytest.MonkeyPatch,
):
    async def broken(services: Any, job: Job) -> None:
        raise ConnectionError("store unavailable")

    monkeypatch.setitem(registry.HANDLERS, JobKind.PURGE_MEDIA, broken)
    services = _settings_only()
    outcomes = [
        await registry.run(services, Job(1, JobKind.PURGE_MEDIA, "img1", attempts, {}))
        for attempts in (1, 2, 3)
    ]
    error = "ConnectionError: store unavailable"
    assert outcomes == [Retry(0.5, error), Retry(1.0, error), Fail(error)]


async def test_a_restore_under_way_postpones_its_job(monkeypatch: pytest.MonkeyPatch):
    async def under_way(services: Any, image_id: str) -> None:
        raise restores.CheckLater(42, "the restore is under way")

    monkeypatch.setattr(restores, "restore_original", under_way)
    job = Job(1, JobKind.RESTORE_ORIGINAL, "img1", 3, {})
    assert await registry.run(_settings_only(), job) == Postpone(42)


async def test_a_job_of_an_unknown_kind_fails():
    outcome = await registry.run(_settings_only(), Job(1, "no_such_kind", "img1", 1, {}))
    assert isinstance(outcome, Fail) and "no handler" in outcome.error


# Lanes: new work first, then retries, then bulk work, on every delivery.


async def _enqueue_bulk(queue: ComposedJobQueue, image_ids: list[str], batch_id: str) -> list[int]:
    async with _db(queue.store).writer.begin() as conn:
        ids = await queue.enqueue_batch(conn, JobKind.PROCESS_IMAGE, image_ids, {}, batch_id)
    await queue.dispatch(ids, Lane.BULK)
    return ids


async def test_a_new_job_overtakes_queued_bulk_jobs(queue: ComposedJobQueue):
    batch = await queue.open_batch(JobKind.PROCESS_IMAGE, "all")
    bulk = await _enqueue_bulk(queue, [f"old{n}" for n in range(5)], batch.id)
    assert len(bulk) == 5
    first = await _claim_within(queue, "w", 5)
    assert first is not None and first.lane == Lane.BULK  # nothing else is waiting
    await queue.record(first, "w", Done())

    await _enqueue(queue, JobKind.PROCESS_IMAGE, "fresh-upload")
    taken = await _claim_within(queue, "w", 5)
    assert taken is not None
    assert (taken.image_id, taken.lane) == ("fresh-upload", Lane.NEW)
    await queue.record(taken, "w", Done())

    rest = []
    while len(rest) < 4 and (job := await _claim_within(queue, "w", 5)) is not None:
        rest.append(job.image_id)
        await queue.record(job, "w", Done())
    # in any order: a delivery with partitions (Kafka) hands them out partition by partition
    assert sorted([first.image_id, *rest]) == [f"old{n}" for n in range(5)]
    assert await queue.batch_progress(batch.id) == (0, 0)


async def test_claims_follow_the_lanes_in_the_store(store: JobStore):
    batch = await store.open_batch(JobKind.PROCESS_IMAGE, "all")
    async with _db(store).writer.begin() as conn:
        await store.add_batch(conn, JobKind.PROCESS_IMAGE, ["bulk"], {}, batch.id)
    failing = await _add(store, JobKind.RECLAIM_IMAGE, "failing")
    job = await store.claim("w", 30)
    assert job is not None and job.id == failing
    await store.retry(job, "w", 0.0, "boom")  # due again at once, but behind new work
    await _add(store, JobKind.PROCESS_IMAGE, "new")
    order = []
    while (job := await store.claim("w", 30)) is not None:
        order.append((job.image_id, job.lane))
        await store.complete(job, "w")
    assert order == [("new", Lane.NEW), ("failing", Lane.RETRY), ("bulk", Lane.BULK)]


async def test_a_batch_skips_images_already_waiting_and_resumes(store: JobStore):
    waiting = await _add(store, JobKind.PROCESS_IMAGE, "a")  # a new upload's job
    batch = await store.open_batch(JobKind.PROCESS_IMAGE, "all")
    assert not batch.resumed
    async with _db(store).writer.begin() as conn:
        added = await store.add_batch(conn, JobKind.PROCESS_IMAGE, ["a", "b", "c"], {}, batch.id)
        assert await store.count_in_batch(conn, batch.id, len(added)) == 2
    assert waiting not in added and len(added) == 2
    again = await store.open_batch(JobKind.PROCESS_IMAGE, "all")
    assert again.resumed and again.id == batch.id and again.total == 2
    async with _db(store).writer.begin() as conn:  # asked again: nothing doubled
        assert await store.add_batch(conn, JobKind.PROCESS_IMAGE, ["b", "c"], {}, batch.id) == []
    assert await store.batch_progress(batch.id) == (2, 0)
    await store.finish_batch(batch.id)
    assert not (await store.open_batch(JobKind.PROCESS_IMAGE, "all")).resumed


async def test_a_worker_takes_back_a_job_whose_claim_answer_it_lost(store: JobStore):
    """The claim committed but its answer never came back (the connection dropped): the job is
    leased to a worker that does not know it. When that worker, idle, asks again, it gets the
    job back at once; no other worker takes it while the lease holds."""
    job_id = await _add(store, JobKind.PROCESS_IMAGE, "lost-answer")
    first = await store.claim("w", 30)
    assert first is not None and first.id == job_id  # ... and the answer is lost
    assert await store.claim("v", 30) is None
    again = await store.claim("w", 30)
    assert again is not None and again.id == job_id and again.attempts == 2
    await store.complete(again, "w")
    assert await store.claim("w", 30) is None


async def test_many_jobs_are_added_at_once_replacing_their_subjects_jobs(
    store: JobStore, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(job_adds, "IDS_PER_STATEMENT", 2)  # 5 subjects: three statements each
    earlier = await _add(store, JobKind.RECLAIM_IMAGE, "s1")
    other_kind = await _add(store, JobKind.PROCESS_IMAGE, "s2")
    subjects = [f"s{n}" for n in range(5)]
    async with _db(store).writer.begin() as conn:
        added = await store.add_many(
            conn, JobKind.RECLAIM_IMAGE, [*subjects, "s1"], {"with_account": True}, Lane.BULK
        )
    assert len(added) == 5 and earlier not in added  # one job a subject, the earlier replaced
    taken = []
    while (job := await store.claim("w", 30)) is not None:
        taken.append((job.kind, job.image_id, job.lane, job.payload))
        await store.complete(job, "w")
    assert taken[0] == ("process_image", "s2", Lane.NEW, {"n": 1})  # another kind's: untouched
    assert sorted(taken[1:]) == [
        ("reclaim_image", s, Lane.BULK, {"with_account": True}) for s in subjects
    ]
    assert other_kind not in added
