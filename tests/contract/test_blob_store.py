"""One suite, every BlobStore adapter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from obstore.store import MemoryStore

from shutterbox.adapters.blobs import (
    LocalBlobStore,
    ObjectBlobStore,
    TieredBlobStore,
    open_blob_store,
    open_storage,
)
from shutterbox.ports import BlobStore
from shutterbox.services.storage.replica import ReplicatedStore


@pytest.fixture(
    params=[
        "local",
        "memory",
        "s3",
        "tiered-local",
        "tiered-memory",
        "replicated-local",
        "replicated-s3",
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    """Every adapter, TieredBlobStore (the default store: what `open_storage` makes for a
    local directory or memory) over local directories and over memory, and ReplicatedStore
    (with SHUTTERBOX_REPLICA_URL) with a replica in another directory or in a bucket."""
    if request.param.startswith("replicated-"):
        if request.param == "replicated-s3":
            endpoint = request.getfixturevalue("s3_endpoint")
            replica = open_blob_store(f"s3://{endpoint.create_bucket()}/replica")
        else:
            replica = LocalBlobStore(tmp_path / "replica")
        first, tiers = open_storage((tmp_path / "blobs").as_uri(), {}, tmp_path / "scratch")
        yield ReplicatedStore(first, replica, scratch_dir=tmp_path / "scratch", tiers=tiers)
    elif request.param == "local":
        yield LocalBlobStore(tmp_path / "blobs")
    elif request.param == "memory":
        yield ObjectBlobStore(MemoryStore(), description="memory")
    elif request.param.startswith("tiered-"):
        url = (tmp_path / "blobs").as_uri() if request.param == "tiered-local" else "memory://"
        tiered, _ = open_storage(url, {}, tmp_path / "scratch")
        assert isinstance(tiered, TieredBlobStore)
        yield tiered
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        yield open_blob_store(f"s3://{endpoint.create_bucket()}/shutterbox")


async def _keys(store: BlobStore, prefix: str = "") -> list[str]:
    return sorted([info.key async for info in store.list(prefix)])


async def test_put_and_get_bytes(store: BlobStore):
    await store.put_bytes("variants/2024/01/15/a-thumb.jpg", b"hello")
    assert await store.get_bytes("variants/2024/01/15/a-thumb.jpg") == b"hello"
    info = await store.info("variants/2024/01/15/a-thumb.jpg")
    assert info is not None and info.size == 5


async def test_put_file_consumes_the_file(store: BlobStore, tmp_path: Path):
    source = tmp_path / "upload"
    source.write_bytes(b"x" * 100_000)
    await store.put_file("originals/2024/01/15/a.jpg", source)
    assert not source.exists()
    assert await store.get_bytes("originals/2024/01/15/a.jpg") == b"x" * 100_000


async def test_overwrite_replaces_whole_content(store: BlobStore):
    await store.put_bytes("k/v", b"long old content")
    await store.put_bytes("k/v", b"new")
    assert await store.get_bytes("k/v") == b"new"


async def test_ranges(store: BlobStore):
    await store.put_bytes("r", bytes(range(256)))
    assert await store.get_range("r", 10, 20) == bytes(range(10, 20))
    assert await store.get_range("r", 5, 5) == b""


async def test_download(store: BlobStore, tmp_path: Path):
    await store.put_bytes("d/e", b"payload")
    target = tmp_path / "copy"
    await store.download("d/e", target)
    assert target.read_bytes() == b"payload"


async def test_missing_blobs(store: BlobStore, tmp_path: Path):
    assert await store.info("nope") is None
    with pytest.raises(KeyError):
        await store.get_bytes("nope")
    with pytest.raises(KeyError):
        await store.download("nope", tmp_path / "x")
    await store.delete("nope")  # not an error


async def test_list_by_prefix_and_delete(store: BlobStore):
    for key in ("originals/a.jpg", "originals/b.jpg", "variants/a-thumb.jpg"):
        await store.put_bytes(key, b"1")
    assert await _keys(store, "originals/") == ["originals/a.jpg", "originals/b.jpg"]
    await store.delete("originals/a.jpg")
    assert await _keys(store) == ["originals/b.jpg", "variants/a-thumb.jpg"]


async def test_delete_under_a_prefix(store: BlobStore, tmp_path: Path):
    for key in ("incoming/u1/part-0", "incoming/u1/part-1", "incoming/u10", "incoming/u2/part-0"):
        await store.put_bytes(key, b"1")
    await store.delete_under("incoming/u1")
    assert await _keys(store) == ["incoming/u10", "incoming/u2/part-0"]
    await store.delete_under("incoming/none")  # nothing there: nothing to do
    local = store.local_path("incoming/u10")
    if local is not None:  # a local disk keeps no empty directory behind
        assert not (local.parent / "u1").exists()


async def test_rename(store: BlobStore):
    await store.put_bytes("incoming/u1", b"bytes")
    await store.rename("incoming/u1", "originals/2024/01/15/a.jpg")
    assert await store.info("incoming/u1") is None
    assert await store.get_bytes("originals/2024/01/15/a.jpg") == b"bytes"
    with pytest.raises(KeyError):
        await store.rename("incoming/nope", "x")


async def test_presigned_put_reaches_the_store_or_is_declined(store: BlobStore):
    from datetime import timedelta

    import httpx2

    url = await store.presign_put("incoming/direct", timedelta(minutes=5))
    if isinstance(store, ObjectBlobStore) and "s3://" in store.description:
        assert url is not None
    if url is None:  # local and memory stores: the origin takes the bytes itself
        assert "s3://" not in getattr(store, "description", "")
        return
    async with httpx2.AsyncClient() as client:
        response = await client.put(url, content=b"sent straight to the bucket")
    assert response.status_code == 200
    assert await store.get_bytes("incoming/direct") == b"sent straight to the bucket"


async def test_check_passes_when_reachable(store: BlobStore):
    await store.check()


def test_local_store_refuses_keys_that_escape_its_root(tmp_path: Path):
    store = LocalBlobStore(tmp_path / "blobs")
    for key in ("../etc/passwd", "/abs", "a/../../b", ".tmp/x"):
        with pytest.raises(ValueError):
            store.local_path(key)


async def test_local_store_leaves_no_temporary_files(tmp_path: Path):
    store = LocalBlobStore(tmp_path / "blobs")
    await store.put_bytes("a/b", b"1")
    assert list((tmp_path / "blobs" / ".tmp").iterdir()) == []
    assert await _keys(store) == ["a/b"]


async def test_local_store_publishes_blobs_with_the_umask_mode(tmp_path: Path):
    """Not mkstemp's 0600: a front server in the service's group sends the files itself
    (X-Accel-Redirect), and the process's umask decides whether it may."""
    import os

    store = LocalBlobStore(tmp_path / "blobs")
    await store.put_bytes("a/put", b"1")
    staged = tmp_path / "staged"
    staged.write_bytes(b"2")
    staged.chmod(0o600)
    await store.put_file("a/moved", staged)
    mask = os.umask(0o077)
    os.umask(mask)
    for key in ("a/put", "a/moved"):
        path = store.local_path(key)
        assert path is not None
        assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_local_store_removes_only_stale_temporary_files(tmp_path: Path):
    import os
    import time

    store = LocalBlobStore(tmp_path / "blobs")
    stale = store.staging_dir() / "upload-old"
    fresh = store.staging_dir() / "upload-new"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"in progress")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    assert store.remove_stale_temporary_files(3600) == 1
    assert not stale.exists() and fresh.exists()


async def test_a_large_original_is_stored_whole(store: BlobStore, tmp_path: Path):
    """Over the multipart threshold (5 MB) object stores receive it in streamed parts."""
    import hashlib
    import os

    data = os.urandom(12 * 1024 * 1024 + 123)
    source = tmp_path / "large"
    source.write_bytes(data)
    await store.put_file("originals/large.tiff", source)
    info = await store.info("originals/large.tiff")
    assert info is not None and info.size == len(data)
    stored = await store.get_bytes("originals/large.tiff")
    assert hashlib.sha256(stored).digest() == hashlib.sha256(data).digest()


async def test_stream_yields_the_whole_blob_in_chunks(store: BlobStore):
    import os

    data = os.urandom(3 * 1024 * 1024 + 7)
    await store.put_bytes("variants/streamed.jpg", data)
    chunks = [chunk async for chunk in store.stream("variants/streamed.jpg")]
    assert b"".join(chunks) == data
    with pytest.raises(KeyError):
        async for _ in store.stream("variants/missing.jpg"):
            pass
