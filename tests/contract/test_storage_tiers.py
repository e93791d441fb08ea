"""Every StorageTiers adapter against its real store: class locations on a local directory,
and S3's own storage classes (through the S3-compatible test endpoint)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shutterbox.adapters.blobs import open_storage
from shutterbox.domain.storage import StorageClass
from shutterbox.ports import BlobStore, StorageTiers
from tests.support.servers import S3Endpoint

Tiered = tuple[BlobStore, StorageTiers, str]


@pytest.fixture(params=["local", "s3"])
def tiered(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Tiered]:
    if request.param == "local":
        url = (tmp_path / "blobs").as_uri()
    else:
        endpoint: S3Endpoint = request.getfixturevalue("s3_endpoint")
        url = f"s3://{endpoint.create_bucket()}/tiers"
    store, tiers = open_storage(url, {}, tmp_path / "scratch")
    assert tiers is not None
    yield store, tiers, request.param


def _file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "scratch" / "incoming-file"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


async def test_a_new_blob_is_standard_and_a_missing_one_has_no_class(tiered: Tiered):
    store, tiers, _ = tiered
    await store.put_bytes("originals/a.jpg", b"original bytes")
    assert await tiers.storage_class("originals/a.jpg") == StorageClass.STANDARD
    assert await tiers.storage_class("originals/missing.jpg") is None
    with pytest.raises(KeyError):
        await tiers.transition("originals/missing.jpg", StorageClass.GLACIER)


async def test_a_blob_written_with_a_class_reports_it_and_stays_readable(
    tiered: Tiered, tmp_path: Path
):
    store, tiers, _ = tiered
    path = _file(tmp_path, b"infrequent bytes")
    await tiers.put_file_in_class("originals/ia.jpg", path, StorageClass.STANDARD_IA)
    assert not path.exists()  # consumed
    assert await tiers.storage_class("originals/ia.jpg") == StorageClass.STANDARD_IA
    assert await store.get_bytes("originals/ia.jpg") == b"infrequent bytes"
    info = await store.info("originals/ia.jpg")
    assert info is not None and info.size == len(b"infrequent bytes")


async def test_transitions_move_between_readable_classes(tiered: Tiered):
    store, tiers, _ = tiered
    await store.put_bytes("originals/b.jpg", b"b" * 1000)
    for storage_class in (StorageClass.STANDARD_IA, StorageClass.GLACIER_IR):
        await tiers.transition("originals/b.jpg", storage_class)
        assert await tiers.storage_class("originals/b.jpg") == storage_class
        assert await store.get_range("originals/b.jpg", 10, 20) == b"b" * 10
    assert [i.key async for i in store.list("originals/")] == ["originals/b.jpg"]


async def test_an_archived_blob_needs_a_restore_to_be_read(tiered: Tiered):
    store, tiers, kind = tiered
    await store.put_bytes("originals/c.jpg", b"cold bytes")
    await tiers.transition("originals/c.jpg", StorageClass.GLACIER)

    assert await tiers.storage_class("originals/c.jpg") == StorageClass.GLACIER
    status = await tiers.restore_status("originals/c.jpg")
    assert not status.readable
    with pytest.raises(Exception):  # noqa: B017 - each store names it its own way
        await store.get_bytes("originals/c.jpg")
    info = await store.info("originals/c.jpg")  # its size is known without a restore
    assert info is not None and info.size == len(b"cold bytes")

    await tiers.restore("originals/c.jpg", days=2)
    await tiers.restore("originals/c.jpg", days=2)  # asking twice is not an error
    status = await tiers.restore_status("originals/c.jpg")
    assert status.readable and not status.in_progress
    assert await store.get_bytes("originals/c.jpg") == b"cold bytes"
    assert await tiers.storage_class("originals/c.jpg") == StorageClass.GLACIER  # a copy
    assert [i.key async for i in store.list("originals/")] == ["originals/c.jpg"]
    if kind == "s3":
        assert status.expires_at is not None  # S3 says when its copy goes
    else:
        await tiers.end_restore("originals/c.jpg")
        assert not (await tiers.restore_status("originals/c.jpg")).readable


async def test_deleting_removes_the_blob_from_every_class(tiered: Tiered):
    store, tiers, _ = tiered
    await store.put_bytes("originals/d.jpg", b"d")
    await tiers.transition("originals/d.jpg", StorageClass.DEEP_ARCHIVE)
    await tiers.restore("originals/d.jpg", days=1)
    await store.delete("originals/d.jpg")
    assert await tiers.storage_class("originals/d.jpg") is None
    assert await store.info("originals/d.jpg") is None
    assert [i.key async for i in store.list("originals/")] == []


async def test_local_classes_live_in_their_own_directories(tmp_path: Path):
    cold = tmp_path / "cold"
    store, tiers = open_storage(
        (tmp_path / "blobs").as_uri(), {StorageClass.GLACIER: cold.as_uri()}, tmp_path / "s"
    )
    assert tiers is not None
    await store.put_bytes("originals/e.jpg", b"e")
    await tiers.transition("originals/e.jpg", StorageClass.GLACIER)
    assert (cold / "originals" / "e.jpg").read_bytes() == b"e"
    assert not (tmp_path / "blobs" / "originals" / "e.jpg").exists()
    assert store.local_path("originals/e.jpg") is None  # not served while archived
