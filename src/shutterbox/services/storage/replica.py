"""A second copy of every original (``SHUTTERBOX_REPLICA_URL``).

``ReplicatedStore`` is the blob store the services use when a replica is configured: it
writes an original to both stores (before the upload is answered, or, with
``SHUTTERBOX_REPLICA_COPY=before_ready``, the worker copies it before the image is ready),
deletes both copies, and reads an original from the replica when the first copy is missing.
A copy that is there but damaged is only found by its SHA-256: ``originals.py`` checks it
where the whole original is read, and the scrub repairs either copy from the other.
Variants have no second copy: they can be made again from the original.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio

from shutterbox.domain.images import is_original_key
from shutterbox.domain.storage import StorageClass
from shutterbox.ports import (
    BlobInfo,
    BlobStore,
    RestoreStatus,
    StorageTiers,
    TemporaryFileHolder,
)
from shutterbox.services import metrics

log = logging.getLogger(__name__)

_Put = Callable[[str, Path], Coroutine[Any, Any, None]]  # a put of a file under a key


class ReplicatedStore:
    """A BlobStore (and the StorageTiers of the first store, when it has them) keeping every
    original in ``primary`` and ``replica``."""

    def __init__(
        self,
        primary: BlobStore,
        replica: BlobStore,
        *,
        scratch_dir: Path,
        tiers: StorageTiers | None = None,
        copy_before_ack: bool = True,
    ) -> None:
        self.primary = primary
        self.replica = replica
        self.scratch_dir = scratch_dir
        self.primary_tiers = tiers
        self.copy_before_ack = copy_before_ack

    def __repr__(self) -> str:
        return f"ReplicatedStore({self.primary!r}, replica={self.replica!r})"

    @staticmethod
    def replicated(key: str) -> bool:
        return is_original_key(key)

    def _copies_now(self, key: str) -> bool:
        return self.copy_before_ack and self.replicated(key)

    # Writes: both copies of an original, before the write returns.

    async def put_file(self, key: str, path: Path) -> None:
        if not self._copies_now(key):
            await self.primary.put_file(key, path)
            return
        await self._put_both(key, path, self.primary.put_file)

    async def put_file_in_class(self, key: str, path: Path, storage_class: StorageClass) -> None:
        tiers = self._tiers()
        if not self._copies_now(key):
            await tiers.put_file_in_class(key, path, storage_class)
            return

        async def put_first(key: str, path: Path) -> None:
            await tiers.put_file_in_class(key, path, storage_class)

        await self._put_both(key, path, put_first)

    async def _put_both(self, key: str, path: Path, put_first: _Put) -> None:
        """Both puts at once: the replica's from a copy of the file."""
        second = await anyio.to_thread.run_sync(_second_name, Path(path))
        try:
            async with asyncio.TaskGroup() as both:
                both.create_task(put_first(key, path))
                both.create_task(self.replica.put_file(key, second))
        except BaseExceptionGroup as failed:
            # Neither copy is referenced yet: what was stored is an orphan for the scrub.
            raise failed.exceptions[0] from None
        finally:
            second.unlink(missing_ok=True)
            Path(path).unlink(missing_ok=True)

    async def put_bytes(self, key: str, data: bytes) -> None:
        if not self._copies_now(key):
            await self.primary.put_bytes(key, data)
            return
        await asyncio.gather(self.primary.put_bytes(key, data), self.replica.put_bytes(key, data))

    async def rename(self, source: str, target: str) -> None:
        """Moved in the first store; an original arriving this way (a direct upload) is then
        copied to the replica."""
        await self.primary.rename(source, target)
        if self._copies_now(target):
            await self.copy_to_replica(target)

    async def copy_to_replica(self, key: str, source: Path | None = None) -> None:
        """Put the first store's copy of ``key`` (or the file ``source``, left in place) in
        the replica."""
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.scratch_dir) as scratch:
            copy = Path(scratch) / "copy"
            local = source or self.primary.local_path(key)
            if local is not None:
                await anyio.to_thread.run_sync(shutil.copyfile, local, copy)
            else:
                await self.primary.download(key, copy)
            await self.replica.put_file(key, copy)

    async def delete(self, key: str) -> None:
        await self.primary.delete(key)
        if self.replicated(key):
            await self.replica.delete(key)

    async def delete_under(self, prefix: str) -> None:
        await self.primary.delete_under(prefix)
        if self.replicated(f"{prefix}/"):
            await self.replica.delete_under(prefix)

    # Reads: the first copy; an original missing there is read from the replica.

    async def get_bytes(self, key: str) -> bytes:
        try:
            return await self.primary.get_bytes(key)
        except KeyError:
            if not self.replicated(key):
                raise
        data = await self.replica.get_bytes(key)
        _replica_read(key, "missing")
        return data

    async def get_range(self, key: str, start: int, end: int) -> bytes:
        try:
            return await self.primary.get_range(key, start, end)
        except KeyError:
            if not self.replicated(key):
                raise
        data = await self.replica.get_range(key, start, end)
        _replica_read(key, "missing")
        return data

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        chunks = aiter(self.primary.stream(key))
        try:
            first = await anext(chunks)
        except StopAsyncIteration:
            return
        except KeyError:
            if not self.replicated(key):
                raise
            _replica_read(key, "missing")
            async for chunk in self.replica.stream(key):
                yield chunk
            return
        yield first
        async for chunk in chunks:
            yield chunk

    async def download(self, key: str, path: Path) -> None:
        try:
            await self.primary.download(key, path)
            return
        except KeyError:
            if not self.replicated(key):
                raise
        await self.replica.download(key, path)
        _replica_read(key, "missing")

    async def info(self, key: str) -> BlobInfo | None:
        found = await self.primary.info(key)
        if found is None and self.replicated(key):
            return await self.replica.info(key)
        return found

    def local_path(self, key: str) -> Path | None:
        path = self.primary.local_path(key)
        if path is None and self.replicated(key):
            path = self.replica.local_path(key)
            if path is not None:
                _replica_read(key, "missing")
        return path

    def list(self, prefix: str) -> AsyncIterator[BlobInfo]:
        return self.primary.list(prefix)

    async def presign_put(self, key: str, expires_in: timedelta) -> str | None:
        return await self.primary.presign_put(key, expires_in)

    async def presign_get(self, key: str, expires_in: timedelta) -> str | None:
        return await self.primary.presign_get(key, expires_in)

    async def check(self) -> None:
        await self.primary.check()
        try:
            await self.replica.check()
        except Exception as exc:
            raise OSError(f"the replica store: {exc}") from exc

    def temporary_directories(self) -> tuple[Path, ...]:
        """Both stores' temporary files (``TemporaryFileHolder``)."""
        return tuple(
            directory
            for store in (self.primary, self.replica)
            if isinstance(store, TemporaryFileHolder)
            for directory in store.temporary_directories()
        )

    # StorageTiers: the first store's classes (the replica keeps its copies as they are).

    def _tiers(self) -> StorageTiers:
        if self.primary_tiers is None:
            raise ValueError("the store has no storage classes")
        return self.primary_tiers

    async def storage_class(self, key: str) -> StorageClass | None:
        return await self._tiers().storage_class(key)

    async def transition(self, key: str, storage_class: StorageClass) -> None:
        await self._tiers().transition(key, storage_class)

    async def restore(self, key: str, days: int) -> None:
        await self._tiers().restore(key, days)

    async def restore_status(self, key: str) -> RestoreStatus:
        return await self._tiers().restore_status(key)

    async def end_restore(self, key: str) -> None:
        await self._tiers().end_restore(key)


def _second_name(path: Path) -> Path:
    """A copy of the file for the replica's put to consume. Never a hard link: two stores on
    one filesystem would then hold one file, and damage to it would reach both."""
    second = path.with_name(f"{path.name}.replica")
    shutil.copyfile(path, second)
    return second


def _replica_read(key: str, reason: str) -> None:
    log.warning("original %s read from the replica: the first copy is %s", key, reason)
    metrics.REPLICA_READS.labels(reason=reason).inc()


def replicated_store(store: BlobStore) -> ReplicatedStore | None:
    """The store as a ReplicatedStore, when a replica is configured."""
    return store if isinstance(store, ReplicatedStore) else None


def copies(store: BlobStore) -> list[tuple[str, BlobStore]]:
    """The stores holding a copy of each original, first copy first, by name."""
    replicated = replicated_store(store)
    if replicated is None:
        return [("primary", store)]
    return [("primary", replicated.primary), ("replica", replicated.replica)]


def first_and_replica(store: BlobStore) -> tuple[BlobStore, BlobStore | None]:
    """The first store and the replica (None without one), each on its own."""
    replicated = replicated_store(store)
    if replicated is None:
        return store, None
    return replicated.primary, replicated.replica
