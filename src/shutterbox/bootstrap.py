"""The composition root: the one place that picks adapters from settings and wires them."""

from __future__ import annotations

from shutterbox.adapters import imaging
from shutterbox.adapters.blobs import LocalBlobStore, open_blob_store
from shutterbox.adapters.db.engine import open_database
from shutterbox.adapters.db.migrate import upgrade_to_head
from shutterbox.adapters.imaging_sandbox import SandboxPool
from shutterbox.adapters.queue import open_job_queue
from shutterbox.config import Settings
from shutterbox.services.context import Services


async def bootstrap(settings: Settings | None = None, *, migrate: bool = True) -> Services:
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    imaging.configure_vips()
    db = open_database(settings.resolved_database_url())
    if migrate:
        await upgrade_to_head(db)
    store = open_blob_store(settings.resolved_storage_url())
    queue = open_job_queue(settings.queue_url, db, settings)
    if isinstance(store, LocalBlobStore):
        store.remove_stale_temporary_files()
        staging = store.staging_dir()
    else:
        staging = settings.staging_dir
    staging.mkdir(parents=True, exist_ok=True)
    imaging_pool = SandboxPool(
        memory_limit_mb=settings.job_memory_limit_mb,
        time_limit_seconds=settings.job_time_limit_seconds,
    )
    return Services(
        settings=settings,
        db=db,
        store=store,
        queue=queue,
        staging_dir=staging,
        imaging=imaging_pool,
    )
