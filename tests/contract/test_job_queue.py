"""One suite, every JobQueue adapter."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shutterbox.adapters.db.engine import Database, open_database
from shutterbox.adapters.db.migrate import upgrade_to_head
from shutterbox.adapters.queue import DatabaseJobQueue
from shutterbox.adapters.queue.jetstream_queue import JetStreamJobQueue
from shutterbox.ports import JobQueue
from tests.support.servers import require_nats


@contextlib.asynccontextmanager
async def _open_queue(kind: str, request: pytest.FixtureRequest, tmp_path: Path):
    if kind == "db-sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'q.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    db: Database = open_database(url)
    await upgrade_to_head(db)
    job_queue: DatabaseJobQueue
    if kind == "nats-jetstream":
        stream = f"SHUTTERBOX_TEST_{uuid.uuid4().hex[:10].upper()}"
        job_queue = JetStreamJobQueue(
            db,
            f"{require_nats()}?stream={stream}",
            lease_seconds=0.2,
            max_attempts=5,
            fetch_timeout=0.1,
            republish_after_seconds=0.2,
        )
    else:
        job_queue = DatabaseJobQueue(db)
    try:
        yield job_queue
    finally:
        if isinstance(job_queue, JetStreamJobQueue):
            js = await job_queue._jetstream()
            await js.delete_stream(job_queue.stream)
        await job_queue.close()
        await db.dispose()


@pytest.fixture(params=["db-sqlite", "db-postgres", "nats-jetstream"])
async def queue(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobQueue]:
    async with _open_queue(request.param, request, tmp_path) as job_queue:
        yield job_queue


@pytest.fixture(params=["db-sqlite", "db-postgres"])
async def db_queue(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobQueue]:
    """The queues whose waiting is their own (JetStream's claim blocks on the stream)."""
    async with _open_queue(request.param, request, tmp_path) as job_queue:
        yield job_queue


async def _enqueue(queue: JobQueue, kind: str, image_id: str, delay: float = 0.0) -> None:
    assert isinstance(queue, DatabaseJobQueue)
    async with queue.db.writer.begin() as conn:
        job_id = await queue.enqueue(conn, kind, image_id, {"n": 1}, delay_seconds=delay)
    await queue.dispatch([job_id])


async def test_enqueue_claim_complete(queue: JobQueue):
    await _enqueue(queue, "process_image", "img1")
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


async def test_an_expired_lease_is_claimed_again(queue: JobQueue):
    await _enqueue(queue, "process_image", "img1")
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


async def test_retry_waits_for_its_delay(queue: JobQueue):
    await _enqueue(queue, "process_image", "img1")
    job = await queue.claim("w1", 30)
    assert job is not None
    await queue.retry(job, "w1", 0.5, "boom")
    assert await queue.claim("w1", 30) is None
    await asyncio.sleep(0.6)
    again = await _claim_within(queue, "w1", 2.0)
    assert again is not None and again.attempts == 2


async def test_delayed_jobs_wait(queue: JobQueue):
    await _enqueue(queue, "reclaim_image", "img1", delay=0.5)
    assert await queue.claim("w1", 30) is None
    assert await queue.depth() == 0  # scheduled for later: not work waiting yet
    await asyncio.sleep(0.6)
    assert await _claim_within(queue, "w1", 2.0) is not None


async def test_failed_jobs_leave_the_queue(queue: JobQueue):
    await _enqueue(queue, "process_image", "img1")
    job = await queue.claim("w1", 30)
    assert job is not None
    await queue.fail(job, "w1", "gave up")
    assert await queue.depth() == 0
    assert await queue.claim("w1", 30) is None


async def test_concurrent_claims_never_share_a_job(queue: JobQueue):
    for n in range(20):
        await _enqueue(queue, "process_image", f"img{n}")

    claimed: list[int] = []

    async def claimer(name: str) -> None:
        deadline = asyncio.get_running_loop().time() + 10
        while len(claimed) < 20 and asyncio.get_running_loop().time() < deadline:
            job = await queue.claim(name, 30)
            if job is not None:
                claimed.append(job.id)

    await asyncio.gather(*[claimer(f"w{n}") for n in range(5)])
    assert len(claimed) == 20
    assert len(set(claimed)) == 20  # none claimed twice while its lease holds


async def test_wait_for_work_wakes_on_enqueue(db_queue: JobQueue):
    queue = db_queue
    await queue.wait_for_work(0.01)  # starts listening where the queue listens
    waiter = asyncio.create_task(queue.wait_for_work(5))
    await asyncio.sleep(0.05)
    await _enqueue(queue, "process_image", "img1")
    async with asyncio.timeout(1):
        await waiter


async def test_a_job_from_another_process_wakes_a_waiting_worker(db_queue: JobQueue):
    queue = db_queue
    """On PostgreSQL the wake-up comes through LISTEN/NOTIFY, not this process's memory."""
    assert isinstance(queue, DatabaseJobQueue)
    if queue.db.writer.dialect.name != "postgresql":
        return  # SQLite is one machine: other processes are found by polling
    other = DatabaseJobQueue(queue.db)  # another node: its own in-memory wake-up
    await queue.wait_for_work(0.01)
    waiter = asyncio.create_task(queue.wait_for_work(5))
    await asyncio.sleep(0.05)
    async with other.db.writer.begin() as conn:
        await other.enqueue(conn, "process_image", "elsewhere")
    async with asyncio.timeout(1):
        await waiter


async def _claim_within(queue: JobQueue, worker: str, seconds: float):
    """Claim, trying for up to ``seconds`` (a pushed message may take a moment)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        job = await queue.claim(worker, 30)
        if job is not None:
            return job
        await asyncio.sleep(0.02)
    return None


async def test_a_lost_delivery_is_swept_up(queue: JobQueue):
    """A job committed but never delivered (the process died before publishing) is found."""
    assert isinstance(queue, DatabaseJobQueue)
    async with queue.db.writer.begin() as conn:
        await queue.enqueue(conn, "process_image", "orphan")  # and no dispatch
    await asyncio.sleep(0.3)
    await queue.sweep()
    job = await _claim_within(queue, "w1", 3.0)
    assert job is not None and job.image_id == "orphan"


async def test_check_passes_when_reachable(queue: JobQueue):
    await queue.check()


async def test_check_fails_when_nats_is_unreachable(tmp_path: Path):
    db = open_database(f"sqlite+aiosqlite:///{tmp_path / 'q.db'}")
    await upgrade_to_head(db)
    dead = JetStreamJobQueue(db, "nats://127.0.0.1:1", lease_seconds=5, max_attempts=3)
    try:
        with pytest.raises(Exception):  # noqa: B017 - any connection error will do
            await dead.check()
    finally:
        await dead.close()
        await db.dispose()
