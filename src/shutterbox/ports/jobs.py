"""The job queue port: work to be done in the background."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    image_id: str
    attempts: int
    payload: dict[str, Any]


class JobQueue(Protocol):
    """Work to be done in the background. A claimed job is leased; if its worker dies the
    lease runs out and another worker claims it again."""

    async def enqueue(
        self,
        conn: AsyncConnection,
        kind: str,
        image_id: str,
        payload: dict[str, Any] | None = None,
        delay_seconds: float = 0.0,
    ) -> int:
        """Add a job inside the caller's transaction (it exists iff that commits); returns its
        id, to hand to ``dispatch`` once the transaction has committed."""

    async def dispatch(self, job_ids: list[int]) -> None:
        """Deliver committed jobs to the workers (wake them, publish them)."""

    async def claim(self, worker_id: str, lease_seconds: float) -> Job | None: ...

    async def extend_lease(self, job: Job, worker_id: str, lease_seconds: float) -> bool: ...

    async def complete(self, job: Job, worker_id: str) -> None: ...

    async def retry(self, job: Job, worker_id: str, delay_seconds: float, error: str) -> None: ...

    async def fail(self, job: Job, worker_id: str, error: str) -> None: ...

    async def depth(self) -> int:
        """Jobs due (waiting for a worker) or running; jobs scheduled for later not counted."""

    async def scheduled(self, conn: AsyncConnection, kind: str, image_id: str) -> bool:
        """Whether a job of this kind for this subject is waiting or running."""

    async def wait_for_work(self, timeout: float) -> None:
        """Return when a job may be available (or after ``timeout``)."""

    async def sweep(self) -> int:
        """Redeliver jobs whose delivery was lost; returns how many."""

    async def check(self) -> None:
        """Raise if the queue cannot be reached."""

    async def close(self) -> None: ...
