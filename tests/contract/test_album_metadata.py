"""The album and share link repositories on every implementation of the metadata port (SQLite,
PostgreSQL as is and with direct reads, the in-memory fake): the same answers from each."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from shutterbox.domain.albums import POSITION_GAP, Album, Share
from shutterbox.domain.images import Visibility
from shutterbox.ports.metadata import Metadata
from tests.contract.test_metadata import T0, _image, _ready, _user, metadata  # noqa: F401


def _album(owner_id: int, n: int, visibility: Visibility = Visibility.PUBLIC) -> Album:
    at = T0 + timedelta(hours=n)
    return Album(f"alb{n:04d}", owner_id, "", f"album {n}", "", visibility, None, at, at)


def _share(owner_id: int, n: int, **changes: object) -> Share:
    share = Share(
        id=f"shr{n:04d}",
        owner_id=owner_id,
        token_sha256=f"{n:064d}",
        album_id=None,
        image_id=None,
        expires_at=None,
        password_hash=None,
        hide_details=False,
        created_at=T0 + timedelta(hours=n),
    )
    return replace(share, **changes)  # type: ignore[arg-type]


async def test_albums_their_entries_and_their_order(metadata: Metadata):  # noqa: F811
    alice = await _user(metadata, "alice")
    for n in range(1, 5):
        await _ready(
            metadata,
            _image(alice, n, visibility=Visibility.PRIVATE if n == 2 else Visibility.PUBLIC),
        )
    async with metadata.write() as tx:
        await tx.albums.create(_album(alice.id, 1))
        await tx.albums.create(_album(alice.id, 2, Visibility.PRIVATE))
        for n in (3, 1, 2, 4):
            assert await tx.albums.add_image("alb0001", f"img{n:04d}", T0)
        assert not await tx.albums.add_image("alb0001", "img0003", T0)  # again: no change
        await tx.albums.update("alb0001", {"title": "sea", "cover_image_id": "img0001"})
    async with metadata.read() as tx:
        album = await tx.albums.get("alb0001")
        assert album is not None and album.title == "sea" and album.owner_username == "alice"
        assert album.cover_image_id == "img0001"
        assert await tx.albums.get("nothing") is None
        positions = await tx.albums.positions("alb0001")
        assert [i for i, _ in positions] == ["img0003", "img0001", "img0002", "img0004"]
        assert [p for _, p in positions] == [POSITION_GAP * n for n in range(1, 5)]
        everything = await tx.albums.images(
            "alb0001", include_private=True, ready_only=False, limit=10, cursor=None
        )
        assert [i.id for _, i in everything] == ["img0003", "img0001", "img0002", "img0004"]
        public = await tx.albums.images(
            "alb0001", include_private=False, ready_only=True, limit=2, cursor=None
        )
        assert [i.id for _, i in public] == ["img0003", "img0001"]
        after = (public[-1][0], public[-1][1].id)
        rest = await tx.albums.images(
            "alb0001", include_private=False, ready_only=True, limit=10, cursor=after
        )
        assert [i.id for _, i in rest] == ["img0004"]
        assert [
            a.id
            for a in await tx.albums.of_owner(alice.id, include_private=True, limit=10, cursor=None)
        ] == ["alb0002", "alb0001"]
        assert [
            a.id
            for a in await tx.albums.of_owner(
                alice.id, include_private=False, limit=10, cursor=None
            )
        ] == ["alb0001"]
        first = (await tx.albums.of_owner(alice.id, include_private=True, limit=1, cursor=None))[0]
        assert [
            a.id
            for a in await tx.albums.of_owner(
                alice.id, include_private=True, limit=5, cursor=(first.created_at, first.id)
            )
        ] == ["alb0001"]
        assert {i.id for i in await tx.albums.covers(["img0001", "img0002", "nothing"])} == {
            "img0001",
            "img0002",
        }
        assert await tx.albums.has_image("alb0001", "img0002")
    async with metadata.write() as tx:
        await tx.albums.set_positions("alb0001", [("img0004", POSITION_GAP // 2)])
        await tx.images.mark_deleted("img0001", T0)  # in the trash: out of every read
        assert await tx.albums.remove_image("alb0001", "img0003")
        assert not await tx.albums.remove_image("alb0001", "img0003")
    async with metadata.read() as tx:
        shown = await tx.albums.images(
            "alb0001", include_private=True, ready_only=False, limit=10, cursor=None
        )
        assert [i.id for _, i in shown] == ["img0004", "img0002"]
        assert not await tx.albums.has_image("alb0001", "img0001")
        assert await tx.albums.covers(["img0001"]) == []
        assert [i for i, _ in await tx.albums.positions("alb0001")] == [
            "img0004",
            "img0001",
            "img0002",
        ]
    async with metadata.write() as tx:
        await tx.images.remove("img0004")  # removed for good: its entries go with it
        await tx.albums.remove("alb0002")
    async with metadata.read() as tx:
        assert [i for i, _ in await tx.albums.positions("alb0001")] == ["img0001", "img0002"]
        assert await tx.albums.get("alb0002") is None
        assert await tx.images.get("img0002") is not None  # an album's removal keeps images
    async with metadata.write() as tx:
        await tx.albums.forget_owner(alice.id)
    async with metadata.read() as tx:
        assert await tx.albums.of_owner(alice.id, include_private=True, limit=10, cursor=None) == []


async def test_share_links(metadata: Metadata):  # noqa: F811
    alice, bob = await _user(metadata, "alice"), await _user(metadata, "bob")
    await _ready(metadata, _image(alice, 1))
    await _ready(metadata, _image(alice, 2))
    async with metadata.write() as tx:
        await tx.albums.create(_album(alice.id, 1))
        await tx.shares.create(_share(alice.id, 1, album_id="alb0001", password_hash="h"))
        await tx.shares.create(
            _share(
                alice.id,
                2,
                image_id="img0001",
                hide_details=True,
                expires_at=T0 + timedelta(days=1),
            )
        )
        await tx.shares.create(_share(alice.id, 3, image_id="img0002"))
        await tx.shares.create(_share(bob.id, 4, image_id="img0002"))
    async with metadata.read() as tx:
        found = await tx.shares.by_token(f"{2:064d}")
        assert found == _share(
            alice.id, 2, image_id="img0001", hide_details=True, expires_at=T0 + timedelta(days=1)
        )
        assert await tx.shares.get("shr0001") == _share(
            alice.id, 1, album_id="alb0001", password_hash="h"
        )
        assert await tx.shares.by_token("0" * 63 + "9") is None
        mine = await tx.shares.of_owner(alice.id, limit=2, cursor=None)
        assert [s.id for s in mine] == ["shr0003", "shr0002"]
        more = await tx.shares.of_owner(
            alice.id, limit=5, cursor=(mine[-1].created_at, mine[-1].id)
        )
        assert [s.id for s in more] == ["shr0001"]
    when = datetime(2024, 6, 1)
    async with metadata.write() as tx:
        await tx.shares.revoke("shr0003", when)
        await tx.images.remove("img0001")  # the image's links go with it
        await tx.albums.remove("alb0001")  # and the album's
    async with metadata.read() as tx:
        revoked = await tx.shares.get("shr0003")
        assert revoked is not None and revoked.revoked_at == when
        assert [s.id for s in await tx.shares.of_owner(alice.id, limit=5, cursor=None)] == []
        assert await tx.shares.get("shr0001") is None and await tx.shares.get("shr0002") is None
    async with metadata.write() as tx:
        await tx.shares.forget_owner(bob.id)
    async with metadata.read() as tx:
        assert await tx.shares.get("shr0004") is None
