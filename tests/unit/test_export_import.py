"""Exporting a user's photos and importing the archive back, on the in-memory fakes: the
archive's layout, any byte range read alone, the ETag, archived and failed originals, and
hostile archive members refused one by one without writing anything where it should not."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import random
import tarfile
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from shutterbox.adapters.blobs import open_storage
from shutterbox.domain import export_archive as layout
from shutterbox.domain.errors import Conflict, InvalidInput
from shutterbox.domain.formats import JPEG
from shutterbox.domain.images import Visibility
from shutterbox.domain.storage import StorageClass
from shutterbox.domain.users import User
from shutterbox.entrypoints import batch
from shutterbox.services.context import Services
from shutterbox.services.images import uploads
from shutterbox.services.images.import_sources import ImportSource
from shutterbox.services.people import accounts, export
from tests.imagegen import jpeg_bytes
from tests.support.fakes import FakeMetadata
from tests.support.fakes.imaging import InProcessImaging
from tests.support.settings import make_settings


class RecordingQueue:
    async def enqueue(self, conn: Any, kind: str, image_id: str, *args: Any, **kw: Any) -> int:
        return 1

    async def dispatch(self, job_ids: list[int], lane: Any = None) -> None:
        return None


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = make_settings(tmp_path / "data", storage_url="memory://", max_upload_bytes=400_000)
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


async def _upload(services: Services, owner: User, data: bytes, **details: Any) -> str:
    path = services.staging_dir / f"upload-{hashlib.sha256(data).hexdigest()[:8]}"
    path.write_bytes(data)
    staged = uploads.StagedFile(path, len(data), hashlib.sha256(data).hexdigest(), JPEG)
    image, _ = await uploads.accept_upload(
        services, owner, staged, uploads.UploadDetails(**details)
    )
    return image.id


async def _whole(services: Services, plan: export.ExportPlan) -> bytes:
    return b"".join([chunk async for chunk in export.read_range(services, plan)])


@pytest.fixture
async def alice_library(services: Services) -> tuple[User, dict[str, bytes]]:
    alice = await accounts.register(services.metadata, "alice", "password123")
    bob = await accounts.register(services.metadata, "bobby", "password123")
    photos = {
        await _upload(services, alice, data, **details): data
        for data, details in [
            (jpeg_bytes(320, 200, noise=True), {"caption": "sea", "tags": ["sea", "blue"]}),
            (
                jpeg_bytes(300, 200, noise=True),
                {
                    "visibility": Visibility.PRIVATE,
                    "alt_text": "a cat",
                    "location_name": "Oslo",
                    "lat": 59.9,
                    "lon": 10.7,
                },
            ),
            (jpeg_bytes(200, 300, noise=True), {}),
        ]
    }
    trashed = await _upload(services, alice, jpeg_bytes(100, 100, noise=True))
    async with services.metadata.write() as tx:
        await tx.images.mark_deleted(trashed, datetime(2024, 1, 1))
    await _upload(services, bob, jpeg_bytes(120, 100, noise=True), caption="bob's")
    return alice, photos


async def test_the_archive_holds_every_live_original_with_its_sidecar(
    services: Services, alice_library: tuple[User, dict[str, bytes]]
):
    alice, photos = alice_library
    plan = await export.plan_export(services, alice)
    whole = await _whole(services, plan)
    assert len(whole) == plan.size and len(whole) % tarfile.RECORDSIZE == 0
    with tarfile.open(fileobj=io.BytesIO(whole)) as archive:
        names = archive.getnames()
        assert names[0] == layout.MANIFEST_NAME
        manifest = json.loads(archive.extractfile(names[0]).read())  # type: ignore[union-attr]
        assert manifest["username"] == "alice" and manifest["images"] == 3
        assert manifest["format_version"] == layout.FORMAT_VERSION
        ids = list(photos)  # uploaded in this order: the archive's order
        assert names[1:] == [n for i in ids for n in (f"images/{i}.json", f"images/{i}.jpg")]
        for image_id, data in photos.items():
            assert archive.extractfile(f"images/{image_id}.jpg").read() == data  # type: ignore[union-attr]
        private = json.loads(archive.extractfile(f"images/{ids[1]}.json").read())  # type: ignore[union-attr]
    assert private["visibility"] == "private" and private["alt_text"] == "a cat"
    assert private["place"] == {"name": "Oslo", "lat": 59.9, "lon": 10.7}
    assert private["original"]["sha256"] == hashlib.sha256(photos[ids[1]]).hexdigest()


async def test_any_range_is_the_same_bytes_as_the_whole(
    services: Services,
    alice_library: tuple[User, dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
):
    alice, _ = alice_library
    plan = await export.plan_export(services, alice)
    whole = await _whole(services, plan)
    monkeypatch.setattr(export, "READ_BYTES", 1000)  # several reads for one original
    cuts = random.Random(7).sample(range(1, plan.size), 25)
    for start, end in [(0, 1), (plan.size - 1, plan.size), *itertools.pairwise(cuts)]:
        start, end = sorted((start, end))
        part = b"".join([c async for c in export.read_range(services, plan, start, end)])
        assert part == whole[start:end], (start, end)


async def test_the_etag_names_the_images_and_their_details(
    services: Services, alice_library: tuple[User, dict[str, bytes]]
):
    alice, photos = alice_library
    first = await export.plan_export(services, alice)
    again = await export.plan_export(services, alice)
    assert (again.etag, again.size) == (first.etag, first.size)
    assert await _whole(services, again) == await _whole(services, first)
    async with services.metadata.write() as tx:
        image = await tx.images.get(next(iter(photos)))
        assert image is not None
        await tx.images.update_details(image, {"caption": "the sea, again"})
    assert (await export.plan_export(services, alice)).etag != first.etag


async def test_archived_originals_are_refused_or_listed(
    services: Services, alice_library: tuple[User, dict[str, bytes]]
):
    alice, photos = alice_library
    archived = next(iter(photos))
    async with services.metadata.write() as tx:
        await tx.images.set_original_class(archived, StorageClass.GLACIER)
    with pytest.raises(Conflict, match="1 of your originals"):
        await export.plan_export(services, alice)
    async with services.metadata.read() as tx:
        image = await tx.images.get(archived)
    assert image is not None and image.original_restore_requested_at is not None
    plan = await export.plan_export(services, alice, skip_archived=True)
    assert plan.count == 2
    assert plan.not_included == [{"id": archived, "reason": "archived in GLACIER, not restored"}]


async def test_a_failed_image_is_in_only_with_its_original(
    services: Services, alice_library: tuple[User, dict[str, bytes]]
):
    alice, photos = alice_library
    failed, lost = list(photos)[:2]
    async with services.metadata.write() as tx:
        await tx.images.mark_failed(failed, "cut off", datetime(2024, 1, 1))
        await tx.images.mark_failed(lost, "missing", datetime(2024, 1, 1))
        image = await tx.images.get(lost)
    assert image is not None
    await services.store.delete(image.original_key)
    plan = await export.plan_export(services, alice)
    assert plan.count == 2
    assert plan.not_included == [{"id": lost, "reason": "failed, and its original is missing"}]


async def test_an_export_imported_for_another_user_keeps_the_details(
    services: Services, alice_library: tuple[User, dict[str, bytes]], tmp_path: Path
):
    alice, _ = alice_library
    archive = tmp_path / "alice.tar"
    archive.write_bytes(await _whole(services, await export.plan_export(services, alice)))
    await accounts.register(services.metadata, "carol", "password123")
    console = Console(file=io.StringIO())
    report = await batch.import_photos(services, archive, "carol", console, process=False)
    assert len(report.imported) == 3 and report.refused == {}
    async with services.metadata.read() as tx:
        carol = await tx.users.by_name("carol")
        assert carol is not None
        imported = await tx.images.library_page(carol.id, after=None, limit=10)
        originals = await tx.images.library_page(alice.id, after=None, limit=10)
    assert [i.original_sha256 for i in imported] == [i.original_sha256 for i in originals]
    for new, old in zip(imported, originals, strict=True):
        assert (new.caption, new.tags, new.alt_text, new.visibility, new.created_at) == (
            old.caption,
            old.tags,
            old.alt_text,
            old.visibility,
            old.created_at,
        )
        assert (new.location_name, new.lat, new.lon) == (old.location_name, old.lat, old.lon)
    again = await batch.import_photos(services, archive, "carol", console, process=False)
    assert again.imported == [] and len(again.duplicates) == 3  # run again: nothing twice

    folder = tmp_path / "extracted"
    with tarfile.open(archive) as opened:
        opened.extractall(folder, filter="data")
    await accounts.register(services.metadata, "dave", "password123")
    from_folder = await batch.import_photos(services, folder, "dave", console, process=False)
    assert len(from_folder.imported) == 3 and from_folder.refused == {}


def _member(name: str, data: bytes = b"", **fields: Any) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in fields.items():
        setattr(info, key, value)
    return info, data


def _hostile_archive(path: Path) -> None:
    photo = jpeg_bytes(64, 64, noise=True)
    with tarfile.open(path, "w") as archive:
        for info, data in [
            _member("../escape.jpg", photo),
            _member("/etc/absolute.jpg", photo),
            _member("link.jpg", type=tarfile.SYMTYPE, linkname="/etc/passwd"),
            _member("hard.jpg", type=tarfile.LNKTYPE, linkname="images/ok.jpg"),
            _member("fifo.jpg", type=tarfile.FIFOTYPE),
            _member("huge.jpg", bytes(500_000)),
            _member("big.json", b" " * (layout.MAX_SIDECAR_BYTES + 1)),
            _member("images/broken.json", b"{not json"),
            _member("images/broken.jpg", photo),
            _member("images/typed.json", json.dumps({"tags": "not-a-list"}).encode()),
            _member("images/typed.jpg", photo),
            _member("images/liar.json", json.dumps({"original": {"sha256": "0" * 64}}).encode()),
            _member("images/liar.jpg", photo),
            _member("images/text.jpg", b"not a photo at all"),
            _member("images/ok.json", json.dumps({"caption": "fine", "tags": ["ok"]}).encode()),
            _member("images/ok.jpg", jpeg_bytes(80, 60, noise=True)),
        ]:
            archive.addfile(info, io.BytesIO(data))


async def test_hostile_members_are_refused_one_by_one(services: Services, tmp_path: Path):
    await accounts.register(services.metadata, "erin", "password123")
    archive = tmp_path / "hostile" / "upload.tar"
    archive.parent.mkdir()
    _hostile_archive(archive)
    console = Console(file=io.StringIO())
    report = await batch.import_photos(services, archive, "erin", console, process=False)
    assert len(report.imported) == 1, report
    refused = {name.split(":", 1)[1]: reason for name, reason in report.refused.items()}
    assert "a name with '..'" in refused["../escape.jpg"]
    assert "an absolute name" in refused["/etc/absolute.jpg"]
    assert "link" in refused["link.jpg"] and "link" in refused["hard.jpg"]
    assert "not a regular file" in refused["fifo.jpg"]
    assert "larger than the limit" in refused["huge.jpg"]
    assert "JSON file larger than" in refused["big.json"]
    assert "broken.json: the sidecar is not valid JSON" in refused["images/broken.jpg"]
    assert "'tags' has the wrong type" in refused["images/typed.jpg"]
    assert "do not match the SHA-256" in refused["images/liar.jpg"]
    assert "not a picture" in refused["images/text.jpg"]
    assert sorted(p.name for p in archive.parent.iterdir()) == ["upload.tar"]
    assert not (tmp_path / "escape.jpg").exists()
    assert list(services.staging_dir.iterdir()) == []  # every staged copy went somewhere
    async with services.metadata.read() as tx:
        user = await tx.users.by_name("erin")
        assert user is not None
        (image,) = await tx.images.library_page(user.id, after=None, limit=10)
    assert (image.caption, image.tags, image.visibility) == ("fine", ["ok"], Visibility.PUBLIC)


async def test_a_cut_off_archive_imports_what_came_before_the_cut(
    services: Services, tmp_path: Path
):
    whole = tmp_path / "whole.tar"
    with tarfile.open(whole, "w") as archive:
        for n in range(3):
            data = jpeg_bytes(60 + n, 60, noise=True)
            info, _ = _member(f"p{n}.jpg", data)
            archive.addfile(info, io.BytesIO(data))
    cut = tmp_path / "cut.tar"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with ImportSource(
        cut, services.staging_dir, 1_000_000, uploads.detail_limits(services.settings)
    ) as source:
        candidates = source.candidates()
        staged = [c for c in candidates if c.stage is not None]
        assert staged[0].stage is not None and staged[0].stage().size > 0
        with pytest.raises(InvalidInput, match=r"cut off|cannot be read"):
            assert staged[-1].stage is not None
            staged[-1].stage()


def test_a_newer_export_format_is_refused_whole(tmp_path: Path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / layout.MANIFEST_NAME).write_text(json.dumps({"format_version": 99}))
    limits = layout.DetailLimits(max_caption_chars=100, max_tags=5)
    with (
        ImportSource(folder, tmp_path, 1000, limits) as source,
        pytest.raises(InvalidInput, match="newer"),
    ):
        source.candidates()


def test_a_sidecar_is_checked_as_an_upload_is():
    limits = layout.DetailLimits(max_caption_chars=10, max_tags=5)
    read = layout.read_sidecar(
        json.dumps(
            {
                "caption": " hi ",
                "tags": ["#Sea"],
                "visibility": "private",
                "place": {"name": "Oslo", "lat": 1, "lon": 2},
                "created_at": "2024-05-01T12:00:00Z",
                "taken_at": "2024-05-01T14:00:00+02:00",
            }
        ).encode(),
        limits,
    )
    assert (read.details.caption, read.details.tags, read.details.lat) == ("hi", ["sea"], 1.0)
    assert read.created_at == datetime(2024, 5, 1, 12) == read.taken_at
    for bad, complaint in [
        ({"caption": "x" * 11}, "longer than 10"),
        ({"visibility": "everyone"}, "visibility"),
        ({"place": {"lat": 1}}, "both lat and lon"),
        ({"place": {"lat": True, "lon": 1}}, "wrong type"),
        ({"created_at": "yesterday"}, "not a time"),
        ({"format_version": 2}, "newer format"),
        ([1, 2], "not a JSON object"),
    ]:
        with pytest.raises(InvalidInput, match=complaint):
            layout.read_sidecar(json.dumps(bad).encode(), limits)


async def test_a_kept_created_time_is_never_later_than_now(services: Services):
    owner = await accounts.register(services.metadata, "fred", "password123")
    data = jpeg_bytes(90, 60, noise=True)
    path = services.staging_dir / "upload-future"
    path.write_bytes(data)
    staged = uploads.StagedFile(path, len(data), hashlib.sha256(data).hexdigest(), JPEG)
    future = datetime(2999, 1, 1)
    image, _ = await uploads.accept_upload(
        services, owner, staged, uploads.UploadDetails(), created_at=future
    )
    assert image.created_at < future and "/2999/" not in image.original_key
