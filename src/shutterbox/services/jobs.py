"""The job registry: every kind of job, its handler (declared next to its service), and
running one job to an outcome for the worker to record.

Adding a kind: a ``JobKind`` value in the domain, a ``JobHandler`` beside the service that
does the work, and its name in ``DECLARED`` below.
"""

from __future__ import annotations

import asyncio
import logging

from shutterbox.domain.jobs import Done, Fail, Outcome, Postpone
from shutterbox.domain.resilience import DependencyDown
from shutterbox.ports import Job
from shutterbox.services.context import Services
from shutterbox.services.delivery import purge
from shutterbox.services.images import deletion, processing
from shutterbox.services.job_handler import JobHandler, Run, default_retry
from shutterbox.services.storage import lifecycle, restores

log = logging.getLogger(__name__)

DECLARED: tuple[JobHandler, ...] = (
    processing.JOB,
    deletion.JOB,
    purge.JOB,
    restores.JOB,
    lifecycle.JOB,
)


def _by_kind(declared: tuple[JobHandler, ...]) -> dict[str, JobHandler]:
    handlers: dict[str, JobHandler] = {}
    for handler in declared:
        if handler.kind in handlers:
            raise ValueError(f"two handlers for job kind {handler.kind!r}")
        handlers[handler.kind] = handler
    return handlers


POLICIES = _by_kind(DECLARED)
# The work of each kind (tests replace entries; the policy stays the declared one).
HANDLERS: dict[str, Run] = {kind: handler.run for kind, handler in POLICIES.items()}


async def run(services: Services, job: Job) -> Outcome:
    """Run the job's work; what came of it (a failure turned into retry or give-up; a
    dependency whose breaker is open, into "later", without counting an attempt)."""
    work = HANDLERS.get(job.kind)
    declared = POLICIES.get(job.kind)
    if work is None or declared is None:
        return Fail(f"no handler for job kind {job.kind!r}")
    try:
        postponed = await work(services, job)
    except asyncio.CancelledError:
        raise  # the lease runs out and another worker takes the job
    except DependencyDown as down:  # not the job's failure: it runs once the breaker lets it
        log.info("job %s for %s waits: %s", job.kind, job.image_id, down.message)
        return Postpone(float(down.retry_after))
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        outcome = (declared.retry or default_retry(services)).after_failure(job.attempts, error)
        if isinstance(outcome, Fail) and declared.on_give_up is not None:
            await declared.on_give_up(services, job, error)
        return outcome
    return postponed or Done()
