"""The circuit breaker's states, on a clock the test moves, and the jittered backoff; what
an open breaker does to a job, a worker and the edge purges."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest

from shutterbox.domain.errors import Unavailable
from shutterbox.domain.jobs import Done, Postpone
from shutterbox.domain.resilience import (
    BreakerState,
    CircuitBreaker,
    DependencyDown,
    jittered_backoff,
)
from shutterbox.entrypoints.worker import WorkerPool
from shutterbox.ports import Job
from shutterbox.services import jobs as registry
from shutterbox.services.delivery import purge
from tests.support.ports import free_port
from tests.support.settings import make_settings


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


def _open_breaker(name: str) -> CircuitBreaker:
    breaker = CircuitBreaker(name, failures=1, cooldown_seconds=60)
    breaker.failed()
    return breaker


async def test_a_job_that_meets_an_open_breaker_waits_without_spending_an_attempt(
    tmp_path, monkeypatch
):
    given_up: list[str] = []

    async def work(services: object, job: Job) -> None:
        services_breaker.allow()  # the store it needs is down

    async def give_up(services: object, job: Job, error: str) -> None:
        given_up.append(error)

    services_breaker = _open_breaker("store")
    monkeypatch.setitem(registry.HANDLERS, "process_image", work)
    declared = registry.POLICIES["process_image"]
    monkeypatch.setitem(registry.POLICIES, "process_image", replace(declared, on_give_up=give_up))
    services: Any = SimpleNamespace(settings=make_settings(tmp_path, job_max_attempts=1))
    last_attempt = Job(1, "process_image", "img", 1, {})
    outcome = await registry.run(services, last_attempt)
    assert outcome == Postpone(60.0)  # not Fail, although it was the last attempt
    assert given_up == []


async def test_purges_are_not_sent_while_the_edges_breaker_is_open(tmp_path):
    port = free_port()  # nothing listens: a purge sent there would fail otherwise
    settings = make_settings(tmp_path, cdn_purge_urls=f"http://127.0.0.1:{port}")
    services: Any = SimpleNamespace(settings=settings, breakers={"edge": _open_breaker("edge")})
    with pytest.raises(DependencyDown):
        await purge.purge_paths(services, ["/media/img/thumb.jpg"])
    job = Job(1, "purge_media", "img", 1, {"paths": ["/media/img/thumb.jpg"]})
    assert isinstance(await registry.run(services, job), Postpone)


async def test_unconfirmed_purges_open_the_edges_breaker(tmp_path):
    port = free_port()
    settings = make_settings(
        tmp_path, cdn_purge_urls=f"http://127.0.0.1:{port}", edge_retries=1, breaker_failures=2
    )
    breaker = CircuitBreaker("edge", failures=2, cooldown_seconds=60)
    services: Any = SimpleNamespace(settings=settings, breakers={"edge": breaker})
    for _ in range(2):
        assert await purge.purge_paths(services, ["/media/img/thumb.jpg"]) != []
    assert breaker.state == BreakerState.OPEN


class _QueueBehindAnOpenBreaker:
    """Its first claim meets the database's open breaker; then it hands out one job."""

    def __init__(self) -> None:
        self.claims = 0
        self.records: list[object] = []

    async def claim(self, worker_id: str, lease_seconds: float) -> Job | None:
        self.claims += 1
        if self.claims == 1:
            raise DependencyDown("database", 1)
        return Job(1, "process_image", "img", 1, {}) if self.claims == 2 else None

    async def record(self, job: Job, worker_id: str, outcome: object) -> None:
        self.records.append(outcome)

    async def wait_for_work(self, timeout: float) -> None:
        await asyncio.sleep(timeout)

    async def extend_lease(self, job: Job, worker_id: str, lease_seconds: float) -> bool:
        return True


async def test_a_worker_waits_out_an_open_breaker_and_goes_on(tmp_path, monkeypatch):
    async def work(services: object, job: Job) -> None:
        return None

    monkeypatch.setitem(registry.HANDLERS, "process_image", work)
    queue = _QueueBehindAnOpenBreaker()
    services: Any = SimpleNamespace(
        settings=make_settings(tmp_path, job_poll_seconds=0.05, job_lease_seconds=30), queue=queue
    )
    pool = WorkerPool(services, 1)
    pool._tasks.append(asyncio.create_task(pool._run(pool.worker_ids[0])))
    try:
        for _ in range(500):
            if queue.records:
                break
            await asyncio.sleep(0.01)
        assert queue.records == [Done()]
        assert not pool._tasks[0].done()
    finally:
        await pool.stop()
