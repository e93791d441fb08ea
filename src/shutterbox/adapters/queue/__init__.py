"""Job queues chosen by URL: the jobs table as the store, and a delivery.

Adding a delivery: write a class with the ``JobDelivery`` methods (built on the
``JobStore`` it is given: claim rows through it, settle messages when told), and give it
a URL scheme here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shutterbox.adapters.db.engine import Database
from shutterbox.adapters.db.repositories.jobs import DatabaseJobStore
from shutterbox.adapters.queue.facade import ComposedJobQueue
from shutterbox.adapters.queue.polling import DatabasePolling
from shutterbox.config import Settings
from shutterbox.domain.resilience import CircuitBreaker
from shutterbox.ports import JobDelivery

__all__ = ["ComposedJobQueue", "DatabasePolling", "open_job_queue"]


def open_job_queue(
    url: str, db: Database, settings: Settings, breaker: CircuitBreaker | None = None
) -> ComposedJobQueue:
    """db:// (workers poll the jobs table), nats://host:4222[?stream=NAME] (JetStream
    delivers the jobs table's work) or kafka://host:9092[,host2:9092][?topic=NAME] (Kafka
    does; see ``kafka.py`` for the rest of its URL). ``breaker``: the circuit breaker of
    the NATS server or the Kafka brokers (their deadline: ``settings.queue_timeout_seconds``)."""
    store = DatabaseJobStore(db)
    delivery: JobDelivery
    if url.startswith("db:"):
        delivery = DatabasePolling(store, db)
    elif url.startswith(("nats:", "tls:")):
        from shutterbox.adapters.queue.jetstream import JetStreamDelivery

        delivery = _publishing(
            JetStreamDelivery,
            store,
            url,
            settings,
            timeout_seconds=settings.queue_timeout_seconds,
            breaker=breaker,
        )
    elif url.startswith("kafka:"):
        from shutterbox.adapters.queue.kafka import KafkaDelivery

        delivery = _publishing(
            KafkaDelivery,
            store,
            url,
            settings,
            timeout_seconds=settings.queue_timeout_seconds,
            breaker=breaker,
        )
    else:
        raise ValueError(
            f"unsupported queue URL {url!r}: use db://, nats://host:4222 or kafka://host:9092"
        )
    return ComposedJobQueue(store, delivery)


def _publishing(
    kind: Callable[..., JobDelivery],
    store: DatabaseJobStore,
    url: str,
    settings: Settings,
    **more: Any,
) -> JobDelivery:
    """A delivery that publishes messages, told what it needs to know of the jobs."""
    return kind(
        store,
        url,
        lease_seconds=settings.job_lease_seconds,
        max_attempts=settings.job_max_attempts,
        fetch_timeout=settings.job_poll_seconds,
        **more,
    )
