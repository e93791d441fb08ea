"""Moderation: reports of what people see, what admins do about them (hide an image, remove
it, suspend its owner), the audit log of those actions, and blocks between people. Plain
rules and records; no framework imports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

MAX_NOTE_CHARS = 1000
MAX_REASON_CHARS = 1000


class SubjectKind(StrEnum):
    IMAGE = "image"
    USER = "user"
    COMMENT = "comment"


class ReportReason(StrEnum):
    SPAM = "spam"
    HARASSMENT = "harassment"
    NUDITY = "nudity"
    VIOLENCE = "violence"
    COPYRIGHT = "copyright"
    OTHER = "other"


class ReportStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Resolution(StrEnum):
    DISMISS = "dismiss"  # nothing wrong: the reports are closed
    HIDE = "hide"  # the image is hidden from everyone but its owner
    REMOVE = "remove"  # the image is deleted, past the trash
    SUSPEND = "suspend"  # the owner (or the reported user) is suspended


class AuditAction(StrEnum):
    HIDE = "hide"
    UNHIDE = "unhide"
    REMOVE = "remove"
    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class Report:
    """One person's report of one subject (a second report of it updates this one)."""

    id: int
    subject_kind: SubjectKind
    subject_id: str
    reporter_name: str
    reason: ReportReason
    note: str
    status: ReportStatus
    created_at: datetime
    reports_on_subject: int = 1  # open reports of the same subject, this one included
    resolution: Resolution | None = None
    resolution_note: str = ""
    resolved_by: str | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class NewReport:
    subject_kind: SubjectKind
    subject_id: str
    reporter_id: int
    reason: ReportReason
    note: str
    created_at: datetime
    image_id: str | None = None  # for an image subject: its row goes with the image
    user_id: int | None = None  # for a user subject: its row goes with the account


@dataclass(frozen=True)
class AuditEntry:
    id: int
    actor_name: str
    action: AuditAction
    subject_kind: SubjectKind
    subject_id: str
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class ImageHold:
    """Why an image is hidden from everyone but its owner, and the visibility it had before
    (given back when the last hold ends): a moderator's hide (``reason`` set), its owner's
    suspension (``by_suspension``), or both."""

    image_id: str
    owner_id: int
    visibility_before: str
    reason: str | None
    by_suspension: bool
    created_at: datetime

    @property
    def hidden_by_moderators(self) -> bool:
        return self.reason is not None


@dataclass(frozen=True)
class Suspension:
    user_id: int
    reason: str
    suspended_by: str
    created_at: datetime


def check_note(note: str | None, limit: int = MAX_NOTE_CHARS) -> str:
    text = (note or "").strip()
    if len(text) > limit:
        raise ValueError(f"the note must be at most {limit} characters, got {len(text)}")
    return text


def check_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValueError("give a reason: it is kept in the audit log")
    if len(text) > MAX_REASON_CHARS:
        raise ValueError(f"the reason must be at most {MAX_REASON_CHARS} characters")
    return text
