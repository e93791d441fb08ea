"""Reports, image holds, suspensions and the moderation audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.dialect import upsert
from shutterbox.adapters.db.tables import (
    api_tokens,
    image_holds,
    images,
    moderation_audit,
    reports,
    suspensions,
    users,
)
from shutterbox.domain.images import Visibility
from shutterbox.domain.moderation import (
    AuditAction,
    AuditEntry,
    ImageHold,
    NewReport,
    Report,
    ReportReason,
    ReportStatus,
    Resolution,
    SubjectKind,
    Suspension,
)
from shutterbox.ports.moderation import ReportPosition

_OPEN = ReportStatus.OPEN.value
_same_subject = reports.alias("same_subject")
# open reports of a report's subject: one range of ix_reports_subject per row of a page
_ON_SUBJECT = (
    select(func.count())
    .where(
        _same_subject.c.subject_kind == reports.c.subject_kind,
        _same_subject.c.subject_id == reports.c.subject_id,
        _same_subject.c.status == _OPEN,
    )
    .scalar_subquery()
    .label("on_subject")
)


def _report(row: Any, on_subject: int = 1) -> Report:
    return Report(
        id=row.id,
        subject_kind=SubjectKind(row.subject_kind),
        subject_id=row.subject_id,
        reporter_name=row.reporter_name,
        reason=ReportReason(row.reason),
        note=row.note,
        status=ReportStatus(row.status),
        created_at=row.created_at,
        reports_on_subject=on_subject,
        resolution=Resolution(row.resolution) if row.resolution else None,
        resolution_note=row.resolution_note,
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
    )


class SqlReports:
    """``ReportRepository`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def save(self, report: NewReport) -> int:
        values = {
            "subject_kind": report.subject_kind.value,
            "subject_id": report.subject_id,
            "image_id": report.image_id,
            "user_id": report.user_id,
            "reporter_id": report.reporter_id,
            "reporter_name": _reporter_name(report.reporter_id),
            "reason": report.reason.value,
            "note": report.note,
            "status": _OPEN,
            "created_at": report.created_at,
        }
        statement = upsert(
            self.conn,
            reports,
            values,
            conflict=[reports.c.reporter_id, reports.c.subject_kind, reports.c.subject_id],
            update=lambda new: {
                "reason": new.reason,
                "note": new.note,
                "status": _OPEN,
                "resolution": None,
                "resolution_note": "",
                "resolved_by": None,
                "resolved_at": None,
            },
        ).returning(reports.c.id)
        return int((await self.conn.execute(statement)).scalar_one())

    async def get(self, report_id: int) -> Report | None:
        row = (await self.conn.execute(select(reports).where(reports.c.id == report_id))).first()
        return _report(row) if row else None

    async def queue(
        self, status: ReportStatus, *, after: ReportPosition | None, limit: int
    ) -> list[Report]:
        position = tuple_(reports.c.created_at, reports.c.id)
        query = (
            select(reports, _ON_SUBJECT)
            .outerjoin(images, images.c.id == reports.c.image_id)
            .where(
                reports.c.status == status.value,
                or_(reports.c.image_id.is_(None), images.c.deleted_at.is_(None)),
            )
        )
        if status == ReportStatus.OPEN:  # the oldest waits longest: first
            if after is not None:
                query = query.where(position > tuple_(*after))
            query = query.order_by(reports.c.created_at, reports.c.id)
        else:  # the latest decisions first
            if after is not None:
                query = query.where(position < tuple_(*after))
            query = query.order_by(reports.c.created_at.desc(), reports.c.id.desc())
        rows = await self.conn.execute(query.limit(limit))
        return [_report(row, row.on_subject if status == ReportStatus.OPEN else 0) for row in rows]

    async def resolve_subject(
        self,
        kind: SubjectKind,
        subject_id: str,
        *,
        resolution: Resolution,
        note: str,
        by: str,
        at: datetime,
    ) -> int:
        result = await self.conn.execute(
            update(reports)
            .where(
                reports.c.subject_kind == kind.value,
                reports.c.subject_id == subject_id,
                reports.c.status == _OPEN,
            )
            .values(
                status=ReportStatus.RESOLVED.value,
                resolution=resolution.value,
                resolution_note=note,
                resolved_by=by,
                resolved_at=at,
            )
        )
        return int(result.rowcount or 0)


def _reporter_name(user_id: int) -> Any:
    return select(users.c.username).where(users.c.id == user_id).scalar_subquery()


def _hold(row: Any) -> ImageHold:
    return ImageHold(
        image_id=row.image_id,
        owner_id=row.owner_id,
        visibility_before=row.visibility_before,
        reason=row.reason,
        by_suspension=bool(row.by_suspension),
        created_at=row.created_at,
    )


class SqlModeration:
    """``ModerationRepository`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def hold(self, image_id: str) -> ImageHold | None:
        query = select(image_holds).where(image_holds.c.image_id == image_id)
        row = (await self.conn.execute(query)).first()
        return _hold(row) if row else None

    async def holds_of_owner(self, owner_id: int) -> list[ImageHold]:
        query = select(image_holds).where(image_holds.c.owner_id == owner_id)
        return [_hold(row) for row in await self.conn.execute(query)]

    async def put_hold(self, hold: ImageHold) -> None:
        values = {
            "image_id": hold.image_id,
            "owner_id": hold.owner_id,
            "visibility_before": hold.visibility_before,
            "reason": hold.reason,
            "by_suspension": hold.by_suspension,
            "created_at": hold.created_at,
        }
        statement = upsert(
            self.conn,
            image_holds,
            values,
            conflict=[image_holds.c.image_id],
            update=lambda new: {"reason": new.reason, "by_suspension": new.by_suspension},
        )
        await self.conn.execute(statement)

    async def drop_hold(self, image_id: str) -> None:
        await self.conn.execute(delete(image_holds).where(image_holds.c.image_id == image_id))

    async def suspension(self, user_id: int) -> Suspension | None:
        query = select(suspensions).where(suspensions.c.user_id == user_id)
        row = (await self.conn.execute(query)).first()
        if row is None:
            return None
        return Suspension(row.user_id, row.reason, row.suspended_by, row.created_at)

    async def suspend(self, suspension: Suspension) -> None:
        values = {
            "user_id": suspension.user_id,
            "reason": suspension.reason,
            "suspended_by": suspension.suspended_by,
            "created_at": suspension.created_at,
        }
        await self.conn.execute(
            upsert(
                self.conn,
                suspensions,
                values,
                conflict=[suspensions.c.user_id],
                update=lambda new: {"reason": new.reason, "suspended_by": new.suspended_by},
            )
        )
        await self.conn.execute(
            delete(api_tokens).where(api_tokens.c.user_id == suspension.user_id)
        )
        await self.conn.execute(
            update(image_holds)
            .where(image_holds.c.owner_id == suspension.user_id)
            .values(by_suspension=True)
        )

    async def hold_public_images(self, owner_id: int, at: datetime, limit: int) -> list[str]:
        unheld = (
            select(images.c.id)
            .where(
                images.c.owner_id == owner_id,
                images.c.visibility == Visibility.PUBLIC.value,
                images.c.deleted_at.is_(None),
                ~exists().where(image_holds.c.image_id == images.c.id),
            )
            .limit(limit)
        )
        ids = [str(image_id) for image_id in (await self.conn.execute(unheld)).scalars()]
        if ids:
            held = {
                "owner_id": owner_id,
                "visibility_before": Visibility.PUBLIC.value,
                "reason": None,
                "by_suspension": True,
                "created_at": at,
            }
            await self.conn.execute(
                image_holds.insert(), [{"image_id": image_id, **held} for image_id in ids]
            )
        return ids

    async def release_suspension_holds(self, owner_id: int, limit: int) -> list[ImageHold]:
        query = (
            select(image_holds)
            .where(
                image_holds.c.owner_id == owner_id,
                image_holds.c.by_suspension.is_(True),
                image_holds.c.reason.is_(None),
            )
            .limit(limit)
        )
        released = [_hold(row) for row in await self.conn.execute(query)]
        if released:
            ids = [hold.image_id for hold in released]
            await self.conn.execute(delete(image_holds).where(image_holds.c.image_id.in_(ids)))
        return released

    async def unsuspend(self, user_id: int) -> None:
        await self.conn.execute(delete(suspensions).where(suspensions.c.user_id == user_id))
        await self.conn.execute(
            update(image_holds)
            .where(image_holds.c.owner_id == user_id, image_holds.c.reason.is_not(None))
            .values(by_suspension=False)
        )

    async def record(
        self,
        actor_name: str,
        action: AuditAction,
        kind: SubjectKind,
        subject_id: str,
        reason: str,
        at: datetime,
    ) -> None:
        await self.conn.execute(
            moderation_audit.insert().values(
                actor_name=actor_name,
                action=action.value,
                subject_kind=kind.value,
                subject_id=subject_id,
                reason=reason,
                created_at=at,
            )
        )

    async def audit(self, *, before: ReportPosition | None, limit: int) -> list[AuditEntry]:
        query = select(moderation_audit)
        if before is not None:
            position = tuple_(moderation_audit.c.created_at, moderation_audit.c.id)
            query = query.where(position < tuple_(*before))
        query = query.order_by(
            moderation_audit.c.created_at.desc(), moderation_audit.c.id.desc()
        ).limit(limit)
        return [
            AuditEntry(
                id=row.id,
                actor_name=row.actor_name,
                action=AuditAction(row.action),
                subject_kind=SubjectKind(row.subject_kind),
                subject_id=row.subject_id,
                reason=row.reason,
                created_at=row.created_at,
            )
            for row in await self.conn.execute(query)
        ]
