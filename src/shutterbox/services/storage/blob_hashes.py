"""A blob's SHA-256 and length, read by streaming it: never the whole blob in memory."""

from __future__ import annotations

import hashlib
from pathlib import Path

import anyio

from shutterbox.ports import BlobStore


async def blob_sha256(store: BlobStore, key: str) -> tuple[str, int]:
    """SHA-256 (hex) and length of the blob at ``key``; ``KeyError`` if there is none."""
    digest = hashlib.sha256()
    length = 0
    async for chunk in store.stream(key):
        digest.update(chunk)
        length += len(chunk)
    return digest.hexdigest(), length


async def download_with_sha256(store: BlobStore, key: str, path: Path) -> tuple[str, int]:
    """Copy the blob at ``key`` into the file at ``path``, hashing it on the way: its SHA-256
    (hex) and length. ``KeyError`` if there is no such blob."""
    digest = hashlib.sha256()
    length = 0
    async with await anyio.open_file(path, "wb") as out:
        async for chunk in store.stream(key):
            digest.update(chunk)
            length += len(chunk)
            await out.write(chunk)
    return digest.hexdigest(), length
