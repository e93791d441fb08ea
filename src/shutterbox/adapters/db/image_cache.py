"""Recently listed images, kept in the process by row version, so that a page of a list seen
a moment ago costs one narrow query (ids and versions) and a dictionary look-up per image.

Every update of an image row raises its ``version`` (a trigger, migration 0012), and an
image's variants change only with such an update (``save_processed``), so the image as of
one version never changes: an entry is keyed by both, is never invalidated, and cannot go
stale. A changed image has a new key and is read afresh; a deleted one no longer appears in
the lists' rows; old entries fall out when the cache is full (oldest first). Every process,
on every node, may hold its own copy safely. The images handed out are shared: never
modified (the lists only present them).
"""

from __future__ import annotations

from shutterbox.domain.images import Image


class ImageCache:
    def __init__(self, capacity: int = 20_000) -> None:
        self.capacity = capacity
        self._entries: dict[tuple[str, int], Image] = {}

    def get(self, image_id: str, version: int) -> Image | None:
        return self._entries.get((image_id, version))

    def put(self, image: Image) -> None:
        if image.version is None or self.capacity <= 0:
            return
        entries = self._entries
        if len(entries) >= self.capacity:
            del entries[next(iter(entries))]  # the oldest entry
        entries[(image.id, image.version)] = image

    def __len__(self) -> int:
        return len(self._entries)
