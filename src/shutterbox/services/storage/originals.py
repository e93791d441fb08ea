"""Reading an original whole, as it was uploaded: its SHA-256 is checked, and with a replica
a copy that is missing or damaged in the first store is read from the second instead."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio

from shutterbox.domain.errors import ImageRejected
from shutterbox.ports import BlobStore
from shutterbox.services import metrics
from shutterbox.services.context import Services
from shutterbox.services.images.staging import file_sha256
from shutterbox.services.storage.blob_hashes import blob_sha256
from shutterbox.services.storage.replica import copies, replicated_store

log = logging.getLogger(__name__)


@asynccontextmanager
async def verified_original(services: Services, key: str, sha256: str) -> AsyncIterator[Path]:
    """A local file holding the original's bytes as uploaded (the store's own file where it is
    a local directory, else a temporary download): the first copy, or the replica's when the
    first is missing or fails its SHA-256. ``ImageRejected`` when no copy is right, ``KeyError``
    when there is none."""
    why = "missing"  # what was wrong with the copies tried before
    for name, store in copies(services.store):
        local = store.local_path(key)
        if local is not None:
            if await anyio.to_thread.run_sync(file_sha256, local) == sha256:
                _note_read_from(name, key, why)
                yield local
                return
            why = "damaged"
            continue
        services.staging_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=services.staging_dir) as scratch:
            path = Path(scratch) / "original"
            try:
                await store.download(key, path)
            except KeyError:
                continue
            if await anyio.to_thread.run_sync(file_sha256, path) == sha256:
                _note_read_from(name, key, why)
                yield path
                return
            why = "damaged"
    if why == "missing":
        raise KeyError(key)  # as a read of a missing blob: the job is tried again later
    raise ImageRejected("the original's bytes are not the ones uploaded (SHA-256)")


async def serving_store(services: Services, key: str, sha256: str) -> BlobStore:
    """The store to send an original from. Without a replica, the store as it is; with one,
    the first copy whose SHA-256 is right (read once more to check it), else the first."""
    if replicated_store(services.store) is None:
        return services.store
    why = "missing"
    for name, store in copies(services.store):
        digest = await _digest(store, key)
        if digest == sha256:
            _note_read_from(name, key, why)
            return store
        if digest is not None:
            why = "damaged"
    return services.store


async def ensure_replicated(services: Services, key: str, size: int, verified: Path) -> None:
    """Give the replica its copy of an original that it lacks (or holds at another size),
    from ``verified`` (left in place): how an original reaches the replica when uploads are
    answered before it does (``SHUTTERBOX_REPLICA_COPY=before_ready``)."""
    replicated = replicated_store(services.store)
    if replicated is None:
        return
    held = await replicated.replica.info(key)
    if held is not None and held.size == size:
        return
    await replicated.copy_to_replica(key, verified)


async def _digest(store: BlobStore, key: str) -> str | None:
    local = store.local_path(key)
    if local is not None:
        return await anyio.to_thread.run_sync(file_sha256, local)
    try:
        digest, _ = await blob_sha256(store, key)
    except KeyError:
        return None
    return digest


def _note_read_from(name: str, key: str, reason: str) -> None:
    if name == "replica":
        log.warning("original %s read from the replica: the first copy is %s", key, reason)
        metrics.REPLICA_READS.labels(reason=reason).inc()
