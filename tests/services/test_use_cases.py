"""The use cases on an in-memory blob store, a throwaway SQLite file and the real sandbox."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from shutterbox import clock
from shutterbox.adapters.db.repositories.images import SqlImages
from shutterbox.bootstrap import bootstrap
from shutterbox.domain.formats import JPEG
from shutterbox.domain.images import Status
from shutterbox.domain.jobs import JobKind
from shutterbox.domain.users import User
from shutterbox.entrypoints.worker import WorkerPool
from shutterbox.ports import Job
from shutterbox.services import jobs as worker_module
from shutterbox.services.context import Services
from shutterbox.services.images import deletion, processing, uploads
from shutterbox.services.people import accounts
from tests.imagegen import jpeg_bytes
from tests.support.settings import make_settings


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = make_settings(
        tmp_path / "data",
        storage_url="memory://",
        job_max_attempts=3,
        job_retry_base_seconds=0.01,
        job_lease_seconds=5,
    )
    built = await bootstrap(settings)
    yield built
    await built.close()


@pytest.fixture
async def alice(services: Services) -> User:
    return await accounts.register(services.metadata, "alice", "password123")


def _staged(services: Services, data: bytes) -> uploads.StagedFile:
    path = services.staging_dir / f"upload-{hashlib.sha256(data).hexdigest()[:8]}"
    path.write_bytes(data)
    return uploads.StagedFile(path, len(data), hashlib.sha256(data).hexdigest(), JPEG)


async def _keys(services: Services) -> list[str]:
    return sorted([info.key async for info in services.store.list("")])


async def _image(services: Services, image_id: str):
    async with services.metadata.db.reader.connect() as conn:
        return await SqlImages(conn).get(image_id)


async def test_upload_then_process_makes_checksummed_variants(services: Services, alice: User):
    data = jpeg_bytes(1200, 900)
    image, outcome = await uploads.accept_upload(
        services, alice, _staged(services, data), uploads.UploadDetails(caption="hi")
    )
    assert outcome == uploads.Outcome.CREATED and image.status == Status.PROCESSING
    assert await services.store.get_bytes(image.original_key) == data
    assert await services.queue.depth() == 1

    await processing.process_image(services, image.id)

    ready = await _image(services, image.id)
    assert ready is not None and ready.status == Status.READY
    assert set(ready.variants) == {"thumb", "medium", "full"}
    for variant in ready.variants.values():
        stored = await services.store.get_bytes(variant.key)
        assert hashlib.sha256(stored).hexdigest() == variant.sha256
        assert len(stored) == variant.bytes


async def test_reprocessing_an_image_with_a_size_made_twice_keeps_its_urls_bytes_once(
    services: Services, alice: User
):
    """An image processed when a picture smaller than the full size got a full besides its
    medium (the same bytes, stored twice): reprocessed, it keeps the medium, the full's
    bytes go, and the full's URL is answered by the medium (the same bytes)."""
    image, _ = await uploads.accept_upload(
        services, alice, _staged(services, jpeg_bytes()), uploads.UploadDetails()
    )
    await processing.process_image(services, image.id)
    made = await _image(services, image.id)
    assert made is not None and set(made.variants) == {"thumb", "medium"}
    # the earlier state: a full for each format, a copy of the medium
    twice = [
        replace(v, name="full", key=v.key.replace("-medium.", "-full."))
        for v in made.all_variants()
        if v.name == "medium"
    ]
    for variant in twice:
        await services.store.put_bytes(
            variant.key, await services.store.get_bytes(variant.key.replace("-full.", "-medium."))
        )
    async with services.metadata.write() as tx:
        await tx.images.save_processed(image.id, {}, [*made.all_variants(), *twice])
    assert len(await _keys(services)) == 7

    await processing.process_image(services, image.id, force=True)
    again = await _image(services, image.id)
    assert again is not None and set(again.variants) == {"thumb", "medium"}
    assert len(await _keys(services)) == 5  # the full's copies are gone
    assert again.sized_variants()["full"].sha256 == twice[0].sha256  # the same bytes


async def test_processing_twice_gives_the_same_keys_and_row(services: Services, alice: User):
    image, _ = await uploads.accept_upload(
        services, alice, _staged(services, jpeg_bytes()), uploads.UploadDetails()
    )
    await processing.process_image(services, image.id)
    first = await _image(services, image.id)
    keys_after_first = await _keys(services)
    # pretend the first result was never seen
    async with services.metadata.db.writer.begin() as conn:
        await conn.exec_driver_sql("UPDATE images SET status='processing' WHERE id=?", (image.id,))
    await processing.process_image(services, image.id)
    second = await _image(services, image.id)
    assert await _keys(services) == keys_after_first
    # the original, and two sizes as JPEG and WebP (640 px: no full besides the medium)
    assert len(keys_after_first) == 5
    assert first is not None and second is not None
    assert first.variants == second.variants
    assert (first.width, first.height) == (second.width, second.height)


async def test_unreadable_picture_is_marked_failed(services: Services, alice: User):
    whole = jpeg_bytes(800, 600, noise=True)
    image, _ = await uploads.accept_upload(
        services, alice, _staged(services, whole[: len(whole) // 2]), uploads.UploadDetails()
    )
    await processing.process_image(services, image.id)
    failed = await _image(services, image.id)
    assert failed is not None and failed.status == Status.FAILED
    assert failed.failure_reason and "cut off" in failed.failure_reason


async def test_concurrent_retries_with_one_idempotency_key_make_one_image(
    services: Services, alice: User
):
    results = await asyncio.gather(
        *[
            uploads.accept_upload(
                services,
                alice,
                _staged(services, jpeg_bytes(300 + n, 200)),
                uploads.UploadDetails(),
                idempotency_key="same",
            )
            for n in range(4)
        ]
    )
    ids = {image.id for image, _ in results}
    assert len(ids) == 1
    assert [outcome for _, outcome in results].count(uploads.Outcome.CREATED) == 1
    originals = [k for k in await _keys(services) if k.startswith("originals/")]
    assert len(originals) == 1


async def test_reclaim_removes_blobs_and_row(services: Services, alice: User):
    image, _ = await uploads.accept_upload(
        services, alice, _staged(services, jpeg_bytes()), uploads.UploadDetails()
    )
    await processing.process_image(services, image.id)
    await deletion.delete_image(services, alice, image.id)
    assert len(await _keys(services)) == 5  # deleted, not yet reclaimed
    await deletion.reclaim_image(services, image.id)
    assert len(await _keys(services)) == 5  # still in the trash: restorable
    with clock.travel(timedelta(days=services.settings.trash_retention_days, seconds=1)):
        await deletion.reclaim_image(services, image.id)
    assert await _keys(services) == []
    assert await _image(services, image.id) is None


async def _drain(services: Services, pool: WorkerPool, timeout: float = 10.0) -> None:
    """Run the workers until no job has been due or running for a while: a job waiting out
    its retry backoff is not counted by ``depth``, so one empty look is not enough."""
    pool.start()
    quiet_for = 0.0
    try:
        async with asyncio.timeout(timeout):
            while quiet_for < 0.5:
                await asyncio.sleep(0.05)
                quiet_for = 0.0 if await services.queue.depth() else quiet_for + 0.05
    finally:
        await pool.stop()


async def test_worker_retries_transient_failures(
    services: Services, alice: User, monkeypatch: pytest.MonkeyPatch
):
    calls: list[str] = []
    real = processing.process_image

    async def flaky(services: Services, job: Job) -> None:
        calls.append(job.image_id)
        if len(calls) < 3:
            raise ConnectionError("store unavailable")
        await real(services, job.image_id)

    monkeypatch.setitem(worker_module.HANDLERS, JobKind.PROCESS_IMAGE, flaky)
    image, _ = await uploads.accept_upload(
        services, alice, _staged(services, jpeg_bytes()), uploads.UploadDetails()
    )
    await _drain(services, WorkerPool(services, 1))
    assert len(calls) == 3
    ready = await _image(services, image.id)
    assert ready is not None and ready.status == Status.READY


async def test_worker_gives_up_after_max_attempts(
    services: Services, alice: User, monkeypatch: pytest.MonkeyPatch
):
    async def broken(services: Services, job: Job) -> None:
        raise ConnectionError("store unavailable")

    monkeypatch.setitem(worker_module.HANDLERS, JobKind.PROCESS_IMAGE, broken)
    image, _ = await uploads.accept_upload(
        services, alice, _staged(services, jpeg_bytes()), uploads.UploadDetails()
    )
    await _drain(services, WorkerPool(services, 2))
    failed = await _image(services, image.id)
    assert failed is not None and failed.status == Status.FAILED
    assert failed.failure_reason is not None
    assert "kept failing" in failed.failure_reason and "store unavailable" in failed.failure_reason
