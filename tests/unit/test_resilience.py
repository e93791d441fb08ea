"""The circuit breaker's states, on a clock the test moves, and the jittered backoff."""

from __future__ import annotations

import pytest

from shutterbox.domain.errors import Unavailable
from shutterbox.domain.resilience import (
    BreakerState,
    CircuitBreaker,
    DependencyDown,
    jittered_backoff,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Outage(Exception):
    pass


def counts(error: BaseException) -> bool:
    return isinstance(error, Outage)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def changes() -> list[BreakerState]:
    return []


@pytest.fixture
def breaker(clock: Clock, changes: list[BreakerState]) -> CircuitBreaker:
    return CircuitBreaker(
        "store",
        failures=3,
        cooldown_seconds=10,
        clock=clock,
        on_change=lambda b: changes.append(b.state),
    )


def fail(breaker: CircuitBreaker) -> None:
    with pytest.raises(Outage), breaker.guard(counts):
        raise Outage


def succeed(breaker: CircuitBreaker) -> None:
    with breaker.guard(counts):
        pass


def test_opens_after_the_failures_in_a_row_only(breaker: CircuitBreaker) -> None:
    fail(breaker)
    fail(breaker)
    succeed(breaker)  # the count starts again
    fail(breaker)
    fail(breaker)
    assert breaker.state == BreakerState.CLOSED
    fail(breaker)
    assert breaker.state == BreakerState.OPEN
    assert breaker.openings == 1


def test_an_open_breaker_refuses_at_once_with_the_time_left(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    for _ in range(3):
        fail(breaker)
    clock.now += 3.5
    ran = []
    with pytest.raises(DependencyDown) as refused, breaker.guard(counts):
        ran.append(True)
    assert ran == []
    assert refused.value.retry_after == 7  # whole seconds, rounded up
    assert isinstance(refused.value, Unavailable) and refused.value.status == 503
    assert "store is not answering" in refused.value.message


def test_after_the_cooldown_one_trial_goes_through_and_its_success_closes(
    breaker: CircuitBreaker, clock: Clock, changes: list[BreakerState]
) -> None:
    for _ in range(3):
        fail(breaker)
    clock.now += 10
    with breaker.guard(counts):
        assert breaker.state == BreakerState.HALF_OPEN
        with pytest.raises(DependencyDown), breaker.guard(counts):
            pass  # a second caller while the trial is in flight
    assert breaker.state == BreakerState.CLOSED
    assert changes == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]


def test_a_failed_trial_opens_again_for_a_whole_cooldown(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    for _ in range(3):
        fail(breaker)
    clock.now += 10
    fail(breaker)
    assert breaker.state == BreakerState.OPEN
    assert breaker.openings == 2
    assert breaker.retry_after() == 10


def test_errors_that_are_not_outages_count_as_answers(breaker: CircuitBreaker) -> None:
    for _ in range(5):
        with pytest.raises(KeyError), breaker.guard(counts):
            raise KeyError("missing")  # the store answered: no such key
    assert breaker.state == BreakerState.CLOSED


def test_a_cancelled_trial_lets_the_next_caller_try(breaker: CircuitBreaker, clock: Clock) -> None:
    for _ in range(3):
        fail(breaker)
    clock.now += 10
    with pytest.raises(KeyboardInterrupt), breaker.guard(counts):
        raise KeyboardInterrupt  # no verdict
    assert breaker.state == BreakerState.OPEN
    succeed(breaker)  # at once: the cool-down had passed
    assert breaker.state == BreakerState.CLOSED


def test_a_reader_that_stops_a_stream_early_was_answered(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    def stream():
        with breaker.guard(counts):
            yield b"first"
            yield b"second"

    for _ in range(3):
        fail(breaker)
    clock.now += 10
    chunks = stream()
    assert next(chunks) == b"first"
    chunks.close()
    assert breaker.state == BreakerState.CLOSED


@pytest.mark.parametrize("attempt", [1, 2, 3, 8])
def test_the_backoff_is_a_draw_below_a_capped_exponential(attempt: int) -> None:
    ceiling = min(2.0, 0.1 * 2 ** (attempt - 1))
    assert jittered_backoff(attempt, 0.1, 2.0, rand=lambda: 0.999999) == pytest.approx(
        ceiling, rel=1e-5
    )
    assert jittered_backoff(attempt, 0.1, 2.0, rand=lambda: 0.0) == 0.0
    assert 0 <= jittered_backoff(attempt, 0.1, 2.0) <= ceiling
