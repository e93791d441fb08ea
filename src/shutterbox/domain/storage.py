"""Storage classes, as object stores name them, and which of them need a restore to be read."""

from __future__ import annotations

from enum import StrEnum


class StorageClass(StrEnum):
    STANDARD = "STANDARD"
    STANDARD_IA = "STANDARD_IA"
    GLACIER_IR = "GLACIER_IR"
    GLACIER = "GLACIER"
    DEEP_ARCHIVE = "DEEP_ARCHIVE"

    @property
    def is_archive(self) -> bool:
        """Objects in this class cannot be read until a restore has made a temporary copy."""
        return self in (StorageClass.GLACIER, StorageClass.DEEP_ARCHIVE)


def parse_storage_class(value: str) -> StorageClass:
    try:
        return StorageClass(value.strip().upper())
    except ValueError:
        names = ", ".join(c.value for c in StorageClass)
        raise ValueError(f"unknown storage class {value!r}: use one of {names}") from None
