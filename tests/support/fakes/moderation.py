"""The moderation port in memory (``tests/contract/test_moderation.py`` holds it to the SQL
adapter's answers)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from shutterbox.domain.images import Visibility
from shutterbox.domain.moderation import (
    AuditAction,
    AuditEntry,
    ImageHold,
    NewReport,
    Report,
    ReportStatus,
    Resolution,
    SubjectKind,
    Suspension,
)
from shutterbox.ports.moderation import ReportPosition

if TYPE_CHECKING:
    from tests.support.fakes.metadata import State


@dataclass
class _StoredReport:
    report: Report
    reporter_id: int
    image_id: str | None
    user_id: int | None


@dataclass
class ModerationState:
    reports: dict[int, _StoredReport] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    suspensions: dict[int, Suspension] = field(default_factory=dict)
    holds: dict[str, ImageHold] = field(default_factory=dict)
    blocks: dict[tuple[int, int], tuple[str, datetime]] = field(default_factory=dict)

    def forget_missing(self, state: State) -> None:
        """What the database's foreign keys remove with an image or a user row."""
        users, images = state.users, state.images
        self.reports = {
            key: r
            for key, r in self.reports.items()
            if r.reporter_id in users
            and (r.image_id is None or r.image_id in images)
            and (r.user_id is None or r.user_id in users)
        }
        self.suspensions = {k: v for k, v in self.suspensions.items() if k in users}
        self.holds = {k: v for k, v in self.holds.items() if k in images}
        self.blocks = {k: v for k, v in self.blocks.items() if k[0] in users and k[1] in users}


class FakeReports:
    def __init__(self, state: State) -> None:
        self.s = state
        self.m = state.moderation

    async def save(self, report: NewReport) -> int:
        self.m.forget_missing(self.s)
        for stored in self.m.reports.values():
            r = stored.report
            if (stored.reporter_id, r.subject_kind, r.subject_id) == (
                report.reporter_id,
                report.subject_kind,
                report.subject_id,
            ):
                stored.report = replace(
                    r,
                    reason=report.reason,
                    note=report.note,
                    status=ReportStatus.OPEN,
                    resolution=None,
                    resolution_note="",
                    resolved_by=None,
                    resolved_at=None,
                )
                return r.id
        report_id = max(self.m.reports, default=0) + 1
        self.m.reports[report_id] = _StoredReport(
            Report(
                id=report_id,
                subject_kind=report.subject_kind,
                subject_id=report.subject_id,
                reporter_name=self.s.users[report.reporter_id].username,
                reason=report.reason,
                note=report.note,
                status=ReportStatus.OPEN,
                created_at=report.created_at,
            ),
            report.reporter_id,
            report.image_id,
            report.user_id,
        )
        return report_id

    async def get(self, report_id: int) -> Report | None:
        self.m.forget_missing(self.s)
        stored = self.m.reports.get(report_id)
        return stored.report if stored else None

    async def queue(
        self, status: ReportStatus, *, after: ReportPosition | None, limit: int
    ) -> list[Report]:
        self.m.forget_missing(self.s)
        shown = []
        for stored in self.m.reports.values():
            image = self.s.images.get(stored.image_id) if stored.image_id else None
            if stored.report.status != status or (image is not None and image.deleted_at):
                continue
            shown.append(stored.report)
        oldest_first = status == ReportStatus.OPEN
        shown.sort(key=lambda r: (r.created_at, r.id), reverse=not oldest_first)
        if after is not None:
            shown = [
                r
                for r in shown
                if ((r.created_at, r.id) > after if oldest_first else (r.created_at, r.id) < after)
            ]
        open_counts: dict[tuple[SubjectKind, str], int] = {}
        for stored in self.m.reports.values():
            if stored.report.status == ReportStatus.OPEN:
                key = (stored.report.subject_kind, stored.report.subject_id)
                open_counts[key] = open_counts.get(key, 0) + 1
        return [
            replace(r, reports_on_subject=open_counts.get((r.subject_kind, r.subject_id), 0))
            for r in shown[:limit]
        ]

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
        self.m.forget_missing(self.s)
        count = 0
        for stored in self.m.reports.values():
            r = stored.report
            if (r.subject_kind, r.subject_id, r.status) == (kind, subject_id, ReportStatus.OPEN):
                stored.report = replace(
                    r,
                    status=ReportStatus.RESOLVED,
                    resolution=resolution,
                    resolution_note=note,
                    resolved_by=by,
                    resolved_at=at,
                )
                count += 1
        return count


class FakeModeration:
    def __init__(self, state: State) -> None:
        self.s = state
        self.m = state.moderation

    async def hold(self, image_id: str) -> ImageHold | None:
        self.m.forget_missing(self.s)
        return self.m.holds.get(image_id)

    async def holds_of_owner(self, owner_id: int) -> list[ImageHold]:
        self.m.forget_missing(self.s)
        return [hold for hold in self.m.holds.values() if hold.owner_id == owner_id]

    async def put_hold(self, hold: ImageHold) -> None:
        earlier = self.m.holds.get(hold.image_id)
        if earlier is not None:
            hold = replace(earlier, reason=hold.reason, by_suspension=hold.by_suspension)
        self.m.holds[hold.image_id] = hold

    async def drop_hold(self, image_id: str) -> None:
        self.m.holds.pop(image_id, None)

    async def suspension(self, user_id: int) -> Suspension | None:
        self.m.forget_missing(self.s)
        return self.m.suspensions.get(user_id)

    async def suspend(self, suspension: Suspension) -> None:
        earlier = self.m.suspensions.get(suspension.user_id)
        if earlier is not None:
            suspension = replace(suspension, created_at=earlier.created_at)
        self.m.suspensions[suspension.user_id] = suspension
        for token, held in list(self.s.tokens.items()):
            if held.user_id == suspension.user_id:
                del self.s.tokens[token]

        for image_id, held in self.m.holds.items():
            if held.owner_id == suspension.user_id:
                self.m.holds[image_id] = replace(held, by_suspension=True)

    async def hold_public_images(self, owner_id: int, at: datetime, limit: int) -> list[str]:
        unheld = [
            image.id
            for image in self.s.images.values()
            if image.owner_id == owner_id
            and image.visibility == Visibility.PUBLIC
            and image.deleted_at is None
            and image.id not in self.m.holds
        ][:limit]
        for image_id in unheld:
            self.m.holds[image_id] = ImageHold(
                image_id, owner_id, Visibility.PUBLIC.value, None, True, at
            )
        return unheld

    async def release_suspension_holds(self, owner_id: int, limit: int) -> list[ImageHold]:
        self.m.forget_missing(self.s)
        released = [
            held
            for held in self.m.holds.values()
            if held.owner_id == owner_id and held.by_suspension and held.reason is None
        ][:limit]
        for held in released:
            del self.m.holds[held.image_id]
        return released

    async def unsuspend(self, user_id: int) -> None:
        self.m.suspensions.pop(user_id, None)
        for image_id, held in self.m.holds.items():
            if held.owner_id == user_id and held.reason is not None:
                self.m.holds[image_id] = replace(held, by_suspension=False)

    async def record(
        self,
        actor_name: str,
        action: AuditAction,
        kind: SubjectKind,
        subject_id: str,
        reason: str,
        at: datetime,
    ) -> None:
        entry_id = max((e.id for e in self.m.audit), default=0) + 1
        self.m.audit.append(AuditEntry(entry_id, actor_name, action, kind, subject_id, reason, at))

    async def audit(self, *, before: ReportPosition | None, limit: int) -> list[AuditEntry]:
        entries = sorted(self.m.audit, key=lambda e: (e.created_at, e.id), reverse=True)
        if before is not None:
            entries = [e for e in entries if (e.created_at, e.id) < before]
        return entries[:limit]


class FakeBlocks:
    def __init__(self, state: State) -> None:
        self.s = state
        self.m = state.moderation

    async def add(self, blocker_id: int, blocked_id: int, created_at: datetime) -> None:
        name = self.s.users[blocked_id].username
        self.m.blocks.setdefault((blocker_id, blocked_id), (name, created_at))

    async def remove(self, blocker_id: int, blocked_id: int) -> None:
        self.m.blocks.pop((blocker_id, blocked_id), None)

    async def has_blocked(self, blocker_id: int, blocked_id: int) -> bool:
        self.m.forget_missing(self.s)
        return (blocker_id, blocked_id) in self.m.blocks

    async def between(self, first_id: int, second_id: int) -> bool:
        return second_id in await self.hidden_from(first_id)

    async def hidden_from(self, user_id: int) -> set[int]:
        self.m.forget_missing(self.s)
        found = {blocked for blocker, blocked in self.m.blocks if blocker == user_id}
        return found | {blocker for blocker, blocked in self.m.blocks if blocked == user_id}

    async def blocked_names(self, blocker_id: int, *, after: str | None, limit: int) -> list[str]:
        self.m.forget_missing(self.s)
        names = sorted(
            name for (blocker, _), (name, _) in self.m.blocks.items() if blocker == blocker_id
        )
        return [name for name in names if after is None or name > after][:limit]
