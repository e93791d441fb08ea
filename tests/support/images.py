"""Domain objects for unit tests, with the fields a test does not care about filled in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shutterbox.domain.images import Image, Status, Visibility


def make_image(**changes: Any) -> Image:
    """A ready, public JPEG image of alice's; ``changes`` set other field values."""
    base = Image(
        id="x",
        owner_id=1,
        owner_username="alice",
        status=Status.READY,
        visibility=Visibility.PUBLIC,
        created_at=datetime(2024, 1, 1),
        original_key="k",
        original_media_type="image/jpeg",
        original_bytes=1,
        original_sha256="0" * 64,
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base
