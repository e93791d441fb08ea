"""The storage migration on the embedded default's real adapters (a SQLite file, a local
blob directory with a directory per storage class) into another local directory: an
archived original without a readable copy is reported and its restore asked for, then copied
into its class once restored; the record of verified keys spares a second run every copy,
but not a blob the target lost."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shutterbox.adapters.blobs import open_storage
from shutterbox.adapters.migration_record import SqliteMigrationRecord, record_path
from shutterbox.bootstrap import bootstrap
from shutterbox.domain.formats import JPEG
from shutterbox.domain.images import Image
from shutterbox.domain.storage import StorageClass
from shutterbox.services.context import Services
from shutterbox.services.images import processing, uploads
from shutterbox.services.people import accounts
from shutterbox.services.storage import migration, restores
from shutterbox.services.storage.migration import MigrationReport, Place, ProblemKind, migrate
from tests.imagegen import jpeg_bytes
from tests.support.settings import make_settings


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    built = await bootstrap(make_settings(tmp_path / "data"))
    yield built
    await built.close()


async def _ready_image(services: Services, username: str = "alice", width: int = 1500) -> Image:
    user = await accounts.register(services.metadata, username, "password123")
    data = jpeg_bytes(width, 1000)  # larger than the medium: all three sizes
    digest = hashlib.sha256(data).hexdigest()
    path = services.staging_dir / f"test-{digest[:12]}"
    path.write_bytes(data)
    staged = uploads.StagedFile(path, len(data), digest, JPEG)
    image, _ = await uploads.accept_upload(services, user, staged, uploads.UploadDetails())
    await processing.process_image(services, image.id)
    async with services.metadata.read() as tx:
        ready = await tx.images.get(image.id)
    assert ready is not None and len(ready.all_variants()) == 6
    return ready


async def _migrate(services: Services, target: Place, url: str, **options: bool) -> MigrationReport:
    path = record_path(services.settings.data_dir / "migrations", url)
    with SqliteMigrationRecord(path, url) as record:
        return await migrate(services, target, record, services.staging_dir, jobs=2, **options)


async def test_an_archived_original_waits_for_its_restore_then_keeps_its_class(
    services: Services, tmp_path: Path
):
    assert services.tiers is not None
    image = await _ready_image(services)
    key = image.original_key
    await services.tiers.transition(key, StorageClass.GLACIER)
    async with services.metadata.write() as tx:
        await tx.images.set_original_class(image.id, StorageClass.GLACIER)
    url = (tmp_path / "target" / "blobs").as_uri()
    store, tiers = open_storage(url, {}, tmp_path / "scratch")
    target = Place(store, tiers)

    first = await _migrate(services, target, url, restore_archived=True)
    assert [(p.kind, p.key) for p in first.problems] == [(ProblemKind.ARCHIVED, key)]
    assert "--restore-archived" in first.problems[0].detail
    assert first.restores_requested == 1
    assert first.copied == 6  # the variants
    assert await store.info(key) is None

    await restores.restore_original(services, image.id)  # what the job asked for does
    second = await _migrate(services, target, url)
    assert second.problems == []
    assert (second.copied, second.already) == (1, 6)
    assert tiers is not None
    assert await tiers.storage_class(key) == StorageClass.GLACIER
    assert (await tiers.restore_status(key)).readable  # as at the source, for now
    source_bytes = await services.store.get_bytes(key)
    assert await store.get_bytes(key) == source_bytes


async def test_the_record_spares_a_second_run_but_not_a_blob_the_target_lost(
    services: Services, tmp_path: Path
):
    image = await _ready_image(services)
    url = (tmp_path / "target").as_uri()
    store, tiers = open_storage(url, {}, tmp_path / "scratch")
    target = Place(store, tiers)

    first = await _migrate(services, target, url)
    assert (first.copied, first.already, first.problems) == (7, 0, [])
    again = await _migrate(services, target, url)
    assert (again.copied, again.already) == (0, 7)

    await store.delete(image.original_key)
    await store.put_bytes(image.all_variants()[0].key, b"truncated")
    repaired = await _migrate(services, target, url)
    assert (repaired.copied, repaired.already, repaired.problems) == (2, 5, [])
    assert await store.get_bytes(image.original_key) == await services.store.get_bytes(
        image.original_key
    )

    await store.put_bytes("variants/stray.jpg", b"not the source's")
    pruned = await _migrate(services, target, url, delete=True)
    assert (pruned.removed, pruned.copied) == (1, 0)
    assert await store.info("variants/stray.jpg") is None


async def test_listings_and_blobs_to_copy_go_a_page_at_a_time(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(migration, "PAGE_SIZE", 3)  # 7 blobs an image: pages end anywhere
    images = [await _ready_image(services, f"user{n}", 1500 + n) for n in range(3)]
    url = (tmp_path / "target").as_uri()
    store, tiers = open_storage(url, {}, tmp_path / "scratch")
    target = Place(store, tiers)
    for stray in ("variants/a-stray.jpg", "variants/z-stray.jpg", "originals/stray.jpg"):
        await store.put_bytes(stray, b"not the source's")

    done = await _migrate(services, target, url, delete=True)
    assert (done.listed, done.copied, done.removed, done.problems) == (21, 21, 3, [])
    keys = {
        key
        for image in images
        for key in (image.original_key, *(v.key for v in image.all_variants()))
    }
    assert {info.key async for info in store.list("")} == keys
    for key in keys:
        assert await store.get_bytes(key) == await services.store.get_bytes(key)
