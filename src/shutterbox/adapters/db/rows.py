"""Rows of the metadata tables turned into domain objects: the one mapping every query uses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shutterbox.adapters.db.tables import images, users, variants
from shutterbox.domain.images import Image, Status, Variant, Visibility
from shutterbox.domain.storage import StorageClass
from shutterbox.domain.users import User

image_columns = [*images.c, users.c.username.label("owner_username")]


_STATUSES = {s.value: s for s in Status}
_VISIBILITIES = {v.value: v for v in Visibility}
_CLASSES = {c.value: c for c in StorageClass}


def image_from_row(row: Any, found: Sequence[Variant]) -> Image:
    """An image row (``image_columns``) with its variants (rows of ``variant_columns``)."""
    return Image(
        id=row.id,
        owner_id=row.owner_id,
        owner_username=row.owner_username,
        status=_STATUSES[row.status],
        visibility=_VISIBILITIES[row.visibility],
        created_at=row.created_at,
        original_key=row.original_key,
        original_media_type=row.original_media_type,
        original_bytes=row.original_bytes,
        original_sha256=row.original_sha256,
        caption=row.caption,
        alt_text=row.alt_text,
        tags=list(row.tags or []),
        location_name=row.location_name,
        lat=row.lat,
        lon=row.lon,
        width=row.width,
        height=row.height,
        failure_reason=row.failure_reason,
        taken_at=row.taken_at,
        camera_make=row.camera_make,
        camera_model=row.camera_model,
        lens=row.lens,
        exposure_time=row.exposure_time,
        f_number=row.f_number,
        iso=row.iso,
        focal_length_mm=row.focal_length_mm,
        blurhash=row.blurhash,
        dominant_color=row.dominant_color,
        processed_at=row.processed_at,
        deleted_at=row.deleted_at,
        original_storage_class=_CLASSES[row.original_storage_class],
        original_restore_requested_at=row.original_restore_requested_at,
        original_restored_until=row.original_restored_until,
        variants={v.name: v for v in found if v.format == "jpeg"},
        alternates=_alternates(found),
    )


# The variant columns in ``Variant``'s field order, after the image id: a row becomes a
# ``Variant`` by position, without a Python attribute look-up per column.
variant_columns = [
    variants.c.image_id,
    variants.c.name,
    variants.c.key,
    variants.c.media_type,
    variants.c.width,
    variants.c.height,
    variants.c.bytes,
    variants.c.sha256,
    variants.c.format,
]


def variant_from_row(v: Any) -> Variant:
    return Variant(*tuple(v)[1:])


def _alternates(found: Sequence[Variant]) -> dict[str, dict[str, Variant]]:
    by_format: dict[str, dict[str, Variant]] = {}
    for v in found:
        if v.format != "jpeg":
            by_format.setdefault(v.format, {})[v.name] = v
    return by_format


def user_from_row(row: Any) -> User:
    return User(id=row.id, username=row.username, is_admin=row.is_admin, created_at=row.created_at)
