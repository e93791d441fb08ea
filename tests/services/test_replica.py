"""A replica of every original (SHUTTERBOX_REPLICA_URL) on real local directories and a
throwaway SQLite database: written with the upload, read when the first copy is missing or
damaged, repaired in both directions by the scrub, removed with the image."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from shutterbox.bootstrap import bootstrap
from shutterbox.domain.images import Image, Status
from shutterbox.domain.users import User
from shutterbox.services import metrics
from shutterbox.services.context import Services
from shutterbox.services.images import deletion, processing
from shutterbox.services.people import accounts
from shutterbox.services.storage.replica import ReplicatedStore
from shutterbox.services.storage.scrub import ProblemKind, ScrubReport, scrub
from tests.imagegen import jpeg_bytes
from tests.support.accepted import accept_jpeg, stored_image
from tests.support.settings import make_settings

NO_GRACE = timedelta(0)


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = make_settings(
        tmp_path / "data", replica_url=(tmp_path / "replica").resolve().as_uri()
    )
    built = await bootstrap(settings)
    yield built
    await built.close()


@pytest.fixture
async def alice(services: Services) -> User:
    return await accounts.register(services.metadata, "alice", "password123")


def _store(services: Services) -> ReplicatedStore:
    assert isinstance(services.store, ReplicatedStore)
    return services.store


def _first(services: Services, key: str) -> Path:
    return _store(services).primary.local_path(key) or Path("/nonexistent")


def _second(services: Services, key: str) -> Path:
    return _store(services).replica.local_path(key) or Path("/nonexistent")


async def _upload(services: Services, user: User, *, process: bool = True) -> Image:
    return await accept_jpeg(services, user, jpeg_bytes(900, 600, noise=True), process=process)


async def _image(services: Services, image_id: str) -> Image:
    return await stored_image(services, image_id)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _found(report: ScrubReport) -> list[tuple[ProblemKind, str, bool]]:
    return sorted((p.kind, p.key, p.repairable) for p in report.problems)


def _reads(reason: str) -> float:
    return metrics.REPLICA_READS.labels(reason=reason)._value.get()


async def test_an_accepted_upload_has_two_verified_copies(services: Services, alice: User):
    image = await _upload(services, alice, process=False)
    for copy in (_first(services, image.original_key), _second(services, image.original_key)):
        assert copy.is_file() and _sha(copy) == image.original_sha256
    variants_in_replica = list((_store(services).replica.root / "variants").glob("**/*"))  # type: ignore[attr-defined]
    await processing.process_image(services, image.id)
    assert (await _image(services, image.id)).status == Status.READY
    assert variants_in_replica == []  # variants are made again, not copied
    assert not (_store(services).replica.root / "variants").exists()  # type: ignore[attr-defined]


async def test_a_damaged_first_copy_is_processed_from_the_replica(services: Services, alice: User):
    image = await _upload(services, alice, process=False)
    _flip_a_byte(_first(services, image.original_key))
    before = _reads("damaged")

    await processing.process_image(services, image.id)

    assert (await _image(services, image.id)).status == Status.READY
    assert _reads("damaged") == before + 1


async def test_without_a_good_copy_the_image_fails_with_the_reason(services: Services, alice: User):
    image = await _upload(services, alice, process=False)
    _flip_a_byte(_first(services, image.original_key))
    _flip_a_byte(_second(services, image.original_key))
    await processing.process_image(services, image.id)
    failed = await _image(services, image.id)
    assert failed.status == Status.FAILED
    assert "SHA-256" in (failed.failure_reason or "")


async def test_scrub_restores_a_lost_and_a_damaged_original_from_the_replica(
    services: Services, alice: User
):
    lost, damaged, fine = [await _upload(services, alice) for _ in range(3)]
    _first(services, lost.original_key).unlink()
    _first(services, lost.variants["thumb"].key).unlink()
    _flip_a_byte(_first(services, damaged.original_key))

    found = await scrub(services, repair=False, grace=NO_GRACE)
    assert found.exit_status == 1  # all repairable
    assert _found(found) == sorted(
        [
            (ProblemKind.MISSING_ORIGINAL, lost.original_key, True),
            (ProblemKind.MISSING_VARIANT, lost.variants["thumb"].key, True),
            (ProblemKind.ORIGINAL_MISMATCH, damaged.original_key, True),
        ]
    )

    repaired = await scrub(services, repair=True, grace=NO_GRACE)
    assert all(p.repaired for p in repaired.problems), repaired.problems
    for image in (lost, damaged, fine):
        assert _sha(_first(services, image.original_key)) == image.original_sha256
    assert (await scrub(services, repair=False, grace=NO_GRACE)).clean


async def test_a_lost_replica_is_rebuilt_by_the_scrub(services: Services, alice: User):
    images = [await _upload(services, alice) for _ in range(3)]
    _flip_a_byte(_second(services, images[0].original_key))
    shutil.rmtree(_second(services, images[1].original_key).parent.parent.parent.parent)

    found = await scrub(services, repair=False, grace=NO_GRACE)
    assert {p.kind for p in found.problems} == {ProblemKind.MISSING_REPLICA}
    assert len(found.problems) == 3 and all(p.repairable for p in found.problems)

    repaired = await scrub(services, repair=True, grace=NO_GRACE)
    assert all(p.repaired for p in repaired.problems) and repaired.exit_status == 1
    for image in images:
        assert _sha(_second(services, image.original_key)) == image.original_sha256
    assert (await scrub(services, repair=False, grace=NO_GRACE)).clean


async def test_two_bad_copies_cannot_be_repaired(services: Services, alice: User):
    image = await _upload(services, alice)
    _first(services, image.original_key).unlink()
    _flip_a_byte(_second(services, image.original_key))
    report = await scrub(services, repair=True, grace=NO_GRACE)
    kinds = _found(report)
    assert (ProblemKind.MISSING_ORIGINAL, image.original_key, False) in kinds
    assert (ProblemKind.REPLICA_MISMATCH, image.original_key, False) in kinds
    assert report.exit_status == 2


async def test_an_orphan_in_the_replica_is_removed_past_the_grace(services: Services, alice: User):
    await _upload(services, alice)
    orphan = _store(services).replica.root / "originals/2020/01/01/zzzzzzzzzzzzzzzz.jpg"  # type: ignore[attr-defined]
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left by an upload that never committed")
    then = time.time() - 3 * 86400
    os.utime(orphan, (then, then))

    found = await scrub(services, repair=True, grace=timedelta(hours=24))
    assert [(p.kind, p.in_replica, p.repaired) for p in found.problems] == [
        (ProblemKind.ORPHAN, True, True)
    ]
    assert not orphan.exists()


async def test_removing_an_image_removes_both_copies(services: Services, alice: User):
    image = await _upload(services, alice)
    await deletion.remove_for_good(services, image)
    assert not _first(services, image.original_key).exists()
    assert not _second(services, image.original_key).exists()


async def test_before_ready_copies_when_the_worker_processes(tmp_path: Path):
    settings = make_settings(
        tmp_path / "data",
        replica_url=(tmp_path / "replica").resolve().as_uri(),
        replica_copy="before_ready",
    )
    services = await bootstrap(settings)
    try:
        alice = await accounts.register(services.metadata, "alice", "password123")
        image = await _upload(services, alice, process=False)
        assert not _second(services, image.original_key).exists()
        await processing.process_image(services, image.id)
        assert _sha(_second(services, image.original_key)) == image.original_sha256
        assert _first(services, image.original_key).is_file()
    finally:
        await services.close()
