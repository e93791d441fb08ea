"""The grace period: whatever was written more recently than it may belong to work in
progress, so it is never reported or removed as left over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shutterbox.clock import utcnow


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def cutoff(grace: timedelta) -> datetime:
    """Blobs last modified before this are older than the grace period."""
    return utcnow().replace(tzinfo=UTC) - grace
