"""Rows of the metadata tables turned into domain objects: the one mapping every query uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from shutterbox.adapters.db.tables import images, users, variants
from shutterbox.adapters.db.variant_cache import ImageVariants
from shutterbox.domain.images import Image, Status, Variant, Visibility
from shutterbox.domain.storage import StorageClass
from shutterbox.domain.users import User

# The image columns in the order of ``Image``'s fields (``owner_username`` from the users
# table), so that a row becomes an ``Image`` by position, without a Python attribute look-up
# per column; tests/unit/test_rows.py checks the order against the dataclass.
_FIELDS = [field.name for field in fields(Image) if field.name not in ("variants", "alternates")]
image_columns = [
    users.c.username.label(name) if name == "owner_username" else images.c[name] for name in _FIELDS
]
_STATUS, _VISIBILITY, _TAGS, _CLASS = (
    _FIELDS.index(name) for name in ("status", "visibility", "tags", "original_storage_class")
)
_STATUSES = {s.value: s for s in Status}
_VISIBILITIES = {v.value: v for v in Visibility}
_CLASSES = {c.value: c for c in StorageClass}


def image_from_row(row: Any, found: ImageVariants) -> Image:
    """An image row (``image_columns``) with its variants."""
    values = list(row)
    values[_STATUS] = _STATUSES[values[_STATUS]]
    values[_VISIBILITY] = _VISIBILITIES[values[_VISIBILITY]]
    values[_TAGS] = list(values[_TAGS] or [])
    values[_CLASS] = _CLASSES[values[_CLASS]]
    image = Image(*values)
    image.variants = found.variants
    image.alternates = found.alternates
    return image


def image_variants(found: Sequence[Variant]) -> ImageVariants:
    """An image's variant rows (``variant_columns``, as ``Variant``) sorted out by format."""
    return ImageVariants({v.name: v for v in found if v.format == "jpeg"}, _alternates(found))


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
