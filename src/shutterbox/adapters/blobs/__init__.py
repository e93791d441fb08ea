"""Blob stores chosen by URL, and the storage classes that go with them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from obstore.store import AzureStore, GCSStore, MemoryStore, S3Store

from shutterbox.adapters.blobs.deadlines import StoreDeadlines
from shutterbox.adapters.blobs.object_store import LocalBlobStore, ObjectBlobStore
from shutterbox.adapters.blobs.s3_multipart import S3MultipartUploads
from shutterbox.adapters.blobs.s3_tiers import S3StorageTiers
from shutterbox.adapters.blobs.tiers import TieredBlobStore
from shutterbox.domain.resilience import CircuitBreaker
from shutterbox.domain.storage import StorageClass
from shutterbox.ports import BlobStore, MultipartUploads, StorageTiers

__all__ = [
    "LocalBlobStore",
    "ObjectBlobStore",
    "S3MultipartUploads",
    "S3StorageTiers",
    "StoreDeadlines",
    "TieredBlobStore",
    "open_blob_store",
    "open_multipart_uploads",
    "open_storage",
]


def open_blob_store(
    url: str, deadlines: StoreDeadlines | None = None, breaker: CircuitBreaker | None = None
) -> BlobStore:
    """file:///path, memory://, s3://bucket[/prefix] (credentials, region and endpoint from
    the standard AWS_* variables), gs://bucket[/prefix] or az://container[/prefix]. An object
    store gets ``deadlines`` (default: ``StoreDeadlines()``) and ``breaker``."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalBlobStore(Path(url2pathname(parsed.path)))
    if parsed.scheme == "memory":
        return ObjectBlobStore(MemoryStore(), description="memory")
    deadlines = deadlines or StoreDeadlines()
    options: dict[str, Any] = {
        "client_options": deadlines.client_options() | _client_options_from_environment(),
        "retry_config": deadlines.retry_config(),
    }
    if parsed.scheme in ("s3", "s3a"):
        store: Any = S3Store.from_url(url, **options)
    elif parsed.scheme in ("gs", "gcs"):
        store = GCSStore.from_url(url, **options)
    elif parsed.scheme in ("az", "azure", "abfs", "abfss"):
        store = AzureStore.from_url(url, **options)
    else:
        store = None
    if store is not None:
        return ObjectBlobStore(store, description=url, breaker=breaker)
    raise ValueError(
        f"unsupported storage URL {url!r}: use file:///path, memory://, s3://bucket, "
        "gs://bucket or az://container"
    )


def _client_options_from_environment() -> dict[str, Any]:
    """The HTTP client options obstore reads from the environment itself, but only when it
    is given no client options of its own."""
    allow_http = os.environ.get("AWS_ALLOW_HTTP") or os.environ.get("ALLOW_HTTP") or ""
    return {"allow_http": True} if allow_http.strip().lower() in ("1", "true", "yes") else {}


def open_storage(
    url: str,
    class_urls: Mapping[StorageClass, str],
    scratch_dir: Path,
    deadlines: StoreDeadlines | None = None,
    breaker: CircuitBreaker | None = None,
) -> tuple[BlobStore, StorageTiers | None]:
    """The blob store for ``url`` and its storage classes. On S3 the classes are the objects'
    own; for a local directory or memory each class is a location of its own (``class_urls``,
    default: a directory per class next to a local store, memory for memory); GCS and Azure
    keep their classes to bucket policies (None). ``deadlines`` and ``breaker``: those of an
    object store (``open_blob_store``)."""
    scheme = urlparse(url).scheme
    store = open_blob_store(url, deadlines, breaker)
    if scheme in ("s3", "s3a"):
        return store, S3StorageTiers(url, deadlines, breaker)
    if scheme not in ("file", "memory"):
        return store, None
    locations: dict[StorageClass, BlobStore] = {StorageClass.STANDARD: store}
    for storage_class in StorageClass:
        if storage_class == StorageClass.STANDARD:
            continue
        location_url = class_urls.get(storage_class)
        if location_url is None:
            location_url = _default_location(url, storage_class)
        locations[storage_class] = open_blob_store(location_url)
    if isinstance(store, LocalBlobStore):
        scratch_dir = store.staging_dir()
    tiered = TieredBlobStore(locations, scratch_dir)
    return tiered, tiered


def _default_location(url: str, storage_class: StorageClass) -> str:
    parsed = urlparse(url)
    if parsed.scheme == "memory":
        return "memory://"
    root = Path(url2pathname(parsed.path))
    return (root.parent / f"{root.name}-{storage_class.value.lower()}").resolve().as_uri()


def open_multipart_uploads(
    url: str, deadlines: StoreDeadlines | None = None, breaker: CircuitBreaker | None = None
) -> MultipartUploads | None:
    """Multipart uploads straight to the bucket, where the store has them (S3), through the
    store's ``breaker``."""
    if urlparse(url).scheme in ("s3", "s3a"):
        return S3MultipartUploads(url, deadlines, breaker)
    return None
