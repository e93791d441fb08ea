"""A BlobStore over any obstore store (in-memory, S3-compatible, GCS, Azure, local)."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import obstore
from obstore.exceptions import (
    AlreadyExistsError,
    InvalidPathError,
    NotFoundError,
    NotModifiedError,
    PreconditionError,
)
from obstore.exceptions import BaseError as ObjectStoreError
from obstore.store import AzureStore, GCSStore, S3Store

from shutterbox.domain.resilience import CircuitBreaker, guarded
from shutterbox.ports import BlobInfo


class ObjectBlobStore:
    """``breaker``: the store's circuit breaker, around every call that reaches it (none for a
    local directory or memory, which are no other server); its deadlines and retries are the
    client's own (``open_blob_store``)."""

    def __init__(
        self, store: Any, *, description: str, breaker: CircuitBreaker | None = None
    ) -> None:
        self.store = store
        self.description = description
        self.breaker = breaker

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.description})"

    def _call(self) -> contextlib.AbstractContextManager[None]:
        """One call to the store, through its breaker if it has one."""
        return guarded(self.breaker, is_outage)

    async def put_file(self, key: str, path: Path) -> None:
        try:
            with self._call(), open(path, "rb") as handle:
                await obstore.put_async(self.store, key, handle)
        finally:
            path.unlink(missing_ok=True)

    async def put_bytes(self, key: str, data: bytes) -> None:
        with self._call():
            await obstore.put_async(self.store, key, data)

    async def get_bytes(self, key: str) -> bytes:
        try:
            with self._call():
                result = await obstore.get_async(self.store, key)
                return bytes(await result.bytes_async())
        except (NotFoundError, FileNotFoundError) as exc:
            raise KeyError(key) from exc

    async def get_range(self, key: str, start: int, end: int) -> bytes:
        if end <= start:
            return b""
        try:
            with self._call():
                got = await obstore.get_range_async(self.store, key, start=start, end=end)
                return bytes(got)
        except (NotFoundError, FileNotFoundError) as exc:
            raise KeyError(key) from exc

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        with self._call():
            try:
                result = await obstore.get_async(self.store, key)
            except (NotFoundError, FileNotFoundError) as exc:
                raise KeyError(key) from exc
            async for chunk in result.stream():
                yield bytes(chunk)

    async def download(self, key: str, path: Path) -> None:
        try:
            with self._call():
                result = await obstore.get_async(self.store, key)
                async with await anyio.open_file(path, "wb") as out:
                    async for chunk in result.stream():
                        await out.write(bytes(chunk))
        except (NotFoundError, FileNotFoundError) as exc:
            raise KeyError(key) from exc

    async def info(self, key: str) -> BlobInfo | None:
        try:
            with self._call():
                meta = await obstore.head_async(self.store, key)
        except (NotFoundError, FileNotFoundError):
            return None
        return BlobInfo(key=key, size=meta["size"], last_modified=meta["last_modified"])

    async def delete(self, key: str) -> None:
        with contextlib.suppress(NotFoundError, FileNotFoundError), self._call():
            await obstore.delete_async(self.store, key)

    async def list(self, prefix: str) -> AsyncIterator[BlobInfo]:
        with self._call():
            async for batch in obstore.list(self.store, prefix=prefix or None):
                for meta in batch:
                    yield BlobInfo(meta["path"], meta["size"], meta["last_modified"])

    async def delete_under(self, prefix: str) -> None:
        keys = [info.key async for info in self.list(prefix)]
        for key in keys:
            await self.delete(key)

    async def rename(self, source: str, target: str) -> None:
        """Move a blob to another key (a server-side copy and delete on object stores)."""
        try:
            with self._call():
                await obstore.rename_async(self.store, source, target)
        except (NotFoundError, FileNotFoundError) as exc:
            raise KeyError(source) from exc

    async def presign_put(self, key: str, expires_in: timedelta) -> str | None:
        """A URL a client can PUT the blob's bytes to directly, or None if the store cannot
        sign one (then the origin receives the bytes itself)."""
        if not isinstance(self.store, (S3Store, GCSStore, AzureStore)):
            return None
        url: str = await obstore.sign_async(self.store, "PUT", key, expires_in)
        return url

    async def presign_get(self, key: str, expires_in: timedelta) -> str | None:
        if not isinstance(self.store, (S3Store, GCSStore, AzureStore)):
            return None
        url: str = await obstore.sign_async(self.store, "GET", key, expires_in)
        return url

    def local_path(self, key: str) -> Path | None:
        return None

    async def check(self) -> None:
        async for _ in self.list("health-check/"):
            break


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` says the store cannot be reached, did not answer in time or failed
    (not: a missing key, a key that exists, a failed precondition, a bad path)."""
    if isinstance(error, NotFoundError | FileNotFoundError | KeyError | AlreadyExistsError):
        return False
    if isinstance(error, PreconditionError | NotModifiedError | InvalidPathError):
        return False
    return isinstance(error, ObjectStoreError | OSError)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobStore(ObjectBlobStore):
    """Blobs as files under ``root``, read through obstore's LocalStore.

    Writes do not go through obstore: its local put does not fsync. Here a put
    writes a temporary file next to the target, renames it into place, fsyncs it
    and the directories it created, so a blob that was put survives a crash or
    power loss, and a reader never sees a half-written one (an existing blob is
    replaced only once the new bytes are on disk).
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._tmp = self.root / ".tmp"
        self._tmp.mkdir(exist_ok=True)
        super().__init__(obstore.store.LocalStore(self.root), description=str(self.root))

    def _path(self, key: str) -> Path:
        if not key or key.startswith("/") or ".." in key.split("/") or key.startswith(".tmp"):
            raise ValueError(f"invalid blob key {key!r}")
        return self.root / key

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    def _publish(self, source: Path, key: str) -> None:
        target = self._path(key)
        created = []
        parent = target.parent
        while not parent.exists():
            created.append(parent)
            parent = parent.parent
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(source, "rb+") as handle:
            os.fchmod(handle.fileno(), _PUBLISHED_MODE)
            if target.exists():  # replacing a blob: the new bytes are on disk before the name
                os.fsync(handle.fileno())
                os.replace(source, target)
            else:
                # A new name first: on a journalling filesystem one commit then holds both the
                # file's blocks and its name, and the directory's fsync has nothing left to do.
                # Nothing refers to the key until this put has returned.
                os.replace(source, target)
                os.fsync(handle.fileno())
        _fsync_dir(target.parent)
        for directory in created:
            _fsync_dir(directory.parent)

    async def put_file(self, key: str, path: Path) -> None:
        path = Path(path)
        try:
            same_device = path.stat().st_dev == self.root.stat().st_dev
        except FileNotFoundError:
            raise
        if not same_device:  # copied into a temporary file of ours, then published
            try:
                await anyio.to_thread.run_sync(self._copy_in, path, key)
            finally:
                path.unlink(missing_ok=True)
            return
        try:
            await anyio.to_thread.run_sync(self._publish, path, key)
        finally:
            path.unlink(missing_ok=True)

    def _copy_in(self, source: Path, key: str) -> None:
        fd, name = _mkstemp(self._tmp)
        os.close(fd)
        try:
            shutil.copyfile(source, name)
            self._publish(Path(name), key)
        finally:
            Path(name).unlink(missing_ok=True)

    async def put_bytes(self, key: str, data: bytes) -> None:
        def write() -> None:
            fd, name = _mkstemp(self._tmp)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                self._publish(Path(name), key)
            finally:
                Path(name).unlink(missing_ok=True)

        await anyio.to_thread.run_sync(write)

    async def download(self, key: str, path: Path) -> None:
        source = self.local_path(key)
        if source is None:
            raise KeyError(key)
        await anyio.to_thread.run_sync(_copy, source, path)

    async def list(self, prefix: str) -> AsyncIterator[BlobInfo]:
        async for info in super().list(prefix):
            if not info.key.startswith(".tmp/"):
                yield info

    async def delete_under(self, prefix: str) -> None:
        await super().delete_under(prefix)
        directory = self._path(prefix)
        if directory.is_dir():  # emptied above; not left behind as one more directory
            await anyio.to_thread.run_sync(partial(shutil.rmtree, directory, ignore_errors=True))

    async def check(self) -> None:
        """Write and remove a temporary file: permission bits say nothing for root, and
        nothing about a directory that was replaced or a filesystem that went read-only."""

        def probe() -> None:
            fd, name = _mkstemp(self._tmp)
            os.close(fd)
            os.unlink(name)

        try:
            await anyio.to_thread.run_sync(probe)
        except OSError as exc:
            raise OSError(f"blob directory {self.root} is not writable: {exc}") from exc

    def remove_stale_temporary_files(self, older_than_seconds: float = 3600.0) -> int:
        """Delete temporary files left by a process that died mid-write; return how many.
        Only old ones: another live process may be writing a fresh one right now."""
        import time

        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self._tmp.iterdir():
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    async def rename(self, source: str, target: str) -> None:
        source_path, target_path = self._path(source), self._path(target)
        if not source_path.is_file():
            raise KeyError(source)

        def move() -> None:
            target_path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source_path, target_path)
            _fsync_dir(target_path.parent)
            _fsync_dir(source_path.parent)

        await anyio.to_thread.run_sync(move)

    async def presign_put(self, key: str, expires_in: timedelta) -> str | None:
        return None  # the origin takes the bytes itself, through its own signed URL

    async def presign_get(self, key: str, expires_in: timedelta) -> str | None:
        return None  # served by the origin (or, behind nginx, by nginx: X-Accel-Redirect)

    def staging_dir(self) -> Path:
        """A directory on the store's filesystem: files put from there are renamed, not copied."""
        return self._tmp

    def temporary_directories(self) -> tuple[Path, ...]:
        """Where a put writes before it renames into place (``TemporaryFileHolder``)."""
        return (self._tmp,)


def _published_mode() -> int:
    """The mode an ordinary ``open()`` would give a new file: 0666 less the process's umask.
    Temporary files are made 0600; a published blob gets this instead, so that the umask
    (systemd's ``UMask=``) decides whether a front server in the service's group may read
    it and send it itself (X-Accel-Redirect, deploy/nginx)."""
    mask = os.umask(0o077)  # reading the umask means setting it; the stricter one meanwhile
    os.umask(mask)
    return 0o666 & ~mask


_PUBLISHED_MODE = _published_mode()


def _mkstemp(directory: Path) -> tuple[int, str]:
    import tempfile

    return tempfile.mkstemp(dir=directory, prefix="put-")


def _copy(source: Path, target: Path) -> None:
    import shutil

    shutil.copyfile(source, target)
