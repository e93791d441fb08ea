"""Time in one place, so that rules about ages can be tested with a controlled clock."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC, the form every timestamp takes in the database."""
    return datetime.now(UTC).replace(tzinfo=None)
