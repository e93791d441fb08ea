"""Moderation: reports by anyone signed in; the admins' queue, actions and audit log."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query, Response, status
from pydantic import BaseModel, Field

from shutterbox.domain.errors import NotFound
from shutterbox.domain.moderation import (
    MAX_NOTE_CHARS,
    MAX_REASON_CHARS,
    AuditEntry,
    Report,
    ReportReason,
    ReportStatus,
    Resolution,
    SubjectKind,
)
from shutterbox.entrypoints.api.deps import AdminUser, CurrentUser, ServicesDep
from shutterbox.entrypoints.api.routers.feed import Cursor, Limit
from shutterbox.entrypoints.api.schemas import ErrorBody, Timestamp
from shutterbox.entrypoints.http.routing import Router
from shutterbox.services.images import lookup
from shutterbox.services.moderation import actions, reports

router = Router(prefix="/api/v1", tags=["moderation"])


class ReportCreate(BaseModel):
    subject: SubjectKind = Field(description="What is reported: an image, a user or a comment.")
    id: str = Field(
        min_length=1, max_length=64, description="The image's id, the username, the comment's id."
    )
    reason: ReportReason = Field(description=", ".join(r.value for r in ReportReason))
    note: str = Field(default="", max_length=MAX_NOTE_CHARS, description="Anything to add.")


class ReportPublic(BaseModel):
    id: int
    subject: SubjectKind
    subject_id: str
    reporter: str
    reason: ReportReason
    note: str
    status: ReportStatus
    created_at: Timestamp
    reports_on_subject: int = Field(description="Open reports of the same subject.")
    resolution: Resolution | None = None
    resolution_note: str = ""
    resolved_by: str | None = None
    resolved_at: Timestamp | None = None


class ReportPage(BaseModel):
    items: list[ReportPublic]
    next_cursor: str | None = None


class Resolve(BaseModel):
    action: Resolution = Field(
        description="dismiss, hide (the image), remove (the image) or "
        "suspend (the image's owner, or the user)"
    )
    note: str = Field(default="", max_length=MAX_NOTE_CHARS)


class Reason(BaseModel):
    reason: str = Field(
        min_length=1, max_length=MAX_REASON_CHARS, description="Kept in the audit log."
    )


class AuditPublic(BaseModel):
    id: int
    actor: str
    action: str
    subject: SubjectKind
    subject_id: str
    reason: str
    created_at: Timestamp


class AuditPage(BaseModel):
    items: list[AuditPublic]
    next_cursor: str | None = None


class ImageModeration(BaseModel):
    hidden_by_moderators: bool
    reason: str | None = None
    hidden_at: Timestamp | None = None


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody} for code in codes}


def report_public(found: Report) -> ReportPublic:
    return ReportPublic(
        id=found.id,
        subject=found.subject_kind,
        subject_id=found.subject_id,
        reporter=found.reporter_name,
        reason=found.reason,
        note=found.note,
        status=found.status,
        created_at=found.created_at,
        reports_on_subject=found.reports_on_subject,
        resolution=found.resolution,
        resolution_note=found.resolution_note,
        resolved_by=found.resolved_by,
        resolved_at=found.resolved_at,
    )


def audit_public(entry: AuditEntry) -> AuditPublic:
    return AuditPublic(
        id=entry.id,
        actor=entry.actor_name,
        action=entry.action.value,
        subject=entry.subject_kind,
        subject_id=entry.subject_id,
        reason=entry.reason,
        created_at=entry.created_at,
    )


@router.post(
    "/reports",
    status_code=status.HTTP_201_CREATED,
    response_model=ReportPublic,
    responses=_errors(401, 404, 422, 429),
)
async def create_report(
    body: ReportCreate, services: ServicesDep, user: CurrentUser
) -> ReportPublic:
    """Report an image, a user or a comment you can see; reporting it again updates your
    reason and note."""
    found = await reports.report(services, user, body.subject, body.id, body.reason, body.note)
    return report_public(found)


@router.get("/admin/reports", response_model=ReportPage, responses=_errors(401, 403, 422))
async def read_reports(
    services: ServicesDep,
    admin: AdminUser,
    status_: Annotated[Literal["open", "resolved"], Query(alias="status")] = "open",
    limit: Limit = 20,
    cursor: Cursor = None,
) -> ReportPage:
    """The queue: open reports oldest first (resolved ones newest first), each with the
    count of open reports of its subject."""
    page = await reports.queue(services, admin, ReportStatus(status_), limit, cursor)
    return ReportPage(items=[report_public(r) for r in page.items], next_cursor=page.next_cursor)


@router.post(
    "/admin/reports/{report_id}/resolve",
    response_model=ReportPublic,
    responses=_errors(401, 403, 404, 409, 422),
)
async def resolve_report(
    report_id: int, body: Resolve, services: ServicesDep, admin: AdminUser
) -> ReportPublic:
    """Act on the report's subject and close every open report of it."""
    return report_public(await reports.resolve(services, admin, report_id, body.action, body.note))


@router.get("/admin/audit", response_model=AuditPage, responses=_errors(401, 403, 422))
async def read_audit(
    services: ServicesDep, admin: AdminUser, limit: Limit = 20, cursor: Cursor = None
) -> AuditPage:
    """Every admin action, newest first: who did what, to what, when and why."""
    page = await reports.audit(services, admin, limit, cursor)
    return AuditPage(items=[audit_public(e) for e in page.items], next_cursor=page.next_cursor)


_ACTION_ERRORS = _errors(401, 403, 404, 409, 422)


@router.post(
    "/admin/images/{image_id}/hide",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_ACTION_ERRORS,
)
async def hide_image(
    image_id: str, body: Reason, services: ServicesDep, admin: AdminUser
) -> Response:
    """Hide the image from everyone but its owner, at once and from the edges too."""
    await actions.hide_image(services, admin, image_id, body.reason)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/admin/images/{image_id}/unhide",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_ACTION_ERRORS,
)
async def unhide_image(
    image_id: str, body: Reason, services: ServicesDep, admin: AdminUser
) -> Response:
    """Give a hidden image its visibility back."""
    await actions.unhide_image(services, admin, image_id, body.reason)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/admin/users/{username}/suspend",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_ACTION_ERRORS,
)
async def suspend_user(
    username: str, body: Reason, services: ServicesDep, admin: AdminUser
) -> Response:
    """Suspend the account: no login, its tokens and sessions end, its public images are
    hidden from everyone else until it is unsuspended."""
    await actions.suspend_user(services, admin, username, body.reason)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/admin/users/{username}/unsuspend",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_ACTION_ERRORS,
)
async def unsuspend_user(
    username: str, body: Reason, services: ServicesDep, admin: AdminUser
) -> Response:
    """End the suspension."""
    await actions.unsuspend_user(services, admin, username, body.reason)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/images/{image_id}/moderation",
    response_model=ImageModeration,
    responses=_errors(401, 404),
)
async def read_image_moderation(
    image_id: str, services: ServicesDep, user: CurrentUser
) -> ImageModeration:
    """Whether moderators hid your image, and why (only its owner may ask)."""
    image = await lookup.find_image(services, image_id)
    if image is None or image.owner_id != user.id or image.deleted_at is not None:
        raise NotFound("no such image")
    hold = await actions.hold_for_owner(services, user, image)
    if hold is None:
        return ImageModeration(hidden_by_moderators=False)
    return ImageModeration(hidden_by_moderators=True, reason=hold.reason, hidden_at=hold.created_at)
