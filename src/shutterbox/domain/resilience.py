"""Failing fast when a dependency is down: a circuit breaker per dependency, and the jittered
backoff of the calls that may be retried.

A breaker is **closed** while calls succeed; after ``failures`` failures or timeouts in a row
it **opens**, and every call fails at once with ``DependencyDown`` (a 503 with Retry-After,
or a job that runs later) instead of waiting for its deadline; once ``cooldown_seconds`` have
passed, the next call is let through alone as a trial (**half-open**) while the others are
still refused: its success closes the breaker, its failure opens it for another cool-down.

Why not a library: ``aiobreaker`` (the asyncio port of pybreaker, last released in 2021) only
guards a whole coroutine call, while here a breaker must guard a database connection held for
a transaction and the chunks of a streamed blob; its half-open state lets every concurrent
call through rather than one trial; and it mixes local and UTC clocks when it says how long
the breaker stays open. The state machine is forty lines over a monotonic clock, with no I/O,
so every transition is tested without servers (``tests/unit/test_resilience.py``).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from enum import IntEnum

from shutterbox.domain.errors import Unavailable


class BreakerState(IntEnum):
    """The values are those of the ``shutterbox_breaker_state`` gauge."""

    CLOSED = 0
    HALF_OPEN = 1  # one trial call in flight
    OPEN = 2

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


class DependencyDown(Unavailable):
    """A dependency's breaker is open: the call was not tried."""

    def __init__(self, dependency: str, retry_after: int) -> None:
        super().__init__(
            f"temporarily unavailable: the {dependency} is not answering; "
            f"try again in {retry_after} s",
            retry_after,
        )
        self.dependency = dependency


Counts = Callable[[BaseException], bool]  # whether an error is the dependency's failure


class CircuitBreaker:
    """The breaker of one dependency (``name``: database, store, queue, edge)."""

    def __init__(
        self,
        name: str,
        *,
        failures: int,
        cooldown_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[CircuitBreaker], None] | None = None,
    ) -> None:
        self.name = name
        self.threshold = failures
        self.cooldown_seconds = cooldown_seconds
        self.clock = clock
        self.on_change = on_change
        self.state = BreakerState.CLOSED
        self.failures = 0  # in a row
        self.openings = 0
        self._opened_at = 0.0

    def __repr__(self) -> str:
        return f"CircuitBreaker({self.name}, {self.state.label})"

    def retry_after(self) -> int:
        """Whole seconds until an open breaker lets a trial call through (at least 1)."""
        left = self._opened_at + self.cooldown_seconds - self.clock()
        return max(1, math.ceil(left))

    def allow(self) -> None:
        """Raise ``DependencyDown`` unless a call may go ahead now; a call let through an
        open breaker after its cool-down is the trial, and must be reported."""
        if self.state == BreakerState.CLOSED:
            return
        cooled = self.clock() >= self._opened_at + self.cooldown_seconds
        if self.state == BreakerState.OPEN and cooled:
            self._become(BreakerState.HALF_OPEN)
            return
        raise DependencyDown(self.name, self.retry_after())

    def succeeded(self) -> None:
        self.failures = 0
        if self.state != BreakerState.CLOSED:
            self._become(BreakerState.CLOSED)

    def failed(self) -> None:
        self.failures += 1
        if self.state == BreakerState.HALF_OPEN or (
            self.state == BreakerState.CLOSED and self.failures >= self.threshold
        ):
            self._opened_at = self.clock()
            self.openings += 1
            self._become(BreakerState.OPEN)

    def abandoned(self) -> None:
        """A call ended without a verdict (cancelled): a trial gives its turn to the next."""
        if self.state == BreakerState.HALF_OPEN:
            self._opened_at = self.clock() - self.cooldown_seconds
            self._become(BreakerState.OPEN)

    @contextmanager
    def guard(self, counts: Counts) -> Iterator[None]:
        """Run the block as one call: refused at once while open; an error for which
        ``counts`` is true is a failure, any other ending a success (the dependency answered)."""
        self.allow()
        try:
            yield
        except Exception as error:
            if counts(error):
                self.failed()
            else:
                self.succeeded()
            raise
        except GeneratorExit:  # the reader of a stream stopped: it was answered
            self.succeeded()
            raise
        except BaseException:
            self.abandoned()
            raise
        self.succeeded()

    def _become(self, state: BreakerState) -> None:
        if state != self.state:
            self.state = state
            if self.on_change is not None:
                self.on_change(self)


def _every_error(_error: BaseException) -> bool:
    return True


def guarded(
    breaker: CircuitBreaker | None, counts: Counts = _every_error
) -> AbstractContextManager[None]:
    """One call to a server, through ``breaker`` if there is one; an error counts against it
    when ``counts`` says so (by default every error: the queue deliveries' calls to their
    brokers)."""
    if breaker is None:
        return nullcontext()
    return breaker.guard(counts)


def is_unavailable(error: BaseException) -> bool:
    """For adapters that turn a dependency's outages into ``Unavailable`` themselves."""
    return isinstance(error, Unavailable)


def is_open(breaker: CircuitBreaker | None) -> bool:
    return breaker is not None and breaker.state == BreakerState.OPEN


def jittered_backoff(
    attempt: int, base_seconds: float, cap_seconds: float, rand: Callable[[], float] = random.random
) -> float:
    """The wait before retry ``attempt`` (1, 2, ...): "full jitter", a uniform draw below
    ``base * 2 ** (attempt - 1)`` capped at ``cap``, so that clients that failed together do
    not retry together."""
    ceiling: float = min(cap_seconds, base_seconds * 2 ** (attempt - 1))
    return rand() * ceiling
