"""Deadlines on every call to another server (the PostgreSQL database, an object store, the
queue's NATS server or Kafka brokers, the edge caches), the retries of the calls that may
safely run twice, and the circuit breakers that make a dead dependency fail fast instead of
making every request wait."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from shutterbox.config.types import PositiveSeconds


class ResilienceSettings(BaseModel):
    section: ClassVar[str] = "Timeouts and circuit breakers"  # its heading in the docs

    database_statement_timeout_seconds: PositiveSeconds = Field(
        default=30.0,
        description="Longest a PostgreSQL statement may run (the server's statement_timeout; "
        "the client gives up a second later if no answer comes at all). Migrations run "
        "without it. Not used on SQLite, a local file.",
    )
    database_connect_timeout_seconds: PositiveSeconds = Field(
        default=5.0,
        description="Longest wait to open a PostgreSQL connection, and to be handed one from "
        "the pool when all are busy.",
    )
    store_timeout_seconds: PositiveSeconds = Field(
        default=10.0,
        description="Longest wait for an object store (S3, GCS, Azure) to accept a connection "
        "or to send the next bytes of an answer. A local directory has no deadline.",
    )
    store_request_timeout_seconds: PositiveSeconds = Field(
        default=120.0,
        description="Longest one object store request may take from start to end, large "
        "bodies included.",
    )
    store_retries: int = Field(
        default=3,
        ge=0,
        le=10,
        description="Retries of an object store request that failed to connect, was cut or "
        "answered 5xx, with exponential backoff and jitter, within about "
        "SHUTTERBOX_STORE_TIMEOUT_SECONDS x (retries + 1). Every request sent to the store may "
        "safely run twice: reads, deletes, and writes of a whole object under its own key.",
    )
    queue_timeout_seconds: PositiveSeconds = Field(
        default=5.0,
        description="Longest wait for the queue (NATS JetStream or Kafka) to accept a "
        "connection, confirm a published job or answer a check. A job whose publishing failed "
        "is still committed in the jobs table; the sweeper publishes it later.",
    )
    edge_timeout_seconds: PositiveSeconds = Field(
        default=2.0,
        description="Longest wait for an edge cache to answer one PURGE.",
    )
    edge_retries: int = Field(
        default=1,
        ge=0,
        le=5,
        description="Retries of a PURGE that failed, after a short jittered backoff (a purge "
        "may run twice); what stays unconfirmed is left to a job.",
    )
    rate_limit_timeout_seconds: PositiveSeconds = Field(
        default=1.0,
        description="Longest wait for Redis, where SHUTTERBOX_RATE_LIMIT_URL=redis:// keeps the "
        "rate limits, to accept a connection or answer one hit (not retried). While Redis "
        "cannot be reached requests go on without being counted: a warning is logged and "
        "shutterbox_rate_limits_unchecked_total counts them.",
    )
    breaker_failures: int = Field(
        default=5,
        ge=1,
        description="Failures or timeouts in a row after which a dependency's circuit breaker "
        "opens: calls to it then fail at once (503 with Retry-After for a request that needs "
        "it; a job waits and runs later) instead of each waiting for its deadline.",
    )
    breaker_cooldown_seconds: PositiveSeconds = Field(
        default=10.0,
        description="How long an open circuit breaker refuses calls before it lets one trial "
        "call through (half-open): its success closes the breaker, its failure opens it again.",
    )
