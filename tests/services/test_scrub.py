"""The scrub on a real local blob directory and a throwaway SQLite database."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from shutterbox.adapters.blobs import LocalBlobStore, TieredBlobStore
from shutterbox.adapters.db.tables import direct_uploads, images
from shutterbox.bootstrap import bootstrap
from shutterbox.domain.images import Image, Status
from shutterbox.domain.storage import StorageClass
from shutterbox.domain.users import User
from shutterbox.services.context import Services
from shutterbox.services.images import deletion
from shutterbox.services.images import direct_uploads as direct
from shutterbox.services.people import accounts
from shutterbox.services.storage.scrub import ProblemKind, ScrubReport, scrub
from tests.imagegen import jpeg_bytes
from tests.support.accepted import accept_jpeg, stored_image
from tests.support.settings import make_settings

DAY = 86400.0
NO_GRACE = timedelta(0)
A_DAY = timedelta(hours=24)


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    built = await bootstrap(make_settings(tmp_path / "data"))
    yield built
    await built.close()


@pytest.fixture
async def alice(services: Services) -> User:
    return await accounts.register(services.metadata, "alice", "password123")


async def _upload(services: Services, user: User, *, process: bool = True) -> Image:
    return await accept_jpeg(services, user, jpeg_bytes(900, 600), process=process)


async def _image(services: Services, image_id: str) -> Image:
    return await stored_image(services, image_id)


def _path(services: Services, key: str) -> Path:
    path = services.store.local_path(key)
    assert path is not None, key
    return path


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def _kinds(report: ScrubReport) -> list[tuple[ProblemKind, str]]:
    return [(p.kind, p.key) for p in report.problems]


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


async def test_a_clean_system_scrubs_clean(services: Services, alice: User):
    ready = [await _upload(services, alice), await _upload(services, alice)]
    waiting = await _upload(services, alice, process=False)
    assert waiting.status == Status.PROCESSING
    seen: list[tuple[str, int, int | None]] = []

    report = await scrub(
        services, repair=False, grace=NO_GRACE, progress=lambda *event: seen.append(event)
    )

    assert report.clean and report.exit_status == 0, report.problems
    assert report.images_checked == 3
    variants = [v for image in ready for v in image.all_variants()]
    assert len(variants) == 8  # two sizes (900 px: no full), in JPEG and WebP
    assert report.blobs_checked == 3 + len(variants)
    assert report.bytes_hashed == sum(i.original_bytes for i in [*ready, waiting]) + sum(
        v.bytes for v in variants
    )
    assert report.blobs_listed == 3 + len(variants)
    assert report.archived_not_hashed == 0
    assert ("images", 3, 3) in seen
    assert ("blobs", 3 + len(variants), None) in seen


async def test_a_deleted_variant_is_found_and_made_again(services: Services, alice: User):
    image = await _upload(services, alice)
    thumb = image.variants["thumb"]
    _path(services, thumb.key).unlink()

    found = await scrub(services, repair=False, grace=NO_GRACE)
    assert _kinds(found) == [(ProblemKind.MISSING_VARIANT, thumb.key)]
    assert found.problems[0].image_id == image.id
    assert found.problems[0].repairable and not found.problems[0].repaired
    assert found.exit_status == 1
    assert services.store.local_path(thumb.key) is None  # found, not yet remade

    repaired = await scrub(services, repair=True, grace=NO_GRACE)
    assert _kinds(repaired) == [(ProblemKind.MISSING_VARIANT, thumb.key)]
    assert repaired.problems[0].repaired
    assert repaired.exit_status == 1  # something was wrong, even though it is fixed now
    after = (await _image(services, image.id)).variants["thumb"]
    stored = _path(services, after.key).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == after.sha256 and len(stored) == after.bytes

    again = await scrub(services, repair=False, grace=NO_GRACE)
    assert again.clean and again.exit_status == 0, again.problems


async def test_a_corrupted_variant_of_the_same_size_is_found_by_its_hash(
    services: Services, alice: User
):
    image = await _upload(services, alice)
    medium = image.variant("medium", "webp")
    assert medium is not None
    path = _path(services, medium.key)
    _flip_a_byte(path)
    assert path.stat().st_size == medium.bytes

    found = await scrub(services, repair=False, grace=NO_GRACE)
    assert _kinds(found) == [(ProblemKind.VARIANT_MISMATCH, medium.key)]
    assert "SHA-256" in found.problems[0].detail

    repaired = await scrub(services, repair=True, grace=NO_GRACE)
    assert repaired.problems[0].repaired
    after = (await _image(services, image.id)).variant("medium", "webp")
    assert after is not None
    assert hashlib.sha256(_path(services, after.key).read_bytes()).hexdigest() == after.sha256
    assert (await scrub(services, repair=False, grace=NO_GRACE)).clean


async def test_a_missing_original_cannot_be_repaired(services: Services, alice: User):
    image = await _upload(services, alice)
    _path(services, image.original_key).unlink()

    found = await scrub(services, repair=True, grace=NO_GRACE)
    assert _kinds(found) == [(ProblemKind.MISSING_ORIGINAL, image.original_key)]
    problem = found.problems[0]
    assert not problem.repairable and not problem.repaired
    assert "backup" in problem.detail
    assert found.exit_status == 2
    assert services.store.local_path(image.original_key) is None  # nothing made up in its place


async def test_a_missing_original_of_an_image_still_processing_is_reported(
    services: Services, alice: User
):
    image = await _upload(services, alice, process=False)
    _path(services, image.original_key).unlink()
    found = await scrub(services, repair=False, grace=NO_GRACE)
    assert _kinds(found) == [(ProblemKind.MISSING_ORIGINAL, image.original_key)]
    assert found.exit_status == 2


async def test_a_damaged_original_is_reported_never_rewritten(services: Services, alice: User):
    image = await _upload(services, alice)
    path = _path(services, image.original_key)
    _flip_a_byte(path)
    damaged = path.read_bytes()
    _path(services, image.variants["thumb"].key).unlink()

    report = await scrub(services, repair=True, grace=NO_GRACE)

    by_kind = {p.kind: p for p in report.problems}
    assert set(by_kind) == {ProblemKind.ORIGINAL_MISMATCH, ProblemKind.MISSING_VARIANT}
    assert not by_kind[ProblemKind.ORIGINAL_MISMATCH].repaired
    # variants are not remade from damaged bytes
    assert not by_kind[ProblemKind.MISSING_VARIANT].repairable
    assert "original is damaged" in by_kind[ProblemKind.MISSING_VARIANT].detail
    assert services.store.local_path(image.variants["thumb"].key) is None
    assert path.read_bytes() == damaged
    assert report.exit_status == 2


async def test_orphans_older_than_the_grace_are_removed_younger_ones_left(
    services: Services, alice: User
):
    await _upload(services, alice)
    old_key = "originals/2020/01/02/aaaaaaaaaaaaaaaa.jpg"  # an upload that died before its row
    young_key = "variants/2020/01/02/bbbbbbbbbbbbbbbb-thumb.jpg"
    stray_key = "variants/stray-file"
    for key in (old_key, young_key, stray_key):
        await services.store.put_bytes(key, b"leftover bytes")
    _age(_path(services, old_key), 2 * DAY)
    _age(_path(services, stray_key), 2 * DAY)

    found = await scrub(services, repair=False, grace=A_DAY)
    assert sorted(_kinds(found)) == [(ProblemKind.ORPHAN, old_key), (ProblemKind.ORPHAN, stray_key)]
    assert found.recent_unreferenced == 1
    assert found.exit_status == 1
    assert services.store.local_path(old_key) is not None  # found, not touched

    repaired = await scrub(services, repair=True, grace=A_DAY)
    assert all(p.repaired for p in repaired.problems) and len(repaired.problems) == 2
    assert services.store.local_path(old_key) is None
    assert services.store.local_path(stray_key) is None
    assert services.store.local_path(young_key) is not None

    again = await scrub(services, repair=True, grace=A_DAY)
    assert again.clean and again.recent_unreferenced == 1
    assert services.store.local_path(young_key) is not None
    with_no_grace = await scrub(services, repair=False, grace=NO_GRACE)
    assert _kinds(with_no_grace) == [(ProblemKind.ORPHAN, young_key)]


async def test_variant_keys_of_an_existing_image_are_not_orphans(services: Services, alice: User):
    image = await _upload(services, alice)
    thumb = image.variants["thumb"].key
    leftover = thumb.rsplit(".", 1)[0] + ".avif"  # from when AVIF was configured
    assert leftover.rsplit("/", 1)[-1].startswith(image.id + "-")
    unknown = thumb.replace(image.id, "zzzzzzzzzzzzzzzz")  # an image that does not exist
    another_original = image.original_key.rsplit(".", 1)[0] + ".png"
    for key in (leftover, unknown, another_original):
        await services.store.put_bytes(key, b"x")

    report = await scrub(services, repair=False, grace=NO_GRACE)
    assert sorted(_kinds(report)) == sorted(
        [(ProblemKind.ORPHAN, unknown), (ProblemKind.ORPHAN, another_original)]
    )


async def test_an_open_direct_upload_keeps_its_bytes(services: Services, alice: User):
    ticket = await direct.start_upload(services, alice, "a.jpg", "image/jpeg", 10)
    async with services.metadata.db.reader.connect() as conn:
        recorded = await conn.scalar(
            select(direct_uploads.c.key).where(direct_uploads.c.id == ticket.id)
        )
    assert recorded is not None and recorded.startswith("incoming/")
    await services.store.put_bytes(recorded, b"0123456789")

    assert (await scrub(services, repair=False, grace=NO_GRACE)).clean

    async with services.metadata.db.writer.begin() as conn:  # long expired, never completed
        await conn.execute(
            update(direct_uploads)
            .where(direct_uploads.c.id == ticket.id)
            .values(expires_at=ticket.expires_at - timedelta(days=30))
        )
    report = await scrub(services, repair=True, grace=NO_GRACE)
    assert _kinds(report) == [(ProblemKind.ORPHAN, recorded)]
    assert report.problems[0].image_id is None and report.problems[0].repaired
    assert await services.store.info(recorded) is None


async def test_stale_temporary_files(services: Services, alice: User):
    staging = services.staging_dir
    stale, fresh = staging / "put-stale", staging / "put-fresh"
    stale.write_bytes(b"half a blob")
    fresh.write_bytes(b"being written")
    _age(stale, 2 * DAY)

    found = await scrub(services, repair=False, grace=A_DAY)
    assert _kinds(found) == [(ProblemKind.STALE_TEMPORARY, str(stale.resolve()))]
    assert found.recent_temporary == 1
    assert stale.exists()

    repaired = await scrub(services, repair=True, grace=A_DAY)
    assert repaired.problems[0].repaired
    assert not stale.exists() and fresh.exists()
    assert (await scrub(services, repair=False, grace=A_DAY)).clean


async def test_stale_temporary_files_in_every_class_location(services: Services, alice: User):
    store = services.store
    assert isinstance(store, TieredBlobStore)
    cold = store.locations[StorageClass.GLACIER]
    assert isinstance(cold, LocalBlobStore)
    assert set(store.temporary_directories()) == {
        location.staging_dir()
        for location in store.locations.values()
        if isinstance(location, LocalBlobStore)
    }
    stale = cold.staging_dir() / "put-stale"
    stale.write_bytes(b"half an archived blob")
    _age(stale, 2 * DAY)

    found = await scrub(services, repair=False, grace=A_DAY)
    assert _kinds(found) == [(ProblemKind.STALE_TEMPORARY, str(stale.resolve()))]
    repaired = await scrub(services, repair=True, grace=A_DAY)
    assert repaired.problems[0].repaired and not stale.exists()


async def test_a_trashed_images_bytes_are_not_orphans(services: Services, alice: User):
    image = await _upload(services, alice)
    await deletion.delete_image(services, alice, image.id)
    trashed = await _image(services, image.id)
    assert trashed.deleted_at is not None
    assert services.store.local_path(image.original_key) is not None

    report = await scrub(services, repair=True, grace=NO_GRACE)
    assert report.clean, report.problems
    assert report.images_checked == 1 and report.blobs_checked == 1 + len(image.all_variants())
    assert services.store.local_path(image.original_key) is not None

    _path(services, image.variants["medium"].key).unlink()
    damaged = await scrub(services, repair=True, grace=NO_GRACE)
    assert _kinds(damaged) == [(ProblemKind.MISSING_VARIANT, image.variants["medium"].key)]
    assert "trash" in damaged.problems[0].detail and not damaged.problems[0].repaired
    assert damaged.exit_status == 2


async def test_an_archived_original_is_measured_not_read(services: Services, alice: User):
    image = await _upload(services, alice)
    async with services.metadata.db.writer.begin() as conn:
        await conn.execute(
            update(images).where(images.c.id == image.id).values(original_storage_class="GLACIER")
        )
    _flip_a_byte(_path(services, image.original_key))  # a read would notice; a size check cannot

    report = await scrub(services, repair=False, grace=NO_GRACE)
    assert report.clean, report.problems
    assert report.archived_not_hashed == 1
    assert report.bytes_hashed == sum(v.bytes for v in image.all_variants())

    thumb = image.variants["thumb"].key
    _path(services, thumb).unlink()
    repaired = await scrub(services, repair=True, grace=NO_GRACE)
    assert _kinds(repaired) == [(ProblemKind.MISSING_VARIANT, thumb)]
    assert not repaired.problems[0].repaired and "archived" in repaired.problems[0].detail
    assert repaired.exit_status == 2
    assert services.store.local_path(thumb) is None

    _path(services, image.original_key).write_bytes(b"short")
    shrunk = await scrub(services, repair=False, grace=NO_GRACE)
    assert (ProblemKind.ORIGINAL_MISMATCH, image.original_key) in _kinds(shrunk)
