"""The job ports: the jobs table (``JobStore``, the source of truth) and the ways work is
delivered to workers (``JobDelivery``: database polling, NATS JetStream, ...), composed into
the ``JobQueue`` the services and the worker use.

A job exists iff the transaction that added it committed; a delivery only tells workers
which job to claim next, so a lost or duplicated delivery delays work but never loses or
repeats it: the claim (a lease on the row) decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shutterbox.domain.jobs import JobKind, Lane, Outcome
from shutterbox.ports.metadata import WriteTransaction


@dataclass(frozen=True)
class Job:
    id: int
    kind: str  # a JobKind's value; a kind this version does not know stays a plain string
    image_id: str
    attempts: int
    payload: dict[str, Any]
    lane: Lane = Lane.NEW
    batch_id: str | None = None


@dataclass(frozen=True)
class Batch:
    """Bulk work over a selection of images (``all``, ``failed``, ``ids``): its jobs carry its
    id. ``resumed``: it was begun earlier and not finished, and goes on."""

    id: str
    kind: str
    selection: str
    total: int  # jobs enqueued for it so far
    created_at: datetime
    resumed: bool


class BatchStore(Protocol):
    """The batches of bulk jobs (kept with the jobs)."""

    async def open_batch(self, kind: JobKind, selection: str, *, resume: bool = True) -> Batch:
        """The unfinished batch of this kind over this selection (``resume``), or a new one."""

    async def count_in_batch(self, tx: WriteTransaction, batch_id: str, added: int) -> int:
        """Count ``added`` more jobs in the batch (in the transaction that added them); its
        total so far."""

    async def finish_batch(self, batch_id: str) -> None: ...

    async def batch_progress(self, batch_id: str) -> tuple[int, int]:
        """(jobs of the batch waiting or running, jobs of it that failed for good)."""


class JobStore(BatchStore, Protocol):
    """The jobs table. A claimed job is leased to one worker; when the lease runs out (its
    worker died) it is claimable again. Only the lease holder can settle a job."""

    async def add(
        self,
        tx: WriteTransaction,
        kind: JobKind,
        image_id: str,
        payload: dict[str, Any] | None = None,
        delay_seconds: float = 0.0,
        lane: Lane = Lane.NEW,
    ) -> int:
        """Add (or replace) the job of this kind for this subject inside the caller's
        transaction; returns its id."""

    async def add_many(
        self,
        tx: WriteTransaction,
        kind: JobKind,
        image_ids: Sequence[str],
        payload: dict[str, Any],
        lane: Lane,
    ) -> list[int]:
        """``add`` for many subjects in a few statements; their ids."""

    async def add_batch(
        self,
        tx: WriteTransaction,
        kind: JobKind,
        image_ids: Sequence[str],
        payload: dict[str, Any],
        batch_id: str,
    ) -> list[int]:
        """Add a job of this kind in the bulk lane, as part of ``batch_id``, for each image
        that has none waiting or running; returns the new jobs' ids."""

    async def scheduled(self, tx: WriteTransaction, kind: JobKind, image_id: str) -> bool:
        """Whether a job of this kind for this subject is waiting or running."""

    async def claim(self, worker_id: str, lease_seconds: float) -> Job | None:
        """Lease the next due job (skipping rows other workers hold), if any. A worker runs
        one job at a time and claims only when idle: a job still leased to ``worker_id`` (a
        claim whose answer was lost) is handed back to it first."""

    async def claim_by_id(self, job_id: int, worker_id: str, lease_seconds: float) -> Job | None:
        """Lease this job if it is claimable now."""

    async def subjects(self, job_ids: Sequence[int]) -> dict[int, str]:
        """The image each of these jobs is about (a delivery keys its messages by it)."""

    async def claimable_at(self, job_id: int) -> datetime | None:
        """When a job not claimable now may become so (its run time, or the end of another
        worker's lease); None when it is finished, failed or gone."""

    async def extend_lease(self, job: Job, worker_id: str, lease_seconds: float) -> bool: ...

    async def complete(self, job: Job, worker_id: str) -> None: ...

    async def retry(self, job: Job, worker_id: str, delay_seconds: float, error: str) -> None: ...

    async def postpone(self, job: Job, worker_id: str, delay_seconds: float) -> None:
        """Run again later with its attempts not counted (the work is under way elsewhere)."""

    async def fail(self, job: Job, worker_id: str, error: str) -> None: ...

    async def depth(self) -> int:
        """Jobs due (waiting for a worker) or running; jobs scheduled for later not counted."""

    async def waiting_new(self) -> int:
        """Jobs of the new-work lane due and not yet claimed: what a new upload queues behind."""

    async def undelivered(self, older_than_seconds: float) -> dict[Lane, list[int]]:
        """Jobs due (or leased out) for ``older_than_seconds`` with nothing happening to
        them, by lane: their delivery was probably lost. Each is returned at most once per
        period."""

    async def check(self) -> None:
        """Raise if the table cannot be reached."""


class JobDelivery(Protocol):
    """How workers learn which job to claim. Built on a ``JobStore``: it claims and reads
    rows through it, and is told how each claimed job ended once the store recorded it."""

    async def dispatch(self, job_ids: list[int], lane: Lane = Lane.NEW) -> None:
        """Deliver jobs of ``lane`` whose transaction has committed (wake workers, publish
        ids); a delivery that cannot order by lane keeps bulk work apart from the rest."""

    async def claim(self, worker_id: str, lease_seconds: float) -> Job | None:
        """The next job delivered to this worker, leased in the store; None if none came."""

    async def wait_for_work(self, timeout: float) -> None:
        """Return when a job may be available (or after ``timeout``)."""

    async def extended(self, job: Job) -> None:
        """The job's lease was extended: keep its delivery from being redelivered."""

    async def settle(self, job: Job, outcome: Outcome) -> None:
        """The store has recorded how the job ended: finish its delivery accordingly."""

    async def sweep(self) -> int:
        """Redeliver jobs whose delivery was lost; returns how many."""

    async def check(self) -> None:
        """Raise if the delivery cannot be reached."""

    async def close(self) -> None: ...


class JobQueue(BatchStore, Protocol):
    """Work to be done in the background: a ``JobStore`` and a ``JobDelivery`` together,
    in the shapes services and workers use."""

    async def enqueue(
        self,
        tx: WriteTransaction,
        kind: JobKind,
        image_id: str,
        payload: dict[str, Any] | None = None,
        delay_seconds: float = 0.0,
        lane: Lane = Lane.NEW,
    ) -> int:
        """Add a job inside the caller's transaction (it exists iff that commits); returns its
        id, to hand to ``dispatch`` once the transaction has committed. Waiting jobs run
        lowest ``lane`` first."""

    async def enqueue_batch(
        self,
        tx: WriteTransaction,
        kind: JobKind,
        image_ids: Sequence[str],
        payload: dict[str, Any],
        batch_id: str,
    ) -> list[int]:
        """``JobStore.add_batch``: bulk-lane jobs, to ``dispatch`` after the commit."""

    async def enqueue_many(
        self,
        tx: WriteTransaction,
        kind: JobKind,
        image_ids: Sequence[str],
        payload: dict[str, Any],
        lane: Lane,
    ) -> list[int]:
        """``enqueue`` for many subjects at once (``JobStore.add_many``), to ``dispatch``
        after the commit."""

    async def dispatch(self, job_ids: list[int], lane: Lane = Lane.NEW) -> None:
        """Deliver committed jobs of ``lane`` to the workers (wake them, publish them)."""

    async def scheduled(self, tx: WriteTransaction, kind: JobKind, image_id: str) -> bool:
        """Whether a job of this kind for this subject is waiting or running."""

    async def claim(self, worker_id: str, lease_seconds: float) -> Job | None: ...

    async def extend_lease(self, job: Job, worker_id: str, lease_seconds: float) -> bool: ...

    async def record(self, job: Job, worker_id: str, outcome: Outcome) -> None:
        """Settle a claimed job: complete, retry, postpone or fail it (in the store first,
        then in its delivery)."""

    async def depth(self) -> int:
        """Jobs due (waiting for a worker) or running; jobs scheduled for later not counted."""

    async def wait_for_work(self, timeout: float) -> None:
        """Return when a job may be available (or after ``timeout``)."""

    async def waiting_new(self) -> int:
        """Jobs of the new-work lane due and not yet claimed."""

    async def sweep(self) -> int:
        """Redeliver jobs whose delivery was lost; returns how many."""

    async def check(self) -> None:
        """Raise if the queue cannot be reached."""

    async def close(self) -> None: ...
