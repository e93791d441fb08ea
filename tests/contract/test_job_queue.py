"""One suite, every JobQueue adapter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shutterbox.adapters.db.engine import Database, open_database
from shutterbox.adapters.db.migrate import upgrade_to_head
from shutterbox.adapters.queue import DatabaseJobQueue
from shutterbox.ports import JobQueue


@pytest.fixture(params=["db-sqlite", "db-postgres"])
async def queue(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobQueue]:
    if request.param == "db-sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'q.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    db: Database = open_database(url)
    await upgrade_to_head(db)
    job_queue = DatabaseJobQueue(db)
    yield job_queue
    await job_queue.close()
    await db.dispose()


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
    second = await queue.claim("w2", 30)
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
    await queue.retry(job, "w1", 0.3, "boom")
    assert await queue.claim("w1", 30) is None
    await asyncio.sleep(0.35)
    again = await queue.claim("w1", 30)
    assert again is not None and again.attempts == 2


async def test_delayed_jobs_wait(queue: JobQueue):
    await _enqueue(queue, "reclaim_image", "img1", delay=0.3)
    assert await queue.claim("w1", 30) is None
    await asyncio.sleep(0.35)
    assert await queue.claim("w1", 30) is not None


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

    async def claimer(name: str) -> list[int]:
        got = []
        while (job := await queue.claim(name, 30)) is not None:
            got.append(job.id)
        return got

    results = await asyncio.gather(*[claimer(f"w{n}") for n in range(5)])
    claimed = [job_id for got in results for job_id in got]
    assert len(claimed) == 20
    assert len(set(claimed)) == 20


async def test_wait_for_work_wakes_on_enqueue(queue: JobQueue):
    await queue.wait_for_work(0.01)  # starts listening where the queue listens
    waiter = asyncio.create_task(queue.wait_for_work(5))
    await asyncio.sleep(0.05)
    await _enqueue(queue, "process_image", "img1")
    async with asyncio.timeout(1):
        await waiter


async def test_a_job_from_another_process_wakes_a_waiting_worker(queue: JobQueue):
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
