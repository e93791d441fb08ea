"""The variants of recently listed images, kept in the process so that a page of a list that
was seen a moment ago needs only its image rows.

An image's variant rows change only when it is processed (``save_processed`` replaces them
all and stamps a new ``processed_at``), so the variants as of one ``processed_at`` never
change: an entry is keyed by both, is never invalidated, and cannot go stale. A reprocessed
image has a new key and is read afresh; a deleted image is no longer in the lists' rows;
old entries fall out when the cache is full (oldest first). Every process, on every node,
may hold its own copy safely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shutterbox.domain.images import Variant

Key = tuple[str, datetime]


@dataclass(frozen=True, slots=True)
class ImageVariants:
    """An image's variants as ``Image`` holds them: the JPEGs by name, the other formats by
    format then name. Shared by every image read from the cache: never modified."""

    variants: dict[str, Variant]
    alternates: dict[str, dict[str, Variant]]


class VariantCache:
    def __init__(self, capacity: int = 20_000) -> None:
        self.capacity = capacity
        self._entries: dict[Key, ImageVariants] = {}

    def get(self, image_id: str, processed_at: datetime | None) -> ImageVariants | None:
        if processed_at is None:
            return None
        return self._entries.get((image_id, processed_at))

    def put(self, image_id: str, processed_at: datetime | None, found: ImageVariants) -> None:
        if processed_at is None or self.capacity <= 0:  # not processed: variants may yet come
            return
        entries = self._entries
        if len(entries) >= self.capacity:
            del entries[next(iter(entries))]  # the oldest entry
        entries[(image_id, processed_at)] = found

    def __len__(self) -> int:
        return len(self._entries)
