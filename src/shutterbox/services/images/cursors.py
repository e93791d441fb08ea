"""Feed cursors: a position (created time, id) as an opaque string, and back."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from shutterbox.domain.errors import InvalidInput
from shutterbox.domain.images import Image


def encode_position(at: datetime, image_id: str) -> str:
    raw = f"{at.isoformat()}|{image_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def encode_cursor(image: Image) -> str:
    return encode_position(image.created_at, image.id)


def decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, image_id = raw.split("|", 1)
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is not None:  # a cursor made by hand: times are kept in naive UTC
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    except (binascii.Error, ValueError, UnicodeDecodeError, OverflowError) as exc:
        raise InvalidInput("the cursor is not one this API handed out") from exc
    return moment, image_id
