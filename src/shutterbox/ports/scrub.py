"""The scrub's view of the metadata: every image with the blobs its rows name, and which of
a batch of stored keys some row still names. Read-only; the SQL adapter is
``shutterbox.adapters.db.repositories.scrub``, reached through ``Metadata.scrub_queries()``."""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shutterbox.domain.images import Image, Variant


@dataclass(frozen=True)
class ImageBlobs:
    """An image row and all its variant rows (every name and format, in key order): the
    blobs the rows say exist."""

    image: Image
    variants: list[Variant]


class KeyLookup(Protocol):
    """Which rows name which keys. ``kept_after``: a direct upload still wants its bytes if it
    is not completed and expires after this moment."""

    async def original_keys(self, image_ids: Collection[str]) -> dict[str, str]:
        """The original's key of each of these images that exists, by image id."""

    async def open_upload_keys(
        self, upload_ids: Collection[str], kept_after: datetime
    ) -> dict[str, str]:
        """The key of each of these direct uploads that is still open, by upload id."""

    async def named_keys(self, keys: Collection[str], kept_after: datetime) -> set[str]:
        """Those of ``keys`` that an image's original, a variant or an open upload names."""


class ScrubQueries(Protocol):
    async def count_images(self) -> int: ...

    async def images_after(self, after: str, limit: int) -> list[ImageBlobs]:
        """Up to ``limit`` images whose id sorts after ``after``, by id."""

    async def image(self, image_id: str) -> ImageBlobs | None:
        """One image read afresh, or None if it no longer exists."""

    def key_lookup(self) -> AbstractAsyncContextManager[KeyLookup]:
        """Lookups of stored keys against the rows, all from one read of the database."""
