"""Time in one place, so that rules about ages can be tested with a controlled clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def utcnow() -> datetime:
    """Naive UTC, the form every timestamp takes in the database."""
    return datetime.now(UTC).replace(tzinfo=None) + _offset


@contextmanager
def travel(by: timedelta) -> Iterator[None]:
    """Move this process's clock forward by ``by`` (for tests of age-based rules)."""
    global _offset
    previous = _offset
    _offset = previous + by
    try:
        yield
    finally:
        _offset = previous
