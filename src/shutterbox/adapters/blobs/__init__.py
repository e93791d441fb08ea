"""Blob stores chosen by URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from obstore.store import MemoryStore

from shutterbox.adapters.blobs.object_store import LocalBlobStore, ObjectBlobStore
from shutterbox.ports import BlobStore

__all__ = ["LocalBlobStore", "ObjectBlobStore", "open_blob_store"]


def open_blob_store(url: str) -> BlobStore:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalBlobStore(Path(url2pathname(parsed.path)))
    if parsed.scheme == "memory":
        return ObjectBlobStore(MemoryStore(), description="memory")
    raise ValueError(f"unsupported storage URL {url!r}: use file:///path or memory://")
