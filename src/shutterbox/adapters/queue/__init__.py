"""Job queues chosen by URL."""

from __future__ import annotations

from shutterbox.adapters.db.engine import Database
from shutterbox.adapters.queue.db_queue import DatabaseJobQueue
from shutterbox.ports import JobQueue

__all__ = ["DatabaseJobQueue", "open_job_queue"]


def open_job_queue(url: str, db: Database) -> JobQueue:
    if url.startswith("db:"):
        return DatabaseJobQueue(db)
    raise ValueError(f"unsupported queue URL {url!r}: use db://")
