"""The blob store port: bytes by key, and the storage classes object stores keep them in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol, runtime_checkable

from shutterbox.domain.storage import StorageClass


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    last_modified: datetime


class BlobStore(Protocol):
    """Bytes by key. A successful put is durable: it survives a crash of this process."""

    async def put_file(self, key: str, path: Path) -> None:
        """Store the file at ``path`` under ``key``; the file is consumed (moved or deleted)."""

    async def put_bytes(self, key: str, data: bytes) -> None: ...

    async def get_bytes(self, key: str) -> bytes:
        """Raise ``KeyError`` if there is no such blob."""

    async def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``start`` up to (not including) ``end``."""

    def stream(self, key: str) -> AsyncIterator[bytes]:
        """The blob's bytes in chunks, without holding them all in memory."""

    async def download(self, key: str, path: Path) -> None:
        """Copy the blob into a local file (for decoders that want a path)."""

    async def info(self, key: str) -> BlobInfo | None: ...

    async def delete(self, key: str) -> None:
        """Remove the blob; a missing blob is not an error."""

    def list(self, prefix: str) -> AsyncIterator[BlobInfo]: ...

    async def delete_under(self, prefix: str) -> None:
        """Remove every blob under ``prefix`` (whose key starts with ``prefix/``); on a
        local disk, the directory too."""

    async def rename(self, source: str, target: str) -> None:
        """Move a blob to another key; ``KeyError`` if there is no such blob."""

    async def presign_put(self, key: str, expires_in: timedelta) -> str | None:
        """A URL a client can PUT the bytes to directly, or None if the store cannot sign."""

    async def presign_get(self, key: str, expires_in: timedelta) -> str | None:
        """A URL a client can GET the bytes from directly, or None if the store cannot sign."""

    def local_path(self, key: str) -> Path | None:
        """The file holding the blob when the store is a local directory, else None."""

    async def check(self) -> None:
        """Raise if the store cannot be reached."""


@runtime_checkable
class TemporaryFileHolder(Protocol):
    """A blob store that writes through temporary files of its own (a local directory)."""

    def temporary_directories(self) -> tuple[Path, ...]:
        """Where its temporary files are, so that those a dead process left can be found."""


class BlobArchived(Exception):
    """The blob is in an archive storage class and has no restored copy to read."""


@dataclass(frozen=True)
class RestoreStatus:
    in_progress: bool  # a restore was asked for and its copy is not readable yet
    readable: bool  # the blob can be read now (not archived, or a restored copy exists)
    expires_at: datetime | None  # when the restored copy goes away, if the store says


class StorageTiers(Protocol):
    """Storage classes of blobs, as object stores have them: on S3 the objects' real classes,
    elsewhere a location per class."""

    async def storage_class(self, key: str) -> StorageClass | None:
        """The class the store holds the blob in; None if there is no such blob."""

    async def put_file_in_class(self, key: str, path: Path, storage_class: StorageClass) -> None:
        """Store a new blob directly in ``storage_class`` (the file is consumed)."""

    async def transition(self, key: str, storage_class: StorageClass) -> None:
        """Move an existing, readable blob into another class; ``KeyError`` if missing."""

    async def restore(self, key: str, days: int) -> None:
        """Start making a readable copy of an archived blob that lasts ``days``; asking again
        while one is under way or present is not an error."""

    async def restore_status(self, key: str) -> RestoreStatus: ...

    async def end_restore(self, key: str) -> None:
        """Drop the restored copy where the store does not expire it by itself."""


@dataclass(frozen=True)
class UploadedPart:
    number: int
    size: int
    etag: str


class MultipartUploads(Protocol):
    """Multipart uploads a client sends straight to the bucket, part by part."""

    async def start(self, key: str, content_type: str) -> str:
        """A new multipart upload to ``key``; its id."""

    async def part_urls(
        self, key: str, upload_id: str, sizes: Mapping[int, int], expires_in: timedelta
    ) -> dict[int, str]:
        """A URL to PUT each numbered part to, signed for exactly its size in ``sizes``."""

    async def parts(self, key: str, upload_id: str) -> list[UploadedPart]:
        """The parts the bucket has received, in order."""

    async def complete(self, key: str, upload_id: str, parts: Sequence[UploadedPart]) -> None:
        """Join ``parts`` into the object at ``key``."""

    async def abort(self, key: str, upload_id: str) -> None:
        """Drop the upload and every part it received (done already: nothing to do)."""
