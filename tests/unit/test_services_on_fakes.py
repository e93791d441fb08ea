"""The use cases without a database or a sandbox: the in-memory metadata fake, an in-memory
blob store, imaging run in-process and a recording job queue are enough to register, accept
an upload, process it, page the feed and delete."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shutterbox.adapters.blobs import open_storage
from shutterbox.domain.formats import JPEG
from shutterbox.domain.images import Status
from shutterbox.services.context import Services
from shutterbox.services.images import deletion, feed, processing, uploads
from shutterbox.services.people import accounts
from shutterbox.services.storage import trash
from tests.imagegen import jpeg_bytes
from tests.support.fakes import FakeMetadata
from tests.support.fakes.imaging import InProcessImaging
from tests.support.settings import make_settings


class RecordingQueue:
    def __init__(self) -> None:
        self.jobs: list[tuple[str, str]] = []

    async def enqueue(self, conn: Any, kind: str, image_id: str, *args: Any, **kw: Any) -> int:
        self.jobs.append((kind, image_id))
        return len(self.jobs)

    async def dispatch(self, job_ids: list[int], lane: Any = None) -> None:
        return None


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = make_settings(tmp_path / "data", storage_url="memory://")
    store, tiers = open_storage("memory://", settings.class_locations, settings.staging_dir)
    settings.staging_dir.mkdir(parents=True, exist_ok=True)
    built = Services(
        settings=settings,
        metadata=FakeMetadata(),
        store=store,
        queue=RecordingQueue(),  # type: ignore[arg-type]
        staging_dir=settings.staging_dir,
        imaging=InProcessImaging(),
        secret_key=b"unit-test-key",
        tiers=tiers,
    )
    yield built
    built.imaging.close()


def _staged(services: Services, data: bytes) -> uploads.StagedFile:
    path = services.staging_dir / f"upload-{hashlib.sha256(data).hexdigest()[:8]}"
    path.write_bytes(data)
    return uploads.StagedFile(path, len(data), hashlib.sha256(data).hexdigest(), JPEG)


async def test_register_upload_process_feed_delete(services: Services):
    alice = await accounts.register(services.metadata, "alice", "password123")
    token = await accounts.issue_token(services.metadata, "alice", "password123", 1)
    assert await accounts.user_for_token(services.metadata, token) == alice

    data = jpeg_bytes(640, 480)
    details = uploads.UploadDetails(caption="hi", tags=["sea"])
    image, outcome = await uploads.accept_upload(
        services, alice, _staged(services, data), details, "key-1"
    )
    assert outcome == uploads.Outcome.CREATED
    assert services.queue.jobs == [("process_image", image.id)]  # type: ignore[attr-defined]
    again, outcome = await uploads.accept_upload(
        services, alice, _staged(services, data), details, "key-1"
    )
    assert (again.id, outcome) == (image.id, uploads.Outcome.REPLAYED)
    same, outcome = await uploads.accept_upload(services, alice, _staged(services, data), details)
    assert (same.id, outcome) == (image.id, uploads.Outcome.DUPLICATE)
    assert (await feed.public_feed(services, 10, None)).items == []  # still processing

    await processing.process_image(services, image.id)
    page = await feed.public_feed(services, 10, None)
    assert [i.id for i in page.items] == [image.id]
    ready = page.items[0]
    # 640 px wide: no full besides the medium (the same pixels); "full" names the medium
    assert ready.status == Status.READY and set(ready.variants) == {"thumb", "medium"}
    assert ready.sized_variants()["full"] is ready.variants["medium"]
    assert [i.id for i in (await feed.tag_images(services, "sea", 10, None)).items] == [image.id]

    await deletion.delete_image(services, alice, image.id)
    assert (await feed.public_feed(services, 10, None)).items == []
    assert [i.id for i in (await trash.list_trash(services, alice, 10, None)).items] == [image.id]
    assert services.imaging.calls == ["shutterbox.adapters.imaging:make_variants"]  # type: ignore[attr-defined]
    assert not list(services.settings.data_dir.glob("*.db"))  # no database was opened
