"""What the Kafka delivery adds to the queue contract (tests/contract/test_job_queue.py runs
that against it too), against a real Kafka-protocol broker (Tansu): offsets are committed
only past settled jobs, so a process that dies hands its unfinished jobs to the next one;
the URL's settings; an unreachable broker fails the check."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shutterbox.adapters.db.engine import Database, open_database
from shutterbox.adapters.db.migrate import upgrade_to_head
from shutterbox.adapters.db.repositories.jobs import DatabaseJobStore
from shutterbox.adapters.queue.facade import ComposedJobQueue
from shutterbox.adapters.queue.kafka import KafkaDelivery
from shutterbox.adapters.queue.kafka_settings import KafkaSettings
from shutterbox.domain.jobs import Done, JobKind
from tests.support.servers import KafkaBroker


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = open_database(f"sqlite+aiosqlite:///{tmp_path / 'q.db'}")
    await upgrade_to_head(database)
    yield database
    await database.dispose()


async def _queue(db: Database, url: str) -> ComposedJobQueue:
    store = DatabaseJobStore(db)
    delivery = KafkaDelivery(store, url, lease_seconds=0.3, max_attempts=5, fetch_timeout=0.2)
    await delivery.start()
    return ComposedJobQueue(store, delivery)


async def _claim(queue: ComposedJobQueue, worker: str, seconds: float = 5.0):
    async with asyncio.timeout(seconds):
        while (job := await queue.claim(worker, 0.3)) is None:
            pass
    return job


async def test_a_process_that_dies_hands_its_unsettled_jobs_to_the_next(
    db: Database, kafka_broker: KafkaBroker
) -> None:
    url = kafka_broker.queue_url() + "&partitions=1"  # one partition: one line of offsets
    first = await _queue(db, url)
    ids = []
    for image in ("unfinished", "finished"):
        async with db.writer.begin() as conn:
            ids.append(await first.store.add(conn, JobKind.PROCESS_IMAGE, image))
    await first.dispatch(ids)
    held = await _claim(first, "w1")
    done = await _claim(first, "w1")
    assert {held.image_id, done.image_id} == {"unfinished", "finished"}
    if held.image_id != "unfinished":
        held, done = done, held
    await first.record(done, "w1", Done())  # its offset waits for the one before it
    await first.delivery.close()  # dies: no more commits, its timers gone

    second = await _queue(db, url)
    try:
        taken = await _claim(second, "w2")  # redelivered; its lease has run out meanwhile
        assert taken.image_id == "unfinished" and taken.attempts == 2
        await second.record(taken, "w2", Done())
        assert await second.claim("w2", 0.3) is None  # the finished one is not run again
        assert await second.depth() == 0
    finally:
        await second.close()


def test_the_url_names_brokers_topic_group_and_credentials() -> None:
    settings = KafkaSettings.from_url(
        "kafka://app:s%40cret@k1:9092,k2:9092?topic=jobs&group=prod&partitions=24"
        "&replication=3&security_protocol=SASL_SSL&sasl_mechanism=SCRAM-SHA-512"
    )
    assert settings.bootstrap_servers == ["k1:9092", "k2:9092"]
    assert (settings.topic, settings.bulk_topic, settings.group) == ("jobs", "jobs.bulk", "prod")
    assert (settings.partitions, settings.replication) == (24, 3)
    assert settings.security == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "app",
        "sasl_plain_password": "s@cret",
    }
    defaults = KafkaSettings.from_url("kafka://localhost:9092")
    assert (defaults.topic, defaults.group, defaults.partitions) == (
        "shutterbox-jobs",
        "shutterbox-workers",
        12,
    )
    with pytest.raises(ValueError, match="names no broker"):
        KafkaSettings.from_url("kafka://?topic=x")


async def test_check_fails_when_the_broker_is_unreachable(db: Database) -> None:
    store = DatabaseJobStore(db)
    delivery = KafkaDelivery(store, "kafka://127.0.0.1:1", lease_seconds=5, max_attempts=3)
    try:
        with pytest.raises(Exception):  # noqa: B017 - any connection error will do
            await delivery.check()
    finally:
        await delivery.close()
