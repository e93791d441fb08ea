"""Background jobs in the domain's terms: the kinds of job, what can come of running one, and
the retry policy that turns a failure into "again later" or "give up".

The kinds' values are the strings stored in the jobs table, so they must never change.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class JobKind(StrEnum):
    PROCESS_IMAGE = "process_image"
    RECLAIM_IMAGE = "reclaim_image"
    PURGE_MEDIA = "purge_media"
    RESTORE_ORIGINAL = "restore_original"
    LIFECYCLE_PASS = "lifecycle_pass"


class Lane(IntEnum):
    """Which waiting job runs first: the lowest lane, then the earliest due, then the oldest.
    The values are stored in the jobs table."""

    NEW = 0  # what someone is waiting for: a new upload's variants, a purge, a restore
    RETRY = 1  # a job that failed and runs again: behind new work, ahead of batches
    BULK = 2  # batch work: reprocessing, imports, lifecycle passes

    def after_failure(self) -> Lane:
        return max(self, Lane.RETRY)


@dataclass(frozen=True)
class Done:
    """The work is finished: the job leaves the queue."""


@dataclass(frozen=True)
class Retry:
    """The work failed this time: run it again after ``delay_seconds``."""

    delay_seconds: float
    error: str


@dataclass(frozen=True)
class Postpone:
    """Not a failure: the work is under way elsewhere (a restore in an object store); run the
    job again after ``delay_seconds`` as if it had not been tried yet."""

    delay_seconds: float


@dataclass(frozen=True)
class Fail:
    """Given up for good: the job stays in the table, failed, for inspection."""

    error: str


Outcome = Done | Retry | Postpone | Fail


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: attempt n failing waits ``base_seconds * 2 ** (n - 1)``; the
    ``max_attempts``-th failure gives up."""

    max_attempts: int
    base_seconds: float

    def after_failure(self, attempts: int, error: str) -> Retry | Fail:
        if attempts >= self.max_attempts:
            return Fail(error)
        return Retry(self.base_seconds * 2 ** (attempts - 1), error)
