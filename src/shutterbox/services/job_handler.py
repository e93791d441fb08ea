"""What a service declares for each kind of job it owns: the work, and what to do when
the work keeps failing. The registry (``services.jobs``) collects the declarations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from shutterbox.domain.jobs import JobKind, Postpone, RetryPolicy
from shutterbox.ports import Job
from shutterbox.services.context import Services

# The work: returns None when done, or Postpone when it is under way elsewhere; raising
# is a failure, retried or given up by the policy.
Run = Callable[[Services, Job], Awaitable[Postpone | None]]
# Called once, after the last attempt failed, with the error.
GiveUp = Callable[[Services, Job, str], Awaitable[None]]


@dataclass(frozen=True)
class JobHandler:
    kind: JobKind
    run: Run
    on_give_up: GiveUp | None = None
    retry: RetryPolicy | None = None  # None: the settings' attempts and backoff


def default_retry(services: Services) -> RetryPolicy:
    settings = services.settings
    return RetryPolicy(settings.job_max_attempts, settings.job_retry_base_seconds)
