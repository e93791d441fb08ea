"""The moderation repositories on SQLite, PostgreSQL and the in-memory fake: the same answers."""

from __future__ import annotations

from datetime import datetime, timedelta

from shutterbox.domain.images import Image, Status, Visibility
from shutterbox.domain.moderation import (
    AuditAction,
    ImageHold,
    NewReport,
    ReportReason,
    ReportStatus,
    Resolution,
    SubjectKind,
    Suspension,
)
from shutterbox.ports.metadata import Metadata
from tests.contract.test_metadata import metadata  # noqa: F401  (the fixture: every adapter)

T0 = datetime(2024, 5, 1, 12, 0, 0)


async def _people(metadata: Metadata) -> list[int]:  # noqa: F811
    async with metadata.write() as tx:
        return [
            (await tx.users.create(name, "x", is_admin=False, created_at=T0)).id
            for name in ("alice", "bob", "carol", "dave")
        ]


async def _image(metadata: Metadata, owner_id: int, image_id: str) -> None:  # noqa: F811
    async with metadata.write() as tx:
        await tx.images.insert(
            Image(
                id=image_id,
                owner_id=owner_id,
                owner_username="",
                status=Status.PROCESSING,
                visibility=Visibility.PUBLIC,
                created_at=T0,
                original_key=f"originals/{image_id}.jpg",
                original_media_type="image/jpeg",
                original_bytes=10,
                original_sha256="0" * 64,
            )
        )


def _report(
    kind: SubjectKind, subject: str, reporter: int, minutes: int, **more: object
) -> NewReport:
    return NewReport(
        kind,
        subject,
        reporter,
        ReportReason.SPAM,
        "",
        T0 + timedelta(minutes=minutes),
        **more,  # type: ignore[arg-type]
    )


async def test_reports_queue_resolve_and_go_with_their_image(metadata: Metadata) -> None:  # noqa: F811
    alice, bob, carol, dave = await _people(metadata)
    await _image(metadata, alice, "img1")
    async with metadata.write() as tx:
        first = await tx.reports.save(_report(SubjectKind.IMAGE, "img1", bob, 1, image_id="img1"))
        await tx.reports.save(_report(SubjectKind.USER, "alice", bob, 2, user_id=alice))
        await tx.reports.save(_report(SubjectKind.IMAGE, "img1", carol, 3, image_id="img1"))
        again = await tx.reports.save(
            NewReport(
                SubjectKind.IMAGE, "img1", bob, ReportReason.OTHER, "more", T0, image_id="img1"
            )
        )
        await tx.reports.save(_report(SubjectKind.COMMENT, "c9", dave, 4))
    assert again == first
    async with metadata.read() as tx:
        queue = await tx.reports.queue(ReportStatus.OPEN, after=None, limit=10)
        page = await tx.reports.queue(
            ReportStatus.OPEN, after=(queue[1].created_at, queue[1].id), limit=10
        )
    assert [(r.subject_id, r.reporter_name, r.reports_on_subject) for r in queue] == [
        ("img1", "bob", 2),
        ("alice", "bob", 1),
        ("img1", "carol", 2),
        ("c9", "dave", 1),
    ]
    assert (queue[0].reason, queue[0].note) == (ReportReason.OTHER, "more")
    assert [r.id for r in page] == [queue[2].id, queue[3].id]
    async with metadata.write() as tx:
        closed = await tx.reports.resolve_subject(
            SubjectKind.IMAGE, "img1", resolution=Resolution.HIDE, note="n", by="boss", at=T0
        )
    assert closed == 2
    async with metadata.read() as tx:
        still_open = await tx.reports.queue(ReportStatus.OPEN, after=None, limit=10)
        resolved = await tx.reports.queue(ReportStatus.RESOLVED, after=None, limit=10)
        one = await tx.reports.get(first)
    assert [r.subject_id for r in still_open] == ["alice", "c9"]
    assert [r.reporter_name for r in resolved] == ["carol", "bob"]  # newest first
    assert one is not None and (one.resolution, one.resolved_by) == (Resolution.HIDE, "boss")
    async with metadata.write() as tx:
        await tx.images.mark_deleted("img1", T0)
    async with metadata.read() as tx:
        assert await tx.reports.queue(ReportStatus.RESOLVED, after=None, limit=10) == []
    async with metadata.write() as tx:
        await tx.images.remove("img1")
    async with metadata.read() as tx:
        assert await tx.reports.get(first) is None


async def test_holds_suspensions_and_the_audit_log(metadata: Metadata) -> None:  # noqa: F811
    alice, bob, _carol, _dave = await _people(metadata)
    await _image(metadata, alice, "img1")
    async with metadata.write() as tx:
        await tx.users.add_token("t" * 64, alice, T0, T0 + timedelta(days=1))
        await tx.moderation.put_hold(ImageHold("img1", alice, "public", "spam", False, T0))
        await tx.moderation.put_hold(ImageHold("img1", alice, "private", None, True, T0))
        await tx.moderation.suspend(Suspension(alice, "spam", "boss", T0))
        for n, action in enumerate((AuditAction.HIDE, AuditAction.SUSPEND, AuditAction.UNHIDE)):
            await tx.moderation.record(
                "boss", action, SubjectKind.IMAGE, "img1", f"why {n}", T0 + timedelta(minutes=n)
            )
    async with metadata.read() as tx:
        hold = await tx.moderation.hold("img1")
        assert hold == ImageHold("img1", alice, "public", None, True, T0)  # before: kept
        assert [h.image_id for h in await tx.moderation.holds_of_owner(alice)] == ["img1"]
        assert await tx.moderation.holds_of_owner(bob) == []
        assert await tx.moderation.suspension(alice) == Suspension(alice, "spam", "boss", T0)
        assert await tx.users.by_token("t" * 64, T0) is None  # the suspension ended the token
        log = await tx.moderation.audit(before=None, limit=10)
        older = await tx.moderation.audit(before=(log[0].created_at, log[0].id), limit=1)
    assert [e.action for e in log] == [AuditAction.UNHIDE, AuditAction.SUSPEND, AuditAction.HIDE]
    assert [e.id for e in older] == [log[1].id]
    async with metadata.write() as tx:
        await tx.moderation.unsuspend(alice)
        await tx.moderation.drop_hold("img1")
    async with metadata.read() as tx:
        assert await tx.moderation.suspension(alice) is None
        assert await tx.moderation.hold("img1") is None


async def test_blocks_both_ways(metadata: Metadata) -> None:  # noqa: F811
    alice, bob, carol, dave = await _people(metadata)
    async with metadata.write() as tx:
        await tx.blocks.add(alice, dave, T0)
        await tx.blocks.add(alice, bob, T0)
        await tx.blocks.add(alice, bob, T0)  # again: no change
        await tx.blocks.add(carol, alice, T0)
    async with metadata.read() as tx:
        assert await tx.blocks.hidden_from(alice) == {bob, carol, dave}
        assert await tx.blocks.hidden_from(bob) == {alice}
        assert await tx.blocks.between(bob, alice) and await tx.blocks.between(alice, bob)
        assert not await tx.blocks.between(bob, carol)
        assert await tx.blocks.has_blocked(alice, bob) and not await tx.blocks.has_blocked(
            bob, alice
        )
        assert await tx.blocks.blocked_names(alice, after=None, limit=10) == ["bob", "dave"]
        assert await tx.blocks.blocked_names(alice, after="bob", limit=10) == ["dave"]
    async with metadata.write() as tx:
        await tx.blocks.remove(alice, bob)
    async with metadata.read() as tx:
        assert await tx.blocks.hidden_from(bob) == set()


async def test_a_suspension_holds_public_images_in_steps_and_gives_them_back(
    metadata: Metadata,  # noqa: F811
) -> None:
    alice, bob, _carol, _dave = await _people(metadata)
    for n in range(5):
        await _image(metadata, alice, f"pub{n}")
    await _image(metadata, alice, "private")
    await _image(metadata, alice, "hidden")
    await _image(metadata, alice, "trashed")
    await _image(metadata, bob, "bobs")
    async with metadata.write() as tx:
        private = await tx.images.get("private")
        assert private is not None
        await tx.images.update_details(private, {"visibility": "private"})
        await tx.images.mark_deleted("trashed", T0)
        await tx.moderation.put_hold(ImageHold("hidden", alice, "public", "spam", False, T0))
        await tx.images.set_visibility_of(["hidden"], Visibility.PRIVATE)
        await tx.moderation.suspend(Suspension(alice, "spam", "boss", T0))
    steps: list[list[str]] = []
    while not steps or len(steps[-1]) == 2:
        async with metadata.write() as tx:
            held = await tx.moderation.hold_public_images(alice, T0, 2)
            made_private = await tx.images.set_visibility_of(held, Visibility.PRIVATE)
        assert sorted(i.id for i in made_private) == sorted(held)
        assert all(i.visibility == Visibility.PRIVATE for i in made_private)
        steps.append(held)
    assert [len(step) for step in steps] == [2, 2, 1]
    assert sorted(i for step in steps for i in step) == [f"pub{n}" for n in range(5)]
    async with metadata.read() as tx:
        holds = {h.image_id: h for h in await tx.moderation.holds_of_owner(alice)}
        bobs = await tx.images.get("bobs")
    assert set(holds) == {*(f"pub{n}" for n in range(5)), "hidden"}
    assert holds["pub0"] == ImageHold("pub0", alice, "public", None, True, T0)
    assert holds["hidden"].by_suspension and holds["hidden"].reason == "spam"
    assert bobs is not None and bobs.visibility == Visibility.PUBLIC  # another owner's

    async with metadata.write() as tx:  # nothing left to hold; the trash and private stay
        assert await tx.moderation.hold_public_images(alice, T0, 2) == []
        assert await tx.images.set_visibility_of([], Visibility.PRIVATE) == []
        # already private, or in the trash: nothing changes
        assert await tx.images.set_visibility_of(["private", "trashed"], Visibility.PRIVATE) == []

    released: list[ImageHold] = []
    while not released or len(released) % 3 == 0:
        async with metadata.write() as tx:
            step = await tx.moderation.release_suspension_holds(alice, 3)
            shown = await tx.images.set_visibility_of([h.image_id for h in step], Visibility.PUBLIC)
        assert len(shown) == len(step)
        released += step
        if not step:
            break
    assert sorted(h.image_id for h in released) == [f"pub{n}" for n in range(5)]
    async with metadata.write() as tx:
        await tx.moderation.unsuspend(alice)
    async with metadata.read() as tx:
        remaining = await tx.moderation.holds_of_owner(alice)
        hidden = await tx.images.get("hidden")
        pub0 = await tx.images.get("pub0")
    # the moderators' hold stays, theirs alone; the suspension's went with their images back
    assert remaining == [ImageHold("hidden", alice, "public", "spam", False, T0)]
    assert hidden is not None and hidden.visibility == Visibility.PRIVATE
    assert pub0 is not None and pub0.visibility == Visibility.PUBLIC
