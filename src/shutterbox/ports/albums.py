"""The repositories of albums and share links (attributes ``albums`` and ``shares`` of a
``Transaction``). The SQL adapters are ``shutterbox.adapters.db.repositories.albums`` and
``shares``; the in-memory ones for tests are in ``tests/support/fakes/albums.py``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from shutterbox.domain.albums import Album, Share
from shutterbox.domain.images import Image

Position = tuple[datetime, str]  # keyset pagination of lists: (created time, id)
EntryPosition = tuple[int, str]  # keyset pagination of an album: (position, image id)


class AlbumRepository(Protocol):
    async def create(self, album: Album) -> None: ...
    async def get(self, album_id: str) -> Album | None: ...
    async def update(self, album_id: str, values: Mapping[str, Any]) -> None:
        """Change some of title, description, visibility, cover_image_id, updated_at."""
        ...

    async def remove(self, album_id: str) -> None:
        """The album, its entries and its share links; never an image."""
        ...

    async def forget_owner(self, owner_id: int) -> None:
        """Every album of the user (an account being closed)."""
        ...

    async def of_owner(
        self, owner_id: int, *, include_private: bool, limit: int, cursor: Position | None
    ) -> list[Album]:
        """The owner's albums, newest first (created time, then id), after ``cursor``."""
        ...

    async def add_image(self, album_id: str, image_id: str, added_at: datetime) -> bool:
        """Append the image (False, and no change, when it is in the album already)."""
        ...

    async def remove_image(self, album_id: str, image_id: str) -> bool: ...
    async def has_image(self, album_id: str, image_id: str) -> bool:
        """Whether the album holds the image and the image is not deleted."""
        ...

    async def positions(self, album_id: str) -> list[tuple[str, int]]:
        """Every entry (image id, position) in order, deleted images too."""
        ...

    async def set_positions(self, album_id: str, positions: Sequence[tuple[str, int]]) -> None:
        """Give each listed image its position."""
        ...

    async def images(
        self,
        album_id: str,
        *,
        include_private: bool,
        ready_only: bool,
        limit: int,
        cursor: EntryPosition | None,
    ) -> list[tuple[int, Image]]:
        """The album's undeleted images in order, each with its position, after ``cursor``:
        private ones only when ``include_private``, ready ones only when ``ready_only``."""
        ...

    async def covers(self, image_ids: Sequence[str]) -> list[Image]:
        """The undeleted images of ``image_ids`` (in one query), for albums' covers."""
        ...


class ShareRepository(Protocol):
    async def create(self, share: Share) -> None: ...
    async def get(self, share_id: str) -> Share | None: ...
    async def by_token(self, token_sha256: str) -> Share | None: ...
    async def of_owner(self, owner_id: int, *, limit: int, cursor: Position | None) -> list[Share]:
        """The owner's links not revoked, newest first, after ``cursor``."""
        ...

    async def revoke(self, share_id: str, when: datetime) -> None: ...
    async def forget_owner(self, owner_id: int) -> None:
        """Every link of the user (an account being closed)."""
        ...
