"""Storage classes for stores that have none (a local directory, memory): a location per class.

The STANDARD location is the ordinary blob store; every other class is a store of its own
(for example a directory on cheaper disks). A blob lives in exactly one class location. An
archived blob (GLACIER, DEEP_ARCHIVE) cannot be read from where it lives, just as on S3:
a restore copies it into the STANDARD location, and ``end_restore`` removes that copy.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from pathlib import Path

from shutterbox.domain.storage import StorageClass
from shutterbox.ports import (
    BlobArchived,
    BlobInfo,
    BlobStore,
    RestoreStatus,
    TemporaryFileHolder,
)

# Coldest first: where a blob lives is looked up there, so a restored copy in STANDARD is
# not mistaken for the blob itself.
_LOOKUP_ORDER = tuple(reversed(StorageClass))


class TieredBlobStore:
    """A BlobStore whose blobs may live in several class locations, and its StorageTiers."""

    def __init__(self, locations: Mapping[StorageClass, BlobStore], scratch_dir: Path) -> None:
        if StorageClass.STANDARD not in locations:
            raise ValueError("the STANDARD location is required")
        self.locations = dict(locations)
        self.hot = self.locations[StorageClass.STANDARD]
        self.scratch_dir = scratch_dir
        self.scratch_dir.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"TieredBlobStore({self.hot!r}, {len(self.locations)} classes)"

    def _location(self, storage_class: StorageClass) -> BlobStore:
        try:
            return self.locations[storage_class]
        except KeyError:
            raise ValueError(f"no location is configured for {storage_class}") from None

    async def _readable_holder(self, key: str) -> BlobStore:
        """The location to read ``key`` from: STANDARD (the blob or its restored copy), then
        the other readable classes. ``BlobArchived`` if only an archive holds it."""
        if await self.hot.info(key) is not None:
            return self.hot
        archived = False
        for storage_class in _LOOKUP_ORDER:
            location = self.locations.get(storage_class)
            if location is None or location is self.hot:
                continue
            if await location.info(key) is not None:
                if storage_class.is_archive:
                    archived = True
                    continue
                return location
        if archived:
            raise BlobArchived(key)
        raise KeyError(key)

    # BlobStore: new blobs go to STANDARD; reads find the blob wherever it is readable.

    async def put_file(self, key: str, path: Path) -> None:
        await self.hot.put_file(key, path)

    async def put_bytes(self, key: str, data: bytes) -> None:
        await self.hot.put_bytes(key, data)

    async def get_bytes(self, key: str) -> bytes:
        return await (await self._readable_holder(key)).get_bytes(key)

    async def get_range(self, key: str, start: int, end: int) -> bytes:
        return await (await self._readable_holder(key)).get_range(key, start, end)

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        holder = await self._readable_holder(key)
        async for chunk in holder.stream(key):
            yield chunk

    async def download(self, key: str, path: Path) -> None:
        await (await self._readable_holder(key)).download(key, path)

    async def info(self, key: str) -> BlobInfo | None:
        for location in (self.hot, *self.locations.values()):
            found = await location.info(key)
            if found is not None:
                return found
        return None

    async def delete(self, key: str) -> None:
        for location in self.locations.values():
            await location.delete(key)

    async def delete_under(self, prefix: str) -> None:
        for location in self.locations.values():
            await location.delete_under(prefix)

    async def list(self, prefix: str) -> AsyncIterator[BlobInfo]:
        seen: set[str] = set()
        for location in self.locations.values():
            async for found in location.list(prefix):
                if found.key not in seen:
                    seen.add(found.key)
                    yield found

    async def rename(self, source: str, target: str) -> None:
        await self.hot.rename(source, target)

    async def presign_put(self, key: str, expires_in: timedelta) -> str | None:
        return await self.hot.presign_put(key, expires_in)

    async def presign_get(self, key: str, expires_in: timedelta) -> str | None:
        return None  # the origin decides whether the blob is readable

    def local_path(self, key: str) -> Path | None:
        path = self.hot.local_path(key)
        if path is not None:
            return path
        for storage_class, location in self.locations.items():
            if location is not self.hot and not storage_class.is_archive:
                path = location.local_path(key)
                if path is not None:
                    return path
        return None

    async def check(self) -> None:
        for location in self.locations.values():
            await location.check()

    def temporary_directories(self) -> tuple[Path, ...]:
        """Those of the class locations that write through temporary files of their own."""
        return tuple(
            directory
            for location in self.locations.values()
            if isinstance(location, TemporaryFileHolder)
            for directory in location.temporary_directories()
        )

    # StorageTiers

    async def storage_class(self, key: str) -> StorageClass | None:
        for storage_class in _LOOKUP_ORDER:
            location = self.locations.get(storage_class)
            if location is not None and await location.info(key) is not None:
                return storage_class
        return None

    async def put_file_in_class(self, key: str, path: Path, storage_class: StorageClass) -> None:
        await self._location(storage_class).put_file(key, path)

    async def transition(self, key: str, storage_class: StorageClass) -> None:
        current = await self.storage_class(key)
        if current is None:
            raise KeyError(key)
        if current == storage_class:
            return
        source = self.hot if current.is_archive else self.locations[current]
        if current.is_archive and await self.hot.info(key) is None:
            raise BlobArchived(key)  # S3 too refuses to copy an archived object unrestored
        await self._copy(source, self._location(storage_class), key)
        await self.locations[current].delete(key)
        if current.is_archive:
            await self.hot.delete(key)  # the restored copy goes with the archived blob

    async def restore(self, key: str, days: int) -> None:
        current = await self.storage_class(key)
        if current is None:
            raise KeyError(key)
        if not current.is_archive or await self.hot.info(key) is not None:
            return
        await self._copy(self.locations[current], self.hot, key)

    async def restore_status(self, key: str) -> RestoreStatus:
        current = await self.storage_class(key)
        if current is None:
            raise KeyError(key)
        if not current.is_archive:
            return RestoreStatus(in_progress=False, readable=True, expires_at=None)
        restored = await self.hot.info(key) is not None
        return RestoreStatus(in_progress=False, readable=restored, expires_at=None)

    async def end_restore(self, key: str) -> None:
        current = await self.storage_class(key)
        if current is not None and current.is_archive:
            await self.hot.delete(key)

    async def _copy(self, source: BlobStore, target: BlobStore, key: str) -> None:
        """Through a scratch file: a blob may be far larger than memory should hold."""
        handle = tempfile.NamedTemporaryFile(dir=self.scratch_dir, prefix="tier-", delete=False)  # noqa: SIM115
        handle.close()
        path = Path(handle.name)
        try:
            await source.download(key, path)
            await target.put_file(key, path)  # consumes the file
        finally:
            path.unlink(missing_ok=True)
