"""The cursors of the moderation lists: a row's (created time, id), opaque to clients."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from shutterbox.domain.errors import InvalidInput
from shutterbox.ports.moderation import ReportPosition


def encode(at: datetime, row_id: int) -> str:
    raw = f"{at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None) -> ReportPosition | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, row_id = raw.split("|", 1)
        moment = datetime.fromisoformat(at)
        position = int(row_id)
    except (binascii.Error, ValueError, UnicodeDecodeError, OverflowError) as exc:
        raise InvalidInput("the cursor is not one this API handed out") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment, position
