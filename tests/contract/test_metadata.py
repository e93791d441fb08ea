"""One suite for every implementation of the metadata port: the SQL adapter on SQLite and on
PostgreSQL, and the in-memory fake the unit tests use, so the fake answers as the real thing.
On PostgreSQL it runs twice: once as is, and once with every read made as a quick read whose
statements run straight on asyncpg from their first execution (``lean_reads.py``), so the
direct path answers exactly what SQLAlchemy does."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from shutterbox.adapters.db import lean_reads
from shutterbox.adapters.db.engine import open_database
from shutterbox.adapters.db.metadata import SqlMetadata
from shutterbox.adapters.db.migrate import upgrade_to_head
from shutterbox.domain.images import Image, Status, Variant, Visibility
from shutterbox.domain.storage import StorageClass
from shutterbox.domain.users import CLOSED_ACCOUNT_HASH, User
from shutterbox.ports.metadata import AlreadyExists, Metadata
from tests.support.fakes import FakeMetadata

T0 = datetime(2024, 5, 1, 12, 0, 0)


class _DirectReads(SqlMetadata):
    """Every read a quick read."""

    def read(self):  # type: ignore[no-untyped-def]
        return self.quick_read()


@pytest.fixture(params=["sqlite", "postgresql", "postgresql-direct", "memory"])
async def metadata(
    request: pytest.FixtureRequest, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Metadata]:
    if request.param == "memory":
        yield FakeMetadata()
        return
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'metadata.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    db = open_database(url)
    await upgrade_to_head(db)
    direct = request.param == "postgresql-direct"
    monkeypatch.setattr(lean_reads, "DIRECT_AT_FIRST_SIGHT", direct)
    monkeypatch.setattr(lean_reads, "runs", Counter())
    try:
        yield _DirectReads(db) if direct else SqlMetadata(db)
    finally:
        await db.dispose()
    if direct:  # the reads did run direct, and none of them had to be run again
        assert lean_reads.runs["direct"] > 0
        assert lean_reads.runs["failed"] == 0


async def _user(metadata: Metadata, name: str) -> User:
    async with metadata.write() as tx:
        return await tx.users.create(name, f"hash-of-{name}", is_admin=False, created_at=T0)


def _image(owner: User, n: int, **changes: object) -> Image:
    image = Image(
        id=f"img{n:04d}",
        owner_id=owner.id,
        owner_username=owner.username,
        status=Status.PROCESSING,
        visibility=Visibility.PUBLIC,
        created_at=T0 + timedelta(minutes=n),
        original_key=f"originals/{n}.jpg",
        original_media_type="image/jpeg",
        original_bytes=1000 + n,
        original_sha256=f"{n:064d}",
        tags=["sea"] if n % 2 else [],
    )
    return replace(image, **changes)  # type: ignore[arg-type]


def _variants(n: int) -> list[Variant]:
    return [
        Variant(name, f"variants/{n}-{name}.{ext}", mt, 10, 10, 100, "ab" * 32, fmt)
        for name in ("thumb", "full")
        for fmt, ext, mt in (("jpeg", "jpg", "image/jpeg"), ("webp", "webp", "image/webp"))
    ]


async def _ready(metadata: Metadata, image: Image) -> None:
    async with metadata.write() as tx:
        await tx.images.insert(image)
        assert await tx.images.save_processed(image.id, {"width": 10, "height": 10}, _variants(1))


async def test_users_and_tokens(metadata: Metadata):
    alice = await _user(metadata, "alice")
    with pytest.raises(AlreadyExists):
        await _user(metadata, "alice")
    async with metadata.write() as tx:
        await tx.users.add_token("t" * 64, alice.id, T0, T0 + timedelta(days=1))
    async with metadata.read() as tx:
        assert await tx.users.by_name("alice") == alice
        assert await tx.users.by_name("nobody") is None
        credentials = await tx.users.credentials("alice")
        assert credentials is not None and credentials.password_hash == "hash-of-alice"
        assert await tx.users.by_token("t" * 64, T0) == alice
        assert await tx.users.by_token("t" * 64, T0 + timedelta(days=2)) is None
    async with metadata.write() as tx:
        await tx.users.revoke_token("t" * 64, T0)
    async with metadata.read() as tx:
        assert await tx.users.by_token("t" * 64, T0) is None


async def test_a_closed_account(metadata: Metadata):
    alice, bob = await _user(metadata, "alice"), await _user(metadata, "bob")
    await _ready(metadata, _image(alice, 1))
    async with metadata.write() as tx:
        await tx.users.add_token("a" * 64, alice.id, T0, T0 + timedelta(days=1))
        await tx.follows.add(alice.id, bob.id, T0)
        await tx.follows.add(bob.id, alice.id, T0)
        assert await tx.images.ids_of_owner(alice.id) == ["img0001"]
        await tx.users.close(alice.id)
        await tx.follows.forget(alice.id)
        assert not await tx.users.remove_closed(alice.id)  # an image is still there
        assert not await tx.users.remove_closed(bob.id)  # not closed
    async with metadata.read() as tx:
        assert await tx.users.by_token("a" * 64, T0) is None
        credentials = await tx.users.credentials("alice")
        assert credentials is not None and credentials.password_hash == CLOSED_ACCOUNT_HASH
        assert not await tx.follows.exists(alice.id, bob.id)
        assert not await tx.follows.exists(bob.id, alice.id)
        assert await tx.follows.count_followers(bob.id) == 0
    async with metadata.write() as tx:
        await tx.images.remove("img0001")
        assert await tx.users.remove_closed(alice.id)
    async with metadata.read() as tx:
        assert await tx.users.by_name("alice") is None
        assert await tx.users.by_name("bob") == bob


async def test_a_write_that_raises_changes_nothing(metadata: Metadata):
    alice = await _user(metadata, "alice")
    with pytest.raises(RuntimeError):
        async with metadata.write() as tx:
            await tx.images.insert(_image(alice, 1))
            raise RuntimeError("abandon")
    async with metadata.read() as tx:
        assert await tx.images.get("img0001") is None


async def test_an_image_through_its_life(metadata: Metadata):
    alice = await _user(metadata, "alice")
    image = _image(alice, 1)
    async with metadata.write() as tx:
        await tx.images.insert(image)
    async with metadata.read() as tx:
        assert await tx.images.get(image.id) == image
        assert await tx.images.find_duplicate(alice.id, image.original_sha256) == image
        assert [s.status for s in await tx.images.states([image.id, "nope"])] == ["processing"]
    async with metadata.write() as tx:
        await tx.images.mark_failed(image.id, "x" * 600, T0)
    async with metadata.read() as tx:
        failed = await tx.images.get(image.id)
        assert failed is not None and failed.status == Status.FAILED
        assert failed.failure_reason == "x" * 500
        assert await tx.images.live_ids(None, failed_only=True) == [image.id]
        assert await tx.images.failed_expired(T0 + timedelta(hours=1), 10) == [image.id]
    async with metadata.write() as tx:
        assert await tx.images.mark_processing_again(image.id)
        assert not await tx.images.mark_processing_again(image.id)
        assert await tx.images.save_processed(image.id, {"width": 40, "height": 30}, _variants(1))
    async with metadata.read() as tx:
        ready = await tx.images.get(image.id)
    assert ready is not None and ready.status == Status.READY and ready.width == 40
    assert set(ready.variants) == {"thumb", "full"} and set(ready.alternates) == {"webp"}
    assert ready.failure_reason is None
    async with metadata.read() as tx:
        thumb = await tx.images.variant_files(image.id, "thumb")
        assert thumb is not None and thumb.owner_id == alice.id and not thumb.deleted
        assert thumb.visibility == Visibility.PUBLIC and thumb.last_modified == (
            ready.processed_at or ready.created_at
        )
        assert thumb.formats == {
            "jpeg": ready.variants["thumb"],
            "webp": ready.alternates["webp"]["thumb"],
        }
        assert await metadata.variant_files(image.id, "thumb") == thumb  # the media path's way
        medium = await tx.images.variant_files(image.id, "medium")
        assert medium is not None and medium.formats == {}
        assert await tx.images.variant_files("nope", "thumb") is None

    async with metadata.write() as tx:
        assert await tx.images.update_details(ready, {"tags": ["sun"], "visibility": "private"})
    async with metadata.read() as tx:
        edited = await tx.images.get(image.id)
        assert edited is not None and edited.tags == ["sun"]
        assert edited.visibility == Visibility.PRIVATE
        assert await tx.images.feed(limit=10, cursor=None, tag="sun") == []
        mine = await tx.images.feed(limit=10, cursor=None, tag="sun", include_private=True)
        assert [i.id for i in mine] == [image.id]
        assert await tx.images.count_ready(alice.id, include_private=False) == 0
        assert await tx.images.count_ready(alice.id, include_private=True) == 1
        assert await tx.images.original_bytes(alice.id) == image.original_bytes

    async with metadata.write() as tx:
        await tx.images.mark_deleted(image.id, T0 + timedelta(days=1))
    async with metadata.read() as tx:
        gone = await tx.images.variant_files(image.id, "thumb")
        assert gone is not None and gone.deleted and gone.visibility == Visibility.PRIVATE
        assert await metadata.variant_files(image.id, "thumb") == gone
        assert await metadata.variant_files("nope", "thumb") is None
        assert await tx.images.find_duplicate(alice.id, image.original_sha256) is None
        trash = await tx.images.list_trash(alice.id, limit=10, cursor=None)
        assert [i.id for i in trash] == [image.id]
        assert await tx.images.trash_expired(T0 + timedelta(days=2), 10) == [image.id]
        assert await tx.images.live_ids([image.id], failed_only=False) == []
    async with metadata.write() as tx:
        assert not await tx.images.restore_deleted(image.id, T0 + timedelta(days=2))
        assert await tx.images.restore_deleted(image.id, T0)
        assert not await tx.images.save_processed("nope", {}, [])
        await tx.images.remove(image.id)
    async with metadata.read() as tx:
        assert await tx.images.get(image.id) is None


async def test_feeds_page_newest_first(metadata: Metadata):
    alice, bob = await _user(metadata, "alice"), await _user(metadata, "bob")
    for n in range(1, 6):
        await _ready(metadata, _image(alice, n))
    await _ready(metadata, _image(bob, 6))
    await _ready(metadata, _image(bob, 7, visibility=Visibility.PRIVATE))
    async with metadata.read() as tx:
        first = await tx.images.feed(limit=3, cursor=None)
        assert [i.id for i in first] == ["img0006", "img0005", "img0004"]
        assert first[0].owner_username == "bob"
        after = (first[-1].created_at, first[-1].id)
        rest = await tx.images.feed(limit=10, cursor=after)
        assert [i.id for i in rest] == ["img0003", "img0002", "img0001"]
        tagged = await tx.images.feed(limit=10, cursor=None, tag="sea")
        assert [i.id for i in tagged] == ["img0005", "img0003", "img0001"]
        own = await tx.images.feed(limit=10, cursor=None, owner_id=bob.id, include_private=True)
        assert [i.id for i in own] == ["img0007", "img0006"]
        home = await tx.images.feed(limit=10, cursor=None, home_of=alice.id)
        assert {i.owner_id for i in home} == {alice.id}
    async with metadata.write() as tx:
        await tx.follows.add(alice.id, bob.id, T0)
        await tx.follows.add(alice.id, bob.id, T0)  # again: nothing changes
    async with metadata.read() as tx:
        home = await tx.images.feed(limit=3, cursor=None, home_of=alice.id)
        assert [i.id for i in home] == ["img0006", "img0005", "img0004"]
        assert await tx.follows.exists(alice.id, bob.id)
        assert not await tx.follows.exists(bob.id, alice.id)
        assert (
            await tx.follows.count_followers(bob.id),
            await tx.follows.count_following(bob.id),
        ) == (1, 0)
        assert await tx.follows.people(bob.id, of_followers=True, after=None, limit=5) == ["alice"]
        assert await tx.follows.people(bob.id, of_followers=True, after="alice", limit=5) == []
        assert await tx.follows.people(alice.id, of_followers=False, after=None, limit=5) == ["bob"]
    async with metadata.write() as tx:
        await tx.follows.remove(alice.id, bob.id)
    async with metadata.read() as tx:
        assert await tx.follows.count_followers(bob.id) == 0


async def test_a_library_pages_every_live_image_oldest_first(metadata: Metadata):
    alice, bob = await _user(metadata, "alice"), await _user(metadata, "bob")
    taken = datetime(2020, 1, 2, 3, 4, 5)
    for n in (3, 1, 2):  # inserted out of order
        await _ready(metadata, _image(alice, n, visibility=Visibility.PRIVATE, taken_at=taken))
    async with metadata.write() as tx:
        await tx.images.insert(_image(alice, 4))  # still processing
        await tx.images.insert(_image(alice, 5))
        await tx.images.mark_failed("img0005", "cut off", T0)
        await tx.images.insert(_image(alice, 6))
        await tx.images.mark_deleted("img0006", T0)  # in the trash: not in the library
        await tx.images.insert(_image(bob, 7))
        await tx.images.insert(_image(alice, 8, created_at=T0 + timedelta(minutes=4)))  # a tie
    async with metadata.read() as tx:
        first = await tx.images.library_page(alice.id, after=None, limit=3)
        assert [i.id for i in first] == ["img0001", "img0002", "img0003"]
        assert first[0].taken_at == taken and first[0].visibility == Visibility.PRIVATE
        assert first[0].owner_username == "alice" and first[0].variants == {}
        after = (first[-1].created_at, first[-1].id)
        rest = await tx.images.library_page(alice.id, after=after, limit=10)
        assert [(i.id, i.status) for i in rest] == [
            ("img0004", Status.PROCESSING),
            ("img0008", Status.PROCESSING),
            ("img0005", Status.FAILED),
        ]
        assert await tx.images.library_page(bob.id, after=None, limit=10) != []


async def test_status_polling_and_lifecycle_queries(metadata: Metadata):
    alice = await _user(metadata, "alice")
    await _ready(metadata, _image(alice, 1))
    async with metadata.write() as tx:
        await tx.images.insert(_image(alice, 60))
        await tx.images.set_original_class("img0001", StorageClass.GLACIER)
        await tx.images.set_original_restore("img0001", requested_at=T0, restored_until=T0)
    async with metadata.read() as tx:
        recent = await tx.images.changing(alice.id, T0 + timedelta(minutes=30), [])
        assert [s.id for s in recent] == ["img0060"]
        watched = await tx.images.changing(alice.id, T0 + timedelta(minutes=30), ["img0001"])
        assert sorted(s.id for s in watched) == ["img0001", "img0060"]
        ended = await tx.images.restores_ended(T0, 10)
        assert [(e.id, e.original_key) for e in ended] == [("img0001", "originals/1.jpg")]
        due = await tx.images.originals_due(
            created_before=T0 + timedelta(hours=2),
            classes=[StorageClass.GLACIER],
            after=None,
            limit=10,
        )
        assert [(d.id, d.original_storage_class) for d in due] == [("img0001", "GLACIER")]
        later = await tx.images.originals_due(
            created_before=T0 + timedelta(hours=2),
            classes=[StorageClass.GLACIER],
            after=(due[0].created_at, due[0].id),
            limit=10,
        )
        assert later == []


async def test_idempotency_keys_and_direct_uploads(metadata: Metadata):
    alice = await _user(metadata, "alice")
    await _ready(metadata, _image(alice, 1))
    async with metadata.write() as tx:
        await tx.uploads.remember_key(alice.id, "k1", "img0001", T0, T0 - timedelta(hours=1))
    with pytest.raises(AlreadyExists):
        async with metadata.write() as tx:
            await tx.uploads.remember_key(alice.id, "k1", "img0001", T0, T0 - timedelta(hours=1))
    async with metadata.write() as tx:  # an expired use of the key no longer counts
        await tx.uploads.remember_key(alice.id, "k1", "img0001", T0 + timedelta(days=2), T0)
    async with metadata.read() as tx:
        assert await tx.uploads.idempotent_image(alice.id, "k1", T0) == "img0001"
        assert await tx.uploads.idempotent_image(alice.id, "k1", T0 + timedelta(days=3)) is None
        assert await tx.uploads.idempotent_image(alice.id, "k2", T0) is None

    upload = {
        "id": "up1",
        "user_id": alice.id,
        "key": "incoming/up1",
        "filename": "a.jpg",
        "content_type": "image/jpeg",
        "size": 500,
        "created_at": T0,
        "expires_at": T0 + timedelta(hours=1),
    }
    async with metadata.write() as tx:
        await tx.uploads.start_direct(upload)
        await tx.uploads.start_direct({**upload, "id": "up2", "key": "incoming/up2"})
    async with metadata.read() as tx:
        row = await tx.uploads.get_direct("up1")
        assert row is not None and row["key"] == "incoming/up1" and row["completed_at"] is None
        assert await tx.uploads.get_direct("nope") is None
        assert await tx.uploads.pending_bytes(alice.id, T0) == 1000
        abandoned = await tx.uploads.abandoned(T0 + timedelta(hours=2), 10)
        assert sorted(abandoned) == [("up1", "incoming/up1"), ("up2", "incoming/up2")]
    stale = T0 - timedelta(minutes=5)
    async with metadata.write() as tx:
        assert await tx.uploads.claim_completion("up1", T0, stale)
        assert not await tx.uploads.claim_completion("up1", T0, stale)
        await tx.uploads.release_claim("up1")
        assert await tx.uploads.claim_completion("up1", T0, stale)
        await tx.uploads.mark_completed("up1", "img0001", T0)
        assert not await tx.uploads.claim_completion("up1", T0 + timedelta(hours=1), T0)
        await tx.uploads.forget("up1", only_incomplete=True)  # completed: kept
        await tx.uploads.forget("up2")
    async with metadata.read() as tx:
        row = await tx.uploads.get_direct("up1")
        assert row is not None and row["image_id"] == "img0001"
        assert await tx.uploads.get_direct("up2") is None
        assert await tx.uploads.pending_bytes(alice.id, T0) == 0


async def test_egress_and_the_bill(metadata: Metadata):
    alice = await _user(metadata, "alice")
    await _ready(metadata, _image(alice, 1))
    await _ready(metadata, _image(alice, 2))
    async with metadata.write() as tx:
        await tx.images.mark_deleted("img0002", T0)
        await tx.egress.add(
            [(date(2024, 5, 1), "origin", 100, 2), (date(2024, 5, 1), "edge", 7, 1)]
        )
        await tx.egress.add(
            [(date(2024, 5, 1), "origin", 50, 1), (date(2024, 4, 1), "origin", 9, 9)]
        )
    async with metadata.read() as tx:
        assert await tx.egress.day_totals(date(2024, 5, 1), "origin") == (150, 3)
        assert await tx.egress.day_totals(date(2024, 5, 2), "origin") == (0, 0)
        bill = await tx.bill.measure(date(2024, 4, 15), T0 + timedelta(minutes=2))
    assert bill.originals == [("STANDARD", 2, 2003, 1002)]
    assert bill.variants == [
        ("full", "jpeg", "STANDARD", 2, 200, 100),
        ("full", "webp", "STANDARD", 2, 200, 100),
        ("thumb", "jpeg", "STANDARD", 2, 200, 100),
        ("thumb", "webp", "STANDARD", 2, 200, 100),
    ]
    assert sorted(bill.egress) == [("edge", 7, 1, 1), ("origin", 150, 3, 1)]
    assert bill.first_egress_day == date(2024, 4, 1)
    assert (bill.image_rows, bill.first_upload, bill.recent_uploads) == (
        2,
        T0 + timedelta(minutes=1),
        1,
    )


async def test_quick_reads_see_every_commit_and_run_beside_writes(metadata: Metadata):
    """``quick_read`` (on SQLite: on the event loop, through another driver) reads what the
    last commit wrote, and a quick read held open does not stop a write."""
    alice = await _user(metadata, "alice")
    async with metadata.quick_read() as tx:
        assert await tx.images.feed(limit=5, cursor=None) == []
        await _ready(metadata, _image(alice, 1))  # a write while the quick read is open
    async with metadata.quick_read() as tx:
        assert [i.id for i in await tx.images.feed(limit=5, cursor=None)] == ["img0001"]
        assert await tx.users.by_name("alice") == alice
    async with metadata.write() as tx:
        await tx.images.mark_deleted("img0001", T0)
    async with metadata.quick_read() as tx:
        assert await tx.images.feed(limit=5, cursor=None) == []
