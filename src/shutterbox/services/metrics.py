"""Prometheus metrics shared by the API and the workers."""

from __future__ import annotations

import os

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUEST_SECONDS = Histogram(
    "shutterbox_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route", "status"],
)
UPLOADS = Counter("shutterbox_uploads_total", "Uploads accepted (201).")
UPLOAD_REJECTIONS = Counter(
    "shutterbox_upload_rejections_total", "Uploads refused at the door.", ["status"]
)
QUEUE_DEPTH = Gauge(
    "shutterbox_queue_depth",
    "Jobs due or running (not those scheduled later).",
    multiprocess_mode="mostrecent",  # each process reads the same queue
)
PROCESSING_SECONDS = Histogram(
    "shutterbox_processing_duration_seconds",
    "Time to make an image's variants.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64),
)
PROCESSING_FAILURES = Counter(
    "shutterbox_processing_failures_total", "Images that could not be processed.", ["reason"]
)
JOB_RETRIES = Counter("shutterbox_job_retries_total", "Jobs put back for a later attempt.")
PURGE_FAILURES = Counter(
    "shutterbox_purge_failures_total", "Edge cache purges that were not confirmed."
)
RATE_LIMITS_UNCHECKED = Counter(
    "shutterbox_rate_limits_unchecked_total",
    "Requests let through without being counted: the rate-limit counters (Redis) could not "
    "be reached.",
    ["kind"],
)
BREAKER_STATE = Gauge(
    "shutterbox_breaker_state",
    "Circuit breaker of each dependency: 0 closed, 1 half-open (a trial call), 2 open.",
    ["dependency"],
    multiprocess_mode="livemax",  # with several processes: the worst of those alive
)
BREAKER_OPENINGS = Counter(
    "shutterbox_breaker_openings_total",
    "Times a dependency's circuit breaker opened (failures in a row, or a failed trial).",
    ["dependency"],
)

REPLICA_READS = Counter(
    "shutterbox_replica_reads_total",
    "Originals read from the replica because the first copy was missing or damaged.",
    ["reason"],  # missing, damaged
)
REPLICA_REPAIRS = Counter(
    "shutterbox_replica_repairs_total",
    "Copies of originals restored from the other copy by the scrub.",
    ["copy"],  # primary, replica: the copy that was restored
)

EVENT_STREAMS = Gauge(
    "shutterbox_event_streams",
    "Live-status streams (GET /api/v1/events) open now.",
    multiprocess_mode="livesum",
)
EVENT_STREAM_READS = Counter(
    "shutterbox_event_stream_reads_total",
    "Reads of the database by live-status streams: one when a stream opens, then one per "
    "wake-up (an idle stream reads nothing).",
)
EVENT_WAKEUPS = Counter(
    "shutterbox_event_wakeups_total",
    "Live-status streams woken to read again.",
    ["cause"],  # change (their user's), everyone (a reconnect, rows missed), safety (the slow poll)
)


def exposition() -> bytes:
    """The metrics in Prometheus text format: this process's, or, when several processes
    serve together (``PROMETHEUS_MULTIPROC_DIR`` set), all of theirs summed."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return generate_latest()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
