"""A worker stops once the serving process that started it is gone, and survives an outcome
it could not record."""

from __future__ import annotations

import asyncio
import os
from types import SimpleNamespace
from typing import Any

import pytest

from shutterbox.entrypoints.worker import WorkerPool, stop_when_orphaned
from shutterbox.ports import Job
from shutterbox.services import jobs as registry
from tests.support.settings import make_settings


async def test_keeps_running_while_the_parent_lives():
    stop = asyncio.Event()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(stop_when_orphaned(os.getppid(), stop, every=0.05), 0.3)
    assert not stop.is_set()


async def test_stops_when_the_parent_is_another_process():
    stop = asyncio.Event()
    gone = os.getppid() + 1  # what getppid() answers once the parent died: not the parent
    await asyncio.wait_for(stop_when_orphaned(gone, stop, every=0.05), 5)
    assert stop.is_set()


class _QueueThatLosesARecord:
    """Hands out one job (twice: the second claim is the worker taking it back) and fails to
    record its first outcome, as when the database goes away at that moment."""

    def __init__(self) -> None:
        self.claims = 0
        self.records: list[str] = []

    async def claim(self, worker_id: str, lease_seconds: float) -> Job | None:
        self.claims += 1
        return Job(1, "process_image", "img", self.claims, {}) if self.claims <= 2 else None

    async def record(self, job: Job, worker_id: str, outcome: object) -> None:
        if not self.records:
            self.records.append("lost")
            raise ConnectionError("the database went away")
        self.records.append("recorded")

    async def wait_for_work(self, timeout: float) -> None:
        await asyncio.sleep(0.01)

    async def extend_lease(self, job: Job, worker_id: str, lease_seconds: float) -> bool:
        return True


async def test_a_worker_survives_an_outcome_it_could_not_record(tmp_path, monkeypatch):
    async def work(services: object, job: Job) -> None:
        return None

    monkeypatch.setitem(registry.HANDLERS, "process_image", work)
    queue = _QueueThatLosesARecord()
    services: Any = SimpleNamespace(
        settings=make_settings(tmp_path, job_poll_seconds=0.05, job_lease_seconds=30), queue=queue
    )
    pool = WorkerPool(services, 1)
    pool._tasks.append(asyncio.create_task(pool._run(pool.worker_ids[0])))
    try:
        for _ in range(200):
            if queue.records == ["lost", "recorded"]:
                break
            await asyncio.sleep(0.01)
        assert queue.records == ["lost", "recorded"]  # the same worker ran it again
        assert not pool._tasks[0].done()  # and is still working
    finally:
        await pool.stop()


class _QueueWithOneJob:
    def __init__(self) -> None:
        self.handed_out = False
        self.records: list[object] = []

    async def claim(self, worker_id: str, lease_seconds: float) -> Job | None:
        if self.handed_out:
            return None
        self.handed_out = True
        return Job(1, "process_image", "img", 1, {})

    async def record(self, job: Job, worker_id: str, outcome: object) -> None:
        self.records.append(outcome)

    async def wait_for_work(self, timeout: float) -> None:
        await asyncio.sleep(timeout)

    async def extend_lease(self, job: Job, worker_id: str, lease_seconds: float) -> bool:
        return True


async def test_stopping_lets_a_job_under_way_finish_and_be_recorded(tmp_path, monkeypatch):
    started, finished = asyncio.Event(), asyncio.Event()

    async def work(services: object, job: Job) -> None:
        started.set()
        await asyncio.sleep(0.2)  # the result is being made when the pool is told to stop
        finished.set()

    monkeypatch.setitem(registry.HANDLERS, "process_image", work)
    queue = _QueueWithOneJob()
    services: Any = SimpleNamespace(
        settings=make_settings(tmp_path, job_poll_seconds=5, job_lease_seconds=30), queue=queue
    )
    pool = WorkerPool(services, 2)  # one busy, one idle (waiting for work: stopped at once)
    pool._tasks.extend(asyncio.create_task(pool._run(w)) for w in pool.worker_ids)
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.wait_for(pool.stop(), 3)  # well before the idle worker's 5 s poll
    assert finished.is_set() and len(queue.records) == 1  # not left leased


async def test_a_job_that_outlasts_the_grace_is_cut_short(tmp_path, monkeypatch):
    async def work(services: object, job: Job) -> None:
        await asyncio.sleep(60)

    monkeypatch.setitem(registry.HANDLERS, "process_image", work)
    queue = _QueueWithOneJob()
    services: Any = SimpleNamespace(
        settings=make_settings(tmp_path, job_poll_seconds=5, job_lease_seconds=30), queue=queue
    )
    pool = WorkerPool(services, 1)
    pool._tasks.append(asyncio.create_task(pool._run(pool.worker_ids[0])))
    while not queue.handed_out:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    await asyncio.wait_for(pool.stop(grace_seconds=0.2), 3)
    assert queue.records == []  # cut short: its lease runs out and another worker takes it
