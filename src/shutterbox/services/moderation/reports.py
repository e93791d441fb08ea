"""Reports: a signed-in person reports an image, a person or a comment they can see, once
per subject (reporting it again changes the reason and the note), within the report rate.
Admins read the queue (open reports oldest first, each with the count of open reports of its
subject) and resolve a report with an action, which closes every open report of its subject.
Every action is in the audit log (``audit``)."""

from __future__ import annotations

from dataclasses import dataclass

from shutterbox.clock import utcnow
from shutterbox.domain.errors import Conflict, InvalidInput, NotFound
from shutterbox.domain.moderation import (
    AuditAction,
    AuditEntry,
    NewReport,
    Report,
    ReportReason,
    ReportStatus,
    Resolution,
    SubjectKind,
    check_note,
)
from shutterbox.domain.users import User
from shutterbox.ports.metadata import Transaction
from shutterbox.services.context import Services
from shutterbox.services.moderation import actions, cursors
from shutterbox.services.people import limits


@dataclass
class ReportPage:
    items: list[Report]
    next_cursor: str | None


@dataclass
class AuditPage:
    items: list[AuditEntry]
    next_cursor: str | None


async def resolve_comment_subject(tx: Transaction, comment_id: str, viewer: User) -> str | None:
    """The image a comment the viewer can see belongs to; None when there is no such comment
    or the viewer cannot see it (its image is not visible to them, or a block stands between
    them and the image's owner)."""
    comment = await tx.comments.get(comment_id)
    if comment is None:
        return None
    image = await tx.images.get(comment.image_id)
    if image is None or not image.visible_to(viewer.id):
        return None
    if viewer.id != image.owner_id and await tx.blocks.between(viewer.id, image.owner_id):
        return None
    return image.id


async def _subject(
    tx: Transaction, reporter: User, kind: SubjectKind, subject_id: str
) -> NewReport:
    """The report's subject as stored, once the reporter is known to see it (404 if not)."""
    now = utcnow()
    if kind == SubjectKind.IMAGE:
        image = await tx.images.get(subject_id)
        if (
            image is None
            or not image.visible_to(reporter.id)
            or await tx.blocks.between(reporter.id, image.owner_id)
        ):
            raise NotFound("no such image")
        if image.owner_id == reporter.id:
            raise InvalidInput("you cannot report your own image")
        return NewReport(
            kind, image.id, reporter.id, ReportReason.OTHER, "", now, image_id=image.id
        )
    if kind == SubjectKind.USER:
        user = await tx.users.by_name(subject_id.strip().lower())
        if user is None:
            raise NotFound(f"no user called {subject_id!r}")
        if user.id == reporter.id:
            raise InvalidInput("you cannot report yourself")
        return NewReport(
            kind, user.username, reporter.id, ReportReason.OTHER, "", now, user_id=user.id
        )
    image_id = await resolve_comment_subject(tx, subject_id, reporter)
    if image_id is None:
        raise NotFound("no such comment")
    return NewReport(kind, subject_id, reporter.id, ReportReason.OTHER, "", now, image_id=image_id)


async def report(
    services: Services,
    reporter: User,
    kind: SubjectKind,
    subject_id: str,
    reason: ReportReason,
    note: str | None,
) -> Report:
    try:
        text = check_note(note)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    await services.rate_limiter.hit(limits.REPORT, str(reporter.id), "too many reports")
    async with services.metadata.write() as tx:
        subject = await _subject(tx, reporter, kind, subject_id)
        new = NewReport(
            subject.subject_kind,
            subject.subject_id,
            reporter.id,
            reason,
            text,
            subject.created_at,
            image_id=subject.image_id,
            user_id=subject.user_id,
        )
        saved = await tx.reports.get(await tx.reports.save(new))
    assert saved is not None
    return saved


async def queue(
    services: Services, admin: User, status: ReportStatus, limit: int, cursor: str | None
) -> ReportPage:
    actions.check_admin(admin)
    after = cursors.decode(cursor)
    async with services.metadata.read() as tx:
        found = await tx.reports.queue(status, after=after, limit=limit + 1)
    more = len(found) > limit
    found = found[:limit]
    last = found[-1] if more and found else None
    return ReportPage(found, cursors.encode(last.created_at, last.id) if last else None)


async def resolve(
    services: Services, admin: User, report_id: int, action: Resolution, note: str | None
) -> Report:
    """Act on the report's subject and close every open report of it."""
    actions.check_admin(admin)
    try:
        text = check_note(note)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    async with services.metadata.read() as tx:
        found = await tx.reports.get(report_id)
        owner = None
        if found is not None and found.subject_kind == SubjectKind.IMAGE:
            image = await tx.images.get(found.subject_id)
            owner = image.owner_username if image else None
    if found is None:
        raise NotFound("no such report")
    if found.status == ReportStatus.RESOLVED:
        raise Conflict("the report is already resolved")
    why = text or f"reported for {found.reason.value}"
    kind, subject = found.subject_kind, found.subject_id
    if action != Resolution.DISMISS and kind == SubjectKind.COMMENT:
        raise InvalidInput("a comment's report can only be dismissed for now")
    if action in (Resolution.HIDE, Resolution.REMOVE) and kind != SubjectKind.IMAGE:
        raise InvalidInput(f"{action.value} acts on images: suspend the user instead")
    if action == Resolution.HIDE:
        await actions.hide_image(services, admin, subject, why)
    elif action == Resolution.REMOVE:
        await actions.remove_image(services, admin, subject, why)
    elif action == Resolution.SUSPEND:
        username = subject if kind == SubjectKind.USER else owner
        if username is None:
            raise NotFound("no such image")
        await actions.suspend_user(services, admin, username, why)
    now = utcnow()
    async with services.metadata.write() as tx:
        await tx.reports.resolve_subject(
            kind, subject, resolution=action, note=text, by=admin.username, at=now
        )
        await tx.moderation.record(
            admin.username, AuditAction.RESOLVE, kind, subject, f"{action.value}: {why}", now
        )
        resolved = await tx.reports.get(report_id)
    if resolved is None:  # the removed image took its reports with it
        return Report(**{**found.__dict__, "status": ReportStatus.RESOLVED, "resolution": action})
    return resolved


async def audit(services: Services, admin: User, limit: int, cursor: str | None) -> AuditPage:
    actions.check_admin(admin)
    before = cursors.decode(cursor)
    async with services.metadata.read() as tx:
        found = await tx.moderation.audit(before=before, limit=limit + 1)
    more = len(found) > limit
    found = found[:limit]
    last = found[-1] if more and found else None
    return AuditPage(found, cursors.encode(last.created_at, last.id) if last else None)
