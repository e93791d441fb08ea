"""The composition root: the one place that picks adapters from settings and wires them."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable

from shutterbox.adapters import imaging
from shutterbox.adapters.blobs import (
    LocalBlobStore,
    StoreDeadlines,
    TieredBlobStore,
    open_blob_store,
    open_multipart_uploads,
    open_storage,
)
from shutterbox.adapters.db.engine import Database, DatabaseDeadlines, is_server, open_database
from shutterbox.adapters.db.event_feeds import SqliteEventPoller, open_event_feed
from shutterbox.adapters.db.metadata import SqlMetadata
from shutterbox.adapters.db.migrate import upgrade_to_head
from shutterbox.adapters.imaging_sandbox import SandboxPool
from shutterbox.adapters.queue import open_job_queue
from shutterbox.adapters.rate_counters import open_rate_counters
from shutterbox.config import Settings
from shutterbox.domain.resilience import CircuitBreaker
from shutterbox.ports.rate_limits import RateCounters
from shutterbox.services.billing.egress import EgressMeter
from shutterbox.services.context import Services
from shutterbox.services.people.limits import limiter_from
from shutterbox.services.resilience import make_breaker
from shutterbox.services.storage.replica import ReplicatedStore


async def bootstrap(settings: Settings | None = None, *, migrate: bool = True) -> Services:
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    imaging.configure_vips()
    breakers: dict[str, CircuitBreaker] = {}

    def breaker(name: str) -> CircuitBreaker:
        breakers[name] = make_breaker(settings, name)
        return breakers[name]

    db = await _database(settings, breaker, migrate=migrate)
    deadlines = StoreDeadlines(
        settings.store_timeout_seconds,
        settings.store_request_timeout_seconds,
        settings.store_retries,
    )
    storage_url = settings.resolved_storage_url()
    store_breaker = breaker("store") if _is_remote_store(storage_url) else None
    store, tiers = open_storage(
        storage_url, settings.class_locations, settings.staging_dir, deadlines, store_breaker
    )
    queue_breaker = None if settings.queue_url.startswith("db:") else breaker("queue")
    queue = open_job_queue(settings.queue_url, db, settings, queue_breaker)
    if settings.purge_targets:
        breaker("edge")
    locations = store.locations.values() if isinstance(store, TieredBlobStore) else [store]
    for location in locations:
        if isinstance(location, LocalBlobStore):
            location.remove_stale_temporary_files()
    hot = store.hot if isinstance(store, TieredBlobStore) else store
    staging = hot.staging_dir() if isinstance(hot, LocalBlobStore) else settings.staging_dir
    staging.mkdir(parents=True, exist_ok=True)
    if settings.replica_url:
        replica = open_blob_store(
            settings.replica_url,
            deadlines,
            breaker("replica") if _is_remote_store(settings.replica_url) else None,
        )
        if isinstance(replica, LocalBlobStore):
            replica.remove_stale_temporary_files()
        replicated = ReplicatedStore(
            store,
            replica,
            scratch_dir=staging,
            tiers=tiers,
            copy_before_ack=settings.replica_copy == "before_ack",
        )
        store, tiers = replicated, (replicated if tiers is not None else None)
    metadata = SqlMetadata(db)
    # One feed of stream wake-ups per process; a commit here wakes SQLite's poller at once.
    event_feed = open_event_feed(
        db, settings.events_poll_seconds, check_seconds=settings.events_safety_poll_seconds
    )
    if isinstance(event_feed, SqliteEventPoller):
        metadata.after_commit.append(event_feed.committed)
    imaging_pool = SandboxPool(
        memory_limit_mb=settings.job_memory_limit_mb,
        time_limit_seconds=settings.job_time_limit_seconds,
        niceness=settings.imaging_niceness,
    )
    return Services(
        secret_key=_secret_key(settings),
        settings=settings,
        metadata=metadata,
        store=store,
        queue=queue,
        staging_dir=staging,
        imaging=imaging_pool,
        tiers=tiers,
        multipart=open_multipart_uploads(storage_url, deadlines, store_breaker),
        event_feed=event_feed,
        rate_limiter=limiter_from(settings, _rate_counters(settings, db, breaker)),
        egress_meter=EgressMeter(),
        breakers=breakers,
    )


def _rate_counters(
    settings: Settings, db: Database, breaker: Callable[[str], CircuitBreaker]
) -> RateCounters:
    """Where the rate limits count: in memory for one process on the embedded default, else
    where every process and node sees the same counts (``SHUTTERBOX_RATE_LIMIT_URL``); Redis,
    another server, gets its deadline and its breaker."""
    url = settings.resolved_rate_limit_url(settings.api_processes)
    if url.split("://", 1)[0].lower() not in ("redis", "rediss"):
        return open_rate_counters(url, db)
    timeout = settings.rate_limit_timeout_seconds
    return open_rate_counters(url, db, timeout, breaker("rate_limit"))


async def _database(
    settings: Settings, breaker: Callable[[str], CircuitBreaker], *, migrate: bool
) -> Database:
    """The metadata database, its schema brought up to date first when asked. PostgreSQL,
    another server, gets its deadlines and its breaker; the migrations run without them (an
    index built on a large table may take longer than any statement should)."""
    url = settings.resolved_database_url()
    if not is_server(url):
        db = open_database(url)
        if migrate:
            await upgrade_to_head(db)
        return db
    if migrate:
        unbounded = open_database(url)
        try:
            await upgrade_to_head(unbounded)
        finally:
            await unbounded.dispose()
    deadlines = DatabaseDeadlines(
        settings.database_statement_timeout_seconds, settings.database_connect_timeout_seconds
    )
    return open_database(url, deadlines=deadlines, breaker=breaker("database"))


def _is_remote_store(url: str) -> bool:
    return not url.startswith(("file:", "memory:"))


def _secret_key(settings: Settings) -> bytes:
    """The configured key, or one generated once and kept in the data directory."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.data_dir / "secret.key"
    if not path.exists():
        candidate = path.with_name(f".secret.key.{os.getpid()}")
        candidate.write_text(secrets.token_hex(32))
        candidate.chmod(0o600)
        try:  # the first process to link its key wins; everyone reads that one
            os.link(candidate, path)
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    return path.read_text().strip().encode()
