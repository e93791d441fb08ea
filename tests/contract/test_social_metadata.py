"""The repositories of likes, comments and notifications, on SQLite, PostgreSQL (also with
direct quick reads) and the in-memory fake: the same answers from each (the ``metadata``
fixture of ``test_metadata.py``)."""

from __future__ import annotations

from datetime import timedelta

from shutterbox.domain.images import Visibility
from shutterbox.domain.social import Comment, Notification, NotificationKind
from shutterbox.ports.metadata import Metadata
from tests.contract import test_metadata
from tests.contract.test_metadata import T0, _image, _ready, _user

metadata = test_metadata.metadata  # the fixture: SQLite, PostgreSQL (twice) and the fake


def _comment(n: int, image_id: str, author_id: int, author: str) -> Comment:
    return Comment(
        f"c{n:04d}", image_id, author_id, author, f"comment {n}", T0 + timedelta(seconds=n)
    )


def _notice(n: int, recipient_id: int, kind: NotificationKind, **about: str) -> Notification:
    return Notification(
        f"n{n:04d}",
        recipient_id,
        kind,
        T0 + timedelta(seconds=n),
        **about,  # type: ignore[arg-type]
    )


async def test_likes_keep_the_image_count_and_version(metadata: Metadata):
    alice, bob = await _user(metadata, "alice"), await _user(metadata, "bob")
    await _ready(metadata, _image(alice, 1))
    await _ready(metadata, _image(alice, 2))
    async with metadata.read() as tx:
        before = await tx.images.get("img0001")
    assert before is not None and before.like_count == 0
    async with metadata.write() as tx:
        assert await tx.likes.add(bob.id, "img0001", T0)
        assert not await tx.likes.add(bob.id, "img0001", T0)  # once per person
        assert await tx.likes.add(alice.id, "img0001", T0)
    async with metadata.read() as tx:
        after = await tx.images.get("img0001")
        assert after is not None and after.like_count == 2
        if before.version is not None:  # the row's version moved with the count
            assert after.version is not None and after.version > before.version
        assert await tx.likes.liked(bob.id, ["img0001", "img0002", "nothing"]) == {"img0001"}
        assert await tx.likes.liked(bob.id, []) == set()
        listed = await tx.images.feed(limit=10, cursor=None)
        assert {i.id: i.like_count for i in listed} == {"img0001": 2, "img0002": 0}
    async with metadata.write() as tx:
        assert await tx.likes.remove(bob.id, "img0001")
        assert not await tx.likes.remove(bob.id, "img0001")
        await tx.likes.forget_user(alice.id)
    async with metadata.read() as tx:
        image = await tx.images.get("img0001")
        assert image is not None and image.like_count == 0
        assert await tx.likes.liked(alice.id, ["img0001"]) == set()


async def test_comments_in_order_with_the_image_count(metadata: Metadata):
    alice, bob = await _user(metadata, "alice"), await _user(metadata, "bob")
    await _ready(metadata, _image(alice, 1))
    async with metadata.write() as tx:
        for n in range(5):
            author = (alice, bob)[n % 2]
            await tx.comments.add(_comment(n, "img0001", author.id, author.username))
    async with metadata.read() as tx:
        image = await tx.images.get("img0001")
        assert image is not None and image.comment_count == 5
        first = await tx.comments.page("img0001", after=None, limit=3)
        assert [c.id for c in first] == ["c0000", "c0001", "c0002"]
        assert first[1] == _comment(1, "img0001", bob.id, "bob")
        rest = await tx.comments.page(
            "img0001", after=(first[-1].created_at, first[-1].id), limit=3
        )
        assert [c.id for c in rest] == ["c0003", "c0004"]
        assert await tx.comments.get("c0003") == _comment(3, "img0001", bob.id, "bob")
        assert await tx.comments.get("nothing") is None
    async with metadata.write() as tx:
        assert await tx.comments.remove("c0000")
        assert not await tx.comments.remove("c0000")
        await tx.comments.forget_user(bob.id)
    async with metadata.read() as tx:
        image = await tx.images.get("img0001")
        assert image is not None and image.comment_count == 2
        left = await tx.comments.page("img0001", after=None, limit=10)
        assert [c.id for c in left] == ["c0002", "c0004"]
    async with metadata.write() as tx:  # the image removed for good: its comments go too
        await tx.images.remove("img0001")
    async with metadata.read() as tx:
        assert await tx.comments.page("img0001", after=None, limit=10) == []
        assert await tx.comments.get("c0002") is None


async def test_notifications_pages_unread_and_what_they_may_show(metadata: Metadata):
    alice, bob = await _user(metadata, "alice"), await _user(metadata, "bob")
    await _ready(metadata, _image(alice, 1))
    await _ready(metadata, _image(alice, 2))
    await _ready(metadata, _image(bob, 3))
    async with metadata.write() as tx:
        await tx.notifications.add(_notice(1, alice.id, NotificationKind.FOLLOW), bob.id)
        await tx.notifications.add(
            _notice(2, alice.id, NotificationKind.LIKE, image_id="img0001"), bob.id
        )
        await tx.comments.add(_comment(3, "img0002", bob.id, "bob"))
        await tx.notifications.add(
            _notice(3, alice.id, NotificationKind.COMMENT, image_id="img0002", comment_id="c0003"),
            bob.id,
        )
        await tx.notifications.add(
            _notice(4, alice.id, NotificationKind.PROCESSING_FAILED, image_id="img0002"), None
        )
        # about bob's image, to alice: shown only while she can see it
        await tx.notifications.add(
            _notice(5, alice.id, NotificationKind.LIKE, image_id="img0003"), bob.id
        )
    async with metadata.read() as tx:
        page = await tx.notifications.page(alice.id, before=None, limit=3)
        assert [n.id for n in page] == ["n0005", "n0004", "n0003"]
        assert page[1].actor is None and page[2].actor == "bob" and page[2].comment_id == "c0003"
        older = await tx.notifications.page(
            alice.id, before=(page[-1].created_at, page[-1].id), limit=3
        )
        assert [n.id for n in older] == ["n0002", "n0001"]
        assert older[1] == _notice(1, alice.id, NotificationKind.FOLLOW, actor="bob")
        since = await tx.notifications.since(alice.id, (older[0].created_at, older[0].id), 2)
        assert [n.id for n in since] == ["n0003", "n0004"]
        assert await tx.notifications.unread_count(alice.id, at_most=100) == 5
        assert await tx.notifications.unread_count(alice.id, at_most=2) == 2
        assert await tx.notifications.page(bob.id, before=None, limit=10) == []
    async with metadata.write() as tx:
        await tx.notifications.mark_read(alice.id, (older[0].created_at, older[0].id), T0)
        await tx.images.update_details(_image(bob, 3), {"visibility": Visibility.PRIVATE.value})
        await tx.images.mark_deleted("img0001", T0)
    async with metadata.read() as tx:
        shown = await tx.notifications.page(alice.id, before=None, limit=10)
        assert [(n.id, n.read) for n in shown] == [
            ("n0004", False),
            ("n0003", False),
            ("n0001", True),
        ]
        assert await tx.notifications.unread_count(alice.id, at_most=100) == 2
    async with metadata.write() as tx:
        await tx.comments.remove("c0003")  # its notification goes with it
        await tx.notifications.withdraw(NotificationKind.FOLLOW, bob.id, recipient_id=alice.id)
        await tx.notifications.mark_read(alice.id, None, T0)
    async with metadata.read() as tx:
        shown = await tx.notifications.page(alice.id, before=None, limit=10)
        assert [(n.id, n.read) for n in shown] == [("n0004", True)]
        assert await tx.notifications.unread_count(alice.id, at_most=100) == 0
    async with metadata.write() as tx:
        await tx.notifications.add(_notice(9, bob.id, NotificationKind.FOLLOW), alice.id)
        await tx.notifications.forget_user(alice.id)
    async with metadata.read() as tx:
        assert await tx.notifications.page(alice.id, before=None, limit=10) == []
        assert await tx.notifications.page(bob.id, before=None, limit=10) == []
