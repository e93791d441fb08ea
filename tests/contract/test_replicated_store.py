"""SHUTTERBOX_REPLICA_URL: every original in two stores, against real stores (a local
directory first, the replica in another directory or an S3 bucket)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from shutterbox.adapters.blobs import LocalBlobStore, open_blob_store, open_storage
from shutterbox.domain.storage import StorageClass
from shutterbox.ports import BlobStore
from shutterbox.services import metrics
from shutterbox.services.storage.replica import ReplicatedStore

ORIGINAL = "originals/2026/12/03/abc.jpg"
VARIANT = "variants/2026/12/03/abc-thumb.jpg"


@pytest.fixture(params=["local", "s3"])
def replica(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        yield open_blob_store(f"s3://{endpoint.create_bucket()}/replica")
    else:
        yield LocalBlobStore(tmp_path / "replica")


def _replicated(tmp_path: Path, replica: BlobStore, *, before_ack: bool = True) -> ReplicatedStore:
    first, tiers = open_storage((tmp_path / "blobs").as_uri(), {}, tmp_path / "scratch")
    return ReplicatedStore(
        first, replica, scratch_dir=tmp_path / "scratch", tiers=tiers, copy_before_ack=before_ack
    )


def _file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / f"upload-{hashlib.sha256(data).hexdigest()[:8]}"
    path.write_bytes(data)
    return path


def _replica_reads(reason: str) -> float:
    return metrics.REPLICA_READS.labels(reason=reason)._value.get()


async def test_an_original_is_in_both_stores_when_the_put_returns(
    tmp_path: Path, replica: BlobStore
):
    store = _replicated(tmp_path, replica)
    source = _file(tmp_path, b"original bytes" * 1000)
    await store.put_file(ORIGINAL, source)
    assert not source.exists() and not source.with_name(source.name + ".replica").exists()
    assert await store.primary.get_bytes(ORIGINAL) == b"original bytes" * 1000
    assert await replica.get_bytes(ORIGINAL) == b"original bytes" * 1000


async def test_variants_are_kept_once(tmp_path: Path, replica: BlobStore):
    store = _replicated(tmp_path, replica)
    await store.put_bytes(VARIANT, b"thumb")
    await store.put_file(VARIANT.replace("thumb", "full"), _file(tmp_path, b"full"))
    assert await store.get_bytes(VARIANT) == b"thumb"
    assert await replica.info(VARIANT) is None
    assert [i.key async for i in replica.list("variants/")] == []


async def test_an_original_in_another_class_is_replicated_too(tmp_path: Path, replica: BlobStore):
    store = _replicated(tmp_path, replica)
    await store.put_file_in_class(ORIGINAL, _file(tmp_path, b"cold"), StorageClass.STANDARD_IA)
    assert await store.storage_class(ORIGINAL) == StorageClass.STANDARD_IA
    assert await replica.get_bytes(ORIGINAL) == b"cold"


async def test_a_direct_upload_moved_into_place_is_replicated(tmp_path: Path, replica: BlobStore):
    store = _replicated(tmp_path, replica)
    await store.put_bytes("incoming/2026/12/03/u1", b"sent straight to the store")
    assert await replica.info("incoming/2026/12/03/u1") is None
    await store.rename("incoming/2026/12/03/u1", ORIGINAL)
    assert await replica.get_bytes(ORIGINAL) == b"sent straight to the store"


async def test_a_missing_first_copy_is_read_from_the_replica_and_counted(
    tmp_path: Path, replica: BlobStore
):
    store = _replicated(tmp_path, replica)
    data = bytes(range(256)) * 100
    await store.put_file(ORIGINAL, _file(tmp_path, data))
    await store.primary.delete(ORIGINAL)
    before = _replica_reads("missing")

    assert await store.get_bytes(ORIGINAL) == data
    assert await store.get_range(ORIGINAL, 10, 20) == data[10:20]
    assert b"".join([chunk async for chunk in store.stream(ORIGINAL)]) == data
    await store.download(ORIGINAL, tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == data
    info = await store.info(ORIGINAL)
    assert info is not None and info.size == len(data)
    assert _replica_reads("missing") - before == 4

    # a variant has no second copy: missing is missing
    with pytest.raises(KeyError):
        await store.get_bytes(VARIANT)
    with pytest.raises(KeyError):
        _ = [chunk async for chunk in store.stream(VARIANT)]


async def test_delete_removes_both_copies(tmp_path: Path, replica: BlobStore):
    store = _replicated(tmp_path, replica)
    await store.put_file(ORIGINAL, _file(tmp_path, b"to go"))
    await store.delete(ORIGINAL)
    assert await store.primary.info(ORIGINAL) is None
    assert await replica.info(ORIGINAL) is None
    assert await store.info(ORIGINAL) is None


async def test_before_ready_leaves_the_copy_to_the_worker(tmp_path: Path, replica: BlobStore):
    store = _replicated(tmp_path, replica, before_ack=False)
    source = _file(tmp_path, b"answered after one copy")
    await store.put_file(ORIGINAL, source)
    assert await replica.info(ORIGINAL) is None
    kept = tmp_path / "verified"
    kept.write_bytes(b"answered after one copy")
    await store.copy_to_replica(ORIGINAL, kept)
    assert kept.exists()  # the worker's file is left in place
    assert await replica.get_bytes(ORIGINAL) == b"answered after one copy"


async def test_readiness_checks_the_replica_too(tmp_path: Path):
    class Unreachable(LocalBlobStore):
        async def check(self) -> None:
            raise OSError("no route to host")

    store = _replicated(tmp_path, Unreachable(tmp_path / "replica"))
    with pytest.raises(OSError, match="replica"):
        await store.check()


async def test_an_original_the_replica_cannot_take_is_not_acknowledged(tmp_path: Path):
    class Full(LocalBlobStore):
        async def put_file(self, key: str, path: Path) -> None:
            raise OSError(28, "No space left on device")

    store = _replicated(tmp_path, Full(tmp_path / "replica"))
    with pytest.raises(OSError, match="No space"):
        await store.put_file(ORIGINAL, _file(tmp_path, b"one copy is not enough"))
