"""Albums and share links in memory, answering as the SQL repositories do (the contract suite
runs both); rows whose album or image is gone disappear as the database's cascades make them."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from shutterbox.domain.albums import Album, Share, position_between
from shutterbox.domain.images import Image, Status, Visibility
from shutterbox.ports.albums import EntryPosition, Position


@dataclass
class AlbumState:
    albums: dict[str, Album] = field(default_factory=dict)
    entries: dict[str, dict[str, int]] = field(default_factory=dict)  # album → image → position
    shares: dict[str, Share] = field(default_factory=dict)


class FakeAlbums:
    def __init__(self, state: Any) -> None:
        self.s = state  # the fake's State: users, images, albums

    @property
    def a(self) -> AlbumState:
        return self.s.albums

    def _out(self, album: Album) -> Album:
        return replace(album, owner_username=self.s.users[album.owner_id].username)

    def _entries(self, album_id: str) -> dict[str, int]:
        entries = self.a.entries.setdefault(album_id, {})
        for image_id in [i for i in entries if i not in self.s.images]:
            del entries[image_id]  # the image was removed for good
        return entries

    async def create(self, album: Album) -> None:
        self.a.albums[album.id] = album

    async def get(self, album_id: str) -> Album | None:
        album = self.a.albums.get(album_id)
        return self._out(album) if album is not None else None

    async def update(self, album_id: str, values: Mapping[str, Any]) -> None:
        album = self.a.albums.get(album_id)
        if album is not None:
            self.a.albums[album_id] = replace(album, **values)

    async def remove(self, album_id: str) -> None:
        self.a.albums.pop(album_id, None)
        self.a.entries.pop(album_id, None)
        for share in [s for s in self.a.shares.values() if s.album_id == album_id]:
            del self.a.shares[share.id]

    async def forget_owner(self, owner_id: int) -> None:
        for album in [a for a in self.a.albums.values() if a.owner_id == owner_id]:
            await self.remove(album.id)

    async def of_owner(
        self, owner_id: int, *, include_private: bool, limit: int, cursor: Position | None
    ) -> list[Album]:
        found = [
            a
            for a in self.a.albums.values()
            if a.owner_id == owner_id
            and (include_private or a.visibility == Visibility.PUBLIC)
            and (cursor is None or (a.created_at, a.id) < cursor)
        ]
        found.sort(key=lambda a: (a.created_at, a.id), reverse=True)
        return [self._out(a) for a in found[:limit]]

    async def add_image(self, album_id: str, image_id: str, added_at: datetime) -> bool:
        entries = self._entries(album_id)
        if image_id in entries:
            return False
        entries[image_id] = position_between(max(entries.values(), default=None), None) or 0
        return True

    async def remove_image(self, album_id: str, image_id: str) -> bool:
        return self._entries(album_id).pop(image_id, None) is not None

    async def has_image(self, album_id: str, image_id: str) -> bool:
        image = self.s.images.get(image_id)
        in_album = image_id in self._entries(album_id)
        return in_album and image is not None and image.deleted_at is None

    async def positions(self, album_id: str) -> list[tuple[str, int]]:
        return sorted(self._entries(album_id).items(), key=lambda e: (e[1], e[0]))

    async def set_positions(self, album_id: str, positions: Sequence[tuple[str, int]]) -> None:
        entries = self._entries(album_id)
        for image_id, position in positions:
            if image_id in entries:
                entries[image_id] = position

    async def images(
        self,
        album_id: str,
        *,
        include_private: bool,
        ready_only: bool,
        limit: int,
        cursor: EntryPosition | None,
    ) -> list[tuple[int, Image]]:
        shown: list[tuple[int, Image]] = []
        for image_id, position in await self.positions(album_id):
            image = self.s.images[image_id]
            if (
                image.deleted_at is None
                and (include_private or image.visibility == Visibility.PUBLIC)
                and (not ready_only or image.status == Status.READY)
                and (cursor is None or (position, image_id) > cursor)
            ):
                shown.append((position, self._image(image)))
        return shown[:limit]

    def _image(self, image: Image) -> Image:
        owner = self.s.users[image.owner_id]
        return replace(copy.deepcopy(image), owner_username=owner.username)

    async def covers(self, image_ids: Sequence[str]) -> list[Image]:
        found = [self.s.images.get(i) for i in dict.fromkeys(image_ids)]
        return [self._image(i) for i in found if i is not None and i.deleted_at is None]


class FakeShares:
    def __init__(self, state: Any) -> None:
        self.s = state

    def _live(self, share: Share | None) -> Share | None:
        """None for a link whose image or album was removed (the cascade)."""
        if share is None:
            return None
        if share.image_id is not None and share.image_id not in self.s.images:
            return None
        if share.album_id is not None and share.album_id not in self.s.albums.albums:
            return None
        return share

    async def create(self, share: Share) -> None:
        self.s.albums.shares[share.id] = share

    async def get(self, share_id: str) -> Share | None:
        return self._live(self.s.albums.shares.get(share_id))

    async def by_token(self, token_sha256: str) -> Share | None:
        for share in self.s.albums.shares.values():
            if share.token_sha256 == token_sha256:
                return self._live(share)
        return None

    async def of_owner(self, owner_id: int, *, limit: int, cursor: Position | None) -> list[Share]:
        found = [
            s
            for s in self.s.albums.shares.values()
            if s.owner_id == owner_id
            and s.revoked_at is None
            and self._live(s) is not None
            and (cursor is None or (s.created_at, s.id) < cursor)
        ]
        found.sort(key=lambda s: (s.created_at, s.id), reverse=True)
        return found[:limit]

    async def revoke(self, share_id: str, when: datetime) -> None:
        share = self.s.albums.shares.get(share_id)
        if share is not None and share.revoked_at is None:
            self.s.albums.shares[share_id] = replace(share, revoked_at=when)

    async def forget_owner(self, owner_id: int) -> None:
        for share in [s for s in self.s.albums.shares.values() if s.owner_id == owner_id]:
            del self.s.albums.shares[share.id]
