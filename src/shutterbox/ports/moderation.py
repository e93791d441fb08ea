"""The moderation port: reports, the admins' actions and their audit log, blocks between
people. Attributes of the metadata port's ``Transaction`` (``reports``, ``moderation``,
``blocks``); the SQL adapter is ``shutterbox.adapters.db.repositories.moderation`` and
``blocks``."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

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

ReportPosition = tuple[datetime, int]  # keyset pagination: (created time, id)


class ReportRepository(Protocol):
    async def save(self, report: NewReport) -> int:
        """Record the report, or update the reason and note of the reporter's earlier report
        of the same subject (opening it again); its id."""
        ...

    async def get(self, report_id: int) -> Report | None: ...
    async def queue(
        self, status: ReportStatus, *, after: ReportPosition | None, limit: int
    ) -> list[Report]:
        """Open reports oldest first (resolved ones newest first), strictly after ``after``,
        each with the count of open reports of its subject; reports of trashed images are
        left out."""
        ...

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
        """Resolve every open report of the subject; how many."""
        ...


class ModerationRepository(Protocol):
    async def hold(self, image_id: str) -> ImageHold | None: ...
    async def holds_of_owner(self, owner_id: int) -> list[ImageHold]: ...
    async def put_hold(self, hold: ImageHold) -> None:
        """Insert the hold, or replace the image's one."""
        ...

    async def drop_hold(self, image_id: str) -> None: ...
    async def suspension(self, user_id: int) -> Suspension | None: ...
    async def suspend(self, suspension: Suspension) -> None:
        """Record the suspension, remove every token (session) of the user, and make the
        holds already on their images the suspension's too."""
        ...

    async def hold_public_images(self, owner_id: int, at: datetime, limit: int) -> list[str]:
        """Hold, for the owner's suspension, up to ``limit`` of their undeleted public images
        that no hold is on yet (to be given back as public); their ids. Making them private
        is the caller's part, in the same transaction."""
        ...

    async def release_suspension_holds(self, owner_id: int, limit: int) -> list[ImageHold]:
        """Remove up to ``limit`` of the owner's holds that are the suspension's alone (no
        moderator hid the image); the holds removed, whose images get their
        ``visibility_before`` back from the caller."""
        ...

    async def unsuspend(self, user_id: int) -> None:
        """End the suspension; the moderators' holds on the user's images stay, as theirs
        alone (release the suspension's own holds first)."""
        ...

    async def record(
        self,
        actor_name: str,
        action: AuditAction,
        kind: SubjectKind,
        subject_id: str,
        reason: str,
        at: datetime,
    ) -> None: ...
    async def audit(self, *, before: ReportPosition | None, limit: int) -> list[AuditEntry]:
        """The audit log newest first, strictly before ``before``."""
        ...


class BlockRepository(Protocol):
    async def add(self, blocker_id: int, blocked_id: int, created_at: datetime) -> None:
        """Blocking again changes nothing."""
        ...

    async def remove(self, blocker_id: int, blocked_id: int) -> None: ...
    async def has_blocked(self, blocker_id: int, blocked_id: int) -> bool: ...
    async def between(self, first_id: int, second_id: int) -> bool:
        """Whether either has blocked the other."""
        ...

    async def hidden_from(self, user_id: int) -> set[int]:
        """Everyone the user blocked or was blocked by."""
        ...

    async def blocked_names(self, blocker_id: int, *, after: str | None, limit: int) -> list[str]:
        """Usernames the user blocked, by name, after ``after``."""
        ...
