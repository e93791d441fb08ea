"""The scrub against an S3-compatible bucket (moto's server), with SQLite and with
PostgreSQL: the same checks and repairs as on a local directory, through listing, streaming
and deleting objects."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from shutterbox.adapters.db.repositories.images import SqlImages
from shutterbox.bootstrap import bootstrap
from shutterbox.domain.formats import JPEG
from shutterbox.services.context import Services
from shutterbox.services.images import processing, uploads
from shutterbox.services.people import accounts
from shutterbox.services.storage.scrub import ProblemKind, scrub
from tests.imagegen import jpeg_bytes
from tests.support.servers import S3Endpoint
from tests.support.settings import make_settings


@pytest.fixture(params=["sqlite", "postgresql"])
async def services(
    request: pytest.FixtureRequest, tmp_path: Path, s3_endpoint: S3Endpoint
) -> AsyncIterator[Services]:
    bucket = s3_endpoint.create_bucket()
    database = {}
    if request.param == "postgresql":
        database["database_url"] = request.getfixturevalue("postgres_url")
    settings = make_settings(tmp_path / "data", storage_url=f"s3://{bucket}", **database)
    built = await bootstrap(settings)
    yield built
    await built.close()


async def test_scrub_finds_and_repairs_on_an_object_store(services: Services):
    alice = await accounts.register(services.metadata, "alice", "password123")
    data = jpeg_bytes(800, 600)
    digest = hashlib.sha256(data).hexdigest()
    path = services.staging_dir / "upload"
    path.write_bytes(data)
    staged = uploads.StagedFile(path, len(data), digest, JPEG)
    image, _ = await uploads.accept_upload(services, alice, staged, uploads.UploadDetails())
    await processing.process_image(services, image.id)
    async with services.metadata.db.reader.connect() as conn:
        ready = await SqlImages(conn).get(image.id)
    assert ready is not None and services.store.local_path(ready.original_key) is None

    clean = await scrub(services, repair=False, grace=timedelta(0))
    assert clean.clean, clean.problems
    assert clean.blobs_checked == 1 + len(ready.all_variants())
    assert clean.bytes_hashed == len(data) + sum(v.bytes for v in ready.all_variants())

    missing = ready.variants["thumb"].key
    damaged = ready.variants["medium"]
    orphan = "originals/2021/06/01/qqqqqqqqqqqqqqqq.jpg"
    await services.store.delete(missing)
    await services.store.put_bytes(damaged.key, b"\0" * damaged.bytes)  # same size, other bytes
    await services.store.put_bytes(orphan, b"left by an upload that never got its row")

    young = await scrub(services, repair=False, grace=timedelta(hours=1))
    assert sorted((p.kind, p.key) for p in young.problems) == sorted(
        [(ProblemKind.MISSING_VARIANT, missing), (ProblemKind.VARIANT_MISMATCH, damaged.key)]
    )
    assert young.recent_unreferenced == 1  # the orphan is too young to judge
    assert young.exit_status == 1

    repaired = await scrub(services, repair=True, grace=timedelta(0))
    assert {p.kind for p in repaired.problems} == {
        ProblemKind.MISSING_VARIANT,
        ProblemKind.VARIANT_MISMATCH,
        ProblemKind.ORPHAN,
    }
    assert all(p.repaired for p in repaired.problems), repaired.problems
    assert await services.store.info(orphan) is None
    remade = await services.store.get_bytes(missing)
    async with services.metadata.db.reader.connect() as conn:
        after = await SqlImages(conn).get(image.id)
    assert after is not None
    assert hashlib.sha256(remade).hexdigest() == after.variants["thumb"].sha256

    again = await scrub(services, repair=False, grace=timedelta(0))
    assert again.clean and again.exit_status == 0, again.problems
