"""The job queue: one job store (the jobs table) and one delivery, in the shapes the
services and the worker use. Every settlement is recorded in the store first and only then
passed to the delivery (ack after commit)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shutterbox.domain.jobs import Done, Fail, JobKind, Lane, Outcome, Postpone, Retry
from shutterbox.ports import Job, JobDelivery, JobStore
from shutterbox.ports.jobs import Batch
from shutterbox.ports.metadata import WriteTransaction


class ComposedJobQueue:
    def __init__(self, store: JobStore, delivery: JobDelivery) -> None:
        self.store = store
        self.delivery = delivery

    def __repr__(self) -> str:
        return f"JobQueue({self.store!r}, {self.delivery!r})"

    async def enqueue(
        self,
        tx: WriteTransaction,
        kind: JobKind,
        image_id: str,
        payload: dict[str, Any] | None = None,
        delay_seconds: float = 0.0,
        lane: Lane = Lane.NEW,
    ) -> int:
        return await self.store.add(tx, kind, image_id, payload, delay_seconds, lane)

    async def enqueue_batch(
        self,
        tx: WriteTransaction,
        kind: JobKind,
        image_ids: Sequence[str],
        payload: dict[str, Any],
        batch_id: str,
    ) -> list[int]:
        return await self.store.add_batch(tx, kind, image_ids, payload, batch_id)

    async def enqueue_many(
        self,
        tx: WriteTransaction,
        kind: JobKind,
        image_ids: Sequence[str],
        payload: dict[str, Any],
        lane: Lane,
    ) -> list[int]:
        return await self.store.add_many(tx, kind, image_ids, payload, lane)

    async def open_batch(self, kind: JobKind, selection: str, *, resume: bool = True) -> Batch:
        return await self.store.open_batch(kind, selection, resume=resume)

    async def count_in_batch(self, tx: WriteTransaction, batch_id: str, added: int) -> int:
        return await self.store.count_in_batch(tx, batch_id, added)

    async def finish_batch(self, batch_id: str) -> None:
        await self.store.finish_batch(batch_id)

    async def batch_progress(self, batch_id: str) -> tuple[int, int]:
        return await self.store.batch_progress(batch_id)

    async def dispatch(self, job_ids: list[int], lane: Lane = Lane.NEW) -> None:
        await self.delivery.dispatch(job_ids, lane)

    async def scheduled(self, tx: WriteTransaction, kind: JobKind, image_id: str) -> bool:
        return await self.store.scheduled(tx, kind, image_id)

    async def claim(self, worker_id: str, lease_seconds: float) -> Job | None:
        return await self.delivery.claim(worker_id, lease_seconds)

    async def extend_lease(self, job: Job, worker_id: str, lease_seconds: float) -> bool:
        extended = await self.store.extend_lease(job, worker_id, lease_seconds)
        if extended:
            await self.delivery.extended(job)
        return extended

    async def record(self, job: Job, worker_id: str, outcome: Outcome) -> None:
        match outcome:
            case Done():
                await self.store.complete(job, worker_id)
            case Retry(delay_seconds=delay, error=error):
                await self.store.retry(job, worker_id, delay, error)
            case Postpone(delay_seconds=delay):
                await self.store.postpone(job, worker_id, delay)
            case Fail(error=error):
                await self.store.fail(job, worker_id, error)
        await self.delivery.settle(job, outcome)

    async def complete(self, job: Job, worker_id: str) -> None:
        await self.record(job, worker_id, Done())

    async def retry(self, job: Job, worker_id: str, delay_seconds: float, error: str) -> None:
        await self.record(job, worker_id, Retry(delay_seconds, error))

    async def fail(self, job: Job, worker_id: str, error: str) -> None:
        await self.record(job, worker_id, Fail(error))

    async def depth(self) -> int:
        return await self.store.depth()

    async def waiting_new(self) -> int:
        return await self.store.waiting_new()

    async def wait_for_work(self, timeout: float) -> None:
        await self.delivery.wait_for_work(timeout)

    async def sweep(self) -> int:
        return await self.delivery.sweep()

    async def check(self) -> None:
        await self.store.check()
        await self.delivery.check()

    async def close(self) -> None:
        await self.delivery.close()
