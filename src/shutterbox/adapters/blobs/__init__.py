"""Blob stores chosen by URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from obstore.store import AzureStore, GCSStore, MemoryStore, S3Store

from shutterbox.adapters.blobs.object_store import LocalBlobStore, ObjectBlobStore
from shutterbox.ports import BlobStore

__all__ = ["LocalBlobStore", "ObjectBlobStore", "open_blob_store"]


def open_blob_store(url: str) -> BlobStore:
    """file:///path, memory://, s3://bucket[/prefix] (credentials, region and endpoint from
    the standard AWS_* variables), gs://bucket[/prefix] or az://container[/prefix]."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalBlobStore(Path(url2pathname(parsed.path)))
    if parsed.scheme == "memory":
        return ObjectBlobStore(MemoryStore(), description="memory")
    if parsed.scheme in ("s3", "s3a"):
        return ObjectBlobStore(S3Store.from_url(url), description=url)
    if parsed.scheme in ("gs", "gcs"):
        return ObjectBlobStore(GCSStore.from_url(url), description=url)
    if parsed.scheme in ("az", "azure", "abfs", "abfss"):
        return ObjectBlobStore(AzureStore.from_url(url), description=url)
    raise ValueError(
        f"unsupported storage URL {url!r}: use file:///path, memory://, s3://bucket, "
        "gs://bucket or az://container"
    )
