"""The deadlines and retries of the calls to an object store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class StoreDeadlines:
    """How long an object store may take: ``timeout_seconds`` to connect or to send the next
    bytes of an answer, ``request_seconds`` for a whole request; ``retries`` of a request
    that failed, with jittered exponential backoff, within about timeout x (retries + 1).

    obstore (the object_store crate) retries connection errors, cut connections, timeouts
    and 5xx answers. That is safe here because every request sent to the store is
    idempotent: reads, deletes, and writes of a whole object under its own key (a write run
    twice leaves the same object); nothing appends or creates a name of its own."""

    timeout_seconds: float = 10.0
    request_seconds: float = 120.0
    retries: int = 3

    def client_options(self) -> dict[str, Any]:
        silence = timedelta(seconds=self.timeout_seconds)
        return {
            "connect_timeout": silence,
            "read_timeout": silence,
            "timeout": timedelta(seconds=self.request_seconds),
        }

    def retry_config(self) -> dict[str, Any]:
        return {
            "max_retries": self.retries,
            "retry_timeout": timedelta(seconds=self.timeout_seconds * (self.retries + 1)),
            "backoff": {
                "init_backoff": timedelta(milliseconds=100),
                "max_backoff": timedelta(seconds=min(15.0, self.timeout_seconds)),
                "base": 2,
            },
        }

    def boto_config(self) -> dict[str, Any]:
        """The same for boto3 (``botocore.config.Config`` arguments): its "standard" retries
        back off exponentially with jitter, and only on errors that may be retried."""
        return {
            "connect_timeout": self.timeout_seconds,
            "read_timeout": self.timeout_seconds,
            "retries": {"total_max_attempts": self.retries + 1, "mode": "standard"},
        }
