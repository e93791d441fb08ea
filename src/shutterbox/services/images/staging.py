"""Staging: the one way bytes arrive, whatever brings them.

A multipart upload, a file imported from local disk and a direct upload copied back from the
store all go through a ``Stager``: it writes the bytes once to a file in the staging
directory (on the blob store's own filesystem, so that publishing it is a rename), hashes
(SHA-256) and measures them as they arrive, refuses them as soon as they pass the size limit,
and keeps the first bytes to sniff the picture's type from. Nothing is held in memory whole.

On the event loop, bytes are gathered in memory up to ``FLUSH_BYTES`` and then hashed and
written by a worker thread (``take`` then ``drain``): hashing and writing into the page cache
release the GIL, so they run beside the parsing of other uploads instead of stalling it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

import anyio

from shutterbox.domain.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from shutterbox.domain.formats import ACCEPTED_NAMES, SNIFF_BYTES, ImageFormat, sniff_format

CHUNK_BYTES = 1 << 20
FLUSH_BYTES = 1 << 20  # gathered in memory before a worker thread hashes and writes them
_START_WRITEBACK = hasattr(os, "posix_fadvise")  # Linux; elsewhere the final fsync does it all


@dataclass
class StagedFile:
    """An uploaded file written to local disk, with what was learned while writing it."""

    path: Path
    size: int
    sha256: str
    format: ImageFormat


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read a block at a time (blocking: run it in a thread)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def too_large_message(max_bytes: int, what: str = "file") -> str:
    return f"the {what} is larger than the limit of {max_bytes // (1024 * 1024)} MB"


class Stager:
    """One staging file being written. Use it as a context manager: if the block raises, the
    partial file is removed; ``finish_picture`` or ``finish_bytes`` hand the file over."""

    def __init__(
        self,
        staging_dir: Path,
        max_bytes: int,
        *,
        prefix: str = "upload-",
        too_large: str | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.too_large = too_large or too_large_message(max_bytes)
        fd, name = tempfile.mkstemp(dir=staging_dir, prefix=prefix)
        self.path = Path(name)
        self._handle: IO[bytes] | None = os.fdopen(fd, "wb")
        self._digest = hashlib.sha256()
        self._head = bytearray()
        self._pending = bytearray()
        self.size = 0
        self._handed_over = False

    def take(self, chunk: bytes | memoryview) -> None:
        """Count, check and keep ``chunk`` in memory; ``drain`` writes it out."""
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise PayloadTooLarge(self.too_large)
        if len(self._head) < SNIFF_BYTES:
            self._head += chunk[: SNIFF_BYTES - len(self._head)]
        self._pending += chunk

    @property
    def wants_drain(self) -> bool:
        return len(self._pending) >= FLUSH_BYTES

    async def drain(self) -> None:
        """Hash and write what ``take`` kept, in a worker thread."""
        if self._pending:
            block, self._pending = self._pending, bytearray()
            await anyio.to_thread.run_sync(self._write_block, block)

    def write(self, chunk: bytes) -> None:
        """``take`` and write at once (blocking: for callers already in a thread)."""
        self.take(chunk)
        self._write_pending()

    async def write_all(self, chunks: AsyncIterator[bytes]) -> None:
        async for chunk in chunks:
            self.take(chunk)
            if self.wants_drain:
                await self.drain()
        await self.drain()

    def _write_pending(self) -> None:
        if self._pending:
            block, self._pending = self._pending, bytearray()
            self._write_block(block)

    def _write_block(self, block: bytearray) -> None:
        self._digest.update(block)
        assert self._handle is not None, "the staging file is already closed"
        start = self._handle.tell()
        self._handle.write(block)
        self._handle.flush()
        # Start writing these pages to disk now, without waiting (pages still being written
        # stay cached): the fsync that makes the upload durable then has little left to do.
        if block and _START_WRITEBACK:  # a length of 0 would mean "to the end of the file"
            os.posix_fadvise(self._handle.fileno(), start, len(block), os.POSIX_FADV_DONTNEED)

    def copy_from(self, source: Path) -> None:
        """Stage a local file (blocking: run it in a thread)."""
        with open(source, "rb") as handle:
            self.copy_from_file(handle)

    def copy_from_file(self, handle: IO[bytes]) -> None:
        """Stage what an open file gives, to its end (blocking: run it in a thread)."""
        while chunk := handle.read(CHUNK_BYTES):
            self.write(chunk)

    def finish_bytes(self) -> Path:
        """The bytes as they came, measured but not judged (the caller checks them later)."""
        self._write_pending()
        self._close()
        self._handed_over = True
        return self.path

    def digest(self) -> bytes:
        """The SHA-256 of the bytes taken so far (all of them once ``finish_bytes`` ran)."""
        return self._digest.digest()

    def finish_picture(self) -> StagedFile:
        """The staged picture; ``InvalidInput`` if empty, ``UnsupportedMediaType`` if the
        bytes are not a picture in an accepted format (the file is removed then)."""
        self._write_pending()
        self._close()
        if self.size == 0:
            raise InvalidInput("the file is empty")
        image_format = sniff_format(bytes(self._head))
        if image_format is None:
            raise UnsupportedMediaType(
                f"the file is not a picture in a supported format; accepted: {ACCEPTED_NAMES}"
            )
        self._handed_over = True
        return StagedFile(self.path, self.size, self._digest.hexdigest(), image_format)

    def discard(self) -> None:
        self._pending = bytearray()
        self._close()
        self.path.unlink(missing_ok=True)

    def _close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> Stager:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is not None or not self._handed_over:
            self.discard()


def stage_local_file(staging_dir: Path, max_bytes: int, source: Path) -> StagedFile:
    """Copy a file from local disk into staging with the checks an HTTP upload gets at the
    door. Blocking: run it in a thread."""
    if source.stat().st_size > max_bytes:  # refused before a byte is copied
        raise PayloadTooLarge(too_large_message(max_bytes))
    with Stager(staging_dir, max_bytes, prefix="import-") as stager:
        stager.copy_from(source)
        return stager.finish_picture()
