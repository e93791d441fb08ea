"""Job queues chosen by URL."""

from __future__ import annotations

from shutterbox.adapters.db.engine import Database
from shutterbox.adapters.queue.db_queue import DatabaseJobQueue
from shutterbox.config import Settings
from shutterbox.ports import JobQueue

__all__ = ["DatabaseJobQueue", "open_job_queue"]


def open_job_queue(url: str, db: Database, settings: Settings) -> JobQueue:
    """db:// (the jobs table is the queue) or nats://host:4222[?stream=NAME] (JetStream
    delivers the jobs table's work)."""
    if url.startswith("db:"):
        return DatabaseJobQueue(db)
    if url.startswith(("nats:", "tls:")):
        from shutterbox.adapters.queue.jetstream_queue import JetStreamJobQueue

        return JetStreamJobQueue(
            db,
            url,
            lease_seconds=settings.job_lease_seconds,
            max_attempts=settings.job_max_attempts,
            fetch_timeout=settings.job_poll_seconds,
        )
    raise ValueError(f"unsupported queue URL {url!r}: use db:// or nats://host:4222")
