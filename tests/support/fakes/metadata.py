"""The metadata port in memory: dicts instead of tables, with the same answers as the SQL
adapter (``tests/contract/test_metadata.py`` runs both through one suite).

A write transaction works on the live state and puts back a copy taken when it began if its
block raises; write transactions run one at a time, as SQLite's do.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, TypeVar

from shutterbox.clock import utcnow
from shutterbox.domain.images import Image, Status, Variant, Visibility
from shutterbox.domain.storage import StorageClass
from shutterbox.domain.users import CLOSED_ACCOUNT_HASH, User
from shutterbox.ports.metadata import (
    AlreadyExists,
    BillRows,
    Credentials,
    ImageState,
    OriginalDue,
    Position,
    StoredOriginal,
    VariantFiles,
)
from tests.support.fakes.albums import AlbumState, FakeAlbums, FakeShares
from tests.support.fakes.moderation import (
    FakeBlocks,
    FakeModeration,
    FakeReports,
    ModerationState,
)
from tests.support.fakes.search import FakeSearch
from tests.support.fakes.social import SocialState, fake_social_repositories

T = TypeVar("T")


@dataclass
class _Token:
    user_id: int
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


@dataclass
class State:
    users: dict[int, User] = field(default_factory=dict)
    password_hashes: dict[int, str] = field(default_factory=dict)
    tokens: dict[str, _Token] = field(default_factory=dict)
    images: dict[str, Image] = field(default_factory=dict)
    follows: dict[tuple[int, int], datetime] = field(default_factory=dict)
    idempotency: dict[tuple[int, str], tuple[str, datetime]] = field(default_factory=dict)
    direct: dict[str, dict[str, Any]] = field(default_factory=dict)
    egress: dict[tuple[date, str], list[int]] = field(default_factory=dict)
    albums: AlbumState = field(default_factory=AlbumState)  # albums, their entries, shares
    social: SocialState = field(default_factory=SocialState)  # likes, comments, notifications
    moderation: ModerationState = field(default_factory=ModerationState)


def _state(image: Image) -> ImageState:
    return ImageState(
        image.id,
        image.status.value,
        image.failure_reason,
        image.processed_at,
        image.created_at,
        image.deleted_at,
    )


def _before(cursor: Position | None, at: datetime, ident: str) -> bool:
    return cursor is None or (at, ident) < cursor


class FakeImages:
    def __init__(self, state: State) -> None:
        self.s = state

    def _out(self, image: Image) -> Image:
        owner = self.s.users[image.owner_id]
        return replace(copy.deepcopy(image), owner_username=owner.username)

    async def get(self, image_id: str) -> Image | None:
        image = self.s.images.get(image_id)
        return self._out(image) if image is not None else None

    async def variant_files(self, image_id: str, name: str) -> VariantFiles | None:
        image = self.s.images.get(image_id)
        if image is None:
            return None
        formats = {v.format: v for v in image.all_variants() if v.name == name}
        return VariantFiles(
            image_id=image_id,
            owner_id=image.owner_id,
            visibility=image.visibility,
            deleted=image.deleted_at is not None,
            last_modified=image.processed_at or image.created_at,
            formats=formats,
        )

    async def find_duplicate(self, owner_id: int, sha256: str) -> Image | None:
        found = [
            i
            for i in self.s.images.values()
            if i.owner_id == owner_id and i.original_sha256 == sha256 and i.deleted_at is None
        ]
        return self._out(min(found, key=lambda i: i.created_at)) if found else None

    async def insert(self, image: Image) -> None:
        stored = copy.deepcopy(image)
        stored.variants, stored.alternates = {}, {}
        self.s.images[image.id] = stored

    async def save_processed(
        self, image_id: str, fields: Mapping[str, Any], variants: list[Variant]
    ) -> bool:
        image = self.s.images.get(image_id)
        if image is None or image.deleted_at is not None:
            return False
        for name, value in {"processed_at": utcnow(), **fields}.items():
            setattr(image, name, value)
        image.status, image.failure_reason = Status.READY, None
        image.variants, image.alternates = {}, {}
        for v in variants:
            if v.format == "jpeg":
                image.variants[v.name] = v
            else:
                image.alternates.setdefault(v.format, {})[v.name] = v
        return True

    async def mark_failed(self, image_id: str, reason: str, when: datetime) -> None:
        image = self.s.images.get(image_id)
        if image is not None and image.status != Status.READY:
            image.status, image.failure_reason = Status.FAILED, reason[:500]
            image.processed_at = when

    async def update_details(self, image: Image, values: Mapping[str, Any]) -> bool:
        stored = self.s.images.get(image.id)
        if stored is None or stored.deleted_at is not None:
            return False
        for name, value in values.items():
            setattr(stored, name, Visibility(value) if name == "visibility" else value)
        return True

    async def mark_processing_again(self, image_id: str) -> bool:
        image = self.s.images.get(image_id)
        if image is None or image.status != Status.FAILED or image.deleted_at is not None:
            return False
        image.status, image.failure_reason, image.processed_at = Status.PROCESSING, None, None
        return True

    async def mark_deleted(self, image_id: str, when: datetime) -> None:
        image = self.s.images.get(image_id)
        if image is not None and image.deleted_at is None:
            image.deleted_at = when

    async def remove(self, image_id: str) -> None:
        self.s.images.pop(image_id, None)

    async def mark_deleted_of_owner(self, owner_id: int, when: datetime) -> None:
        for image in self.s.images.values():
            if image.owner_id == owner_id and image.deleted_at is None:
                image.deleted_at = when

    async def set_visibility_of(
        self, image_ids: Sequence[str], visibility: Visibility
    ) -> list[Image]:
        changed = []
        for image_id in image_ids:
            stored = self.s.images.get(image_id)
            if stored is None or stored.deleted_at is not None or stored.visibility == visibility:
                continue
            stored.visibility = visibility
            changed.append(self._out(stored))
        return changed

    async def ids_of_owner(self, owner_id: int) -> list[str]:
        return [i.id for i in self.s.images.values() if i.owner_id == owner_id]

    async def restore_deleted(self, image_id: str, deleted_after: datetime) -> bool:
        image = self.s.images.get(image_id)
        if image is None or image.deleted_at is None or image.deleted_at <= deleted_after:
            return False
        image.deleted_at = None
        return True

    async def feed(
        self,
        *,
        limit: int,
        cursor: Position | None,
        owner_id: int | None = None,
        tag: str | None = None,
        include_private: bool = False,
        home_of: int | None = None,
        owner_name: str | None = None,
    ) -> list[Image]:
        followed = {b for (a, b) in self.s.follows if a == home_of}
        if owner_name is not None:
            named = [u.id for u in self.s.users.values() if u.username == owner_name]
            owner_id = named[0] if named else -1

        def shown(i: Image) -> bool:
            if i.status != Status.READY or i.deleted_at is not None:
                return False
            public = i.visibility == Visibility.PUBLIC
            if home_of is not None:
                if not (i.owner_id == home_of or (i.owner_id in followed and public)):
                    return False
            elif not include_private and not public:
                return False
            if owner_id is not None and i.owner_id != owner_id:
                return False
            if tag is not None and tag not in i.tags:
                return False
            return _before(cursor, i.created_at, i.id)

        found = sorted(
            filter(shown, self.s.images.values()), key=lambda i: (i.created_at, i.id), reverse=True
        )
        return [self._out(i) for i in found[:limit]]

    async def list_trash(
        self, owner_id: int, *, limit: int, cursor: Position | None
    ) -> list[Image]:
        found = [
            i
            for i in self.s.images.values()
            if i.owner_id == owner_id
            and i.deleted_at is not None
            and _before(cursor, i.deleted_at, i.id)
        ]
        found.sort(key=lambda i: (i.deleted_at, i.id), reverse=True)
        return [self._out(i) for i in found[:limit]]

    async def library_page(
        self, owner_id: int, *, after: Position | None, limit: int
    ) -> list[Image]:
        found = sorted(
            (
                i
                for i in self.s.images.values()
                if i.owner_id == owner_id
                and i.deleted_at is None
                and (after is None or (i.created_at, i.id) > after)
            ),
            key=lambda i: (i.created_at, i.id),
        )
        return [replace(self._out(i), variants={}, alternates={}) for i in found[:limit]]

    async def count_ready(self, owner_id: int, *, include_private: bool) -> int:
        return sum(
            1
            for i in self.s.images.values()
            if i.owner_id == owner_id
            and i.status == Status.READY
            and i.deleted_at is None
            and (include_private or i.visibility == Visibility.PUBLIC)
        )

    async def original_bytes(self, owner_id: int) -> int:
        return sum(i.original_bytes for i in self.s.images.values() if i.owner_id == owner_id)

    async def ready_since(self, moment: datetime) -> int:
        return sum(
            1
            for i in self.s.images.values()
            if i.status == Status.READY and i.processed_at is not None and i.processed_at >= moment
        )

    async def live_ids(
        self,
        ids: Sequence[str] | None,
        *,
        failed_only: bool,
        processed_before: datetime | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[str]:
        live = [i for i in self.s.images.values() if i.deleted_at is None]
        if after is not None:
            live = [i for i in live if i.id > after]
        if processed_before is not None:
            live = [i for i in live if i.processed_at is None or i.processed_at < processed_before]
        if failed_only:
            live = [i for i in live if i.status == Status.FAILED]
        elif ids is not None:
            live = [i for i in live if i.id in set(ids)]
        return sorted(i.id for i in live)[:limit]

    async def failed_since(self, moment: datetime, limit: int) -> tuple[int, list[ImageState]]:
        failed = [
            i
            for i in self.s.images.values()
            if i.deleted_at is None
            and i.status == Status.FAILED
            and i.processed_at is not None
            and i.processed_at >= moment
        ]
        failed.sort(key=lambda i: i.processed_at or moment, reverse=True)
        return len(failed), [_state(i) for i in failed[:limit]]

    async def states(self, ids: Sequence[str]) -> list[ImageState]:
        return [_state(self.s.images[i]) for i in dict.fromkeys(ids) if i in self.s.images]

    async def changing(
        self, owner_id: int, created_since: datetime, watched: Sequence[str]
    ) -> list[ImageState]:
        unsettled = (Status.PROCESSING, Status.FAILED)
        return [
            _state(i)
            for i in self.s.images.values()
            if (i.owner_id == owner_id and (i.created_at >= created_since or i.status in unsettled))
            or i.id in watched
        ]

    async def set_original_class(self, image_id: str, storage_class: StorageClass) -> None:
        if image_id in self.s.images:
            self.s.images[image_id].original_storage_class = storage_class

    async def set_original_restore(
        self, image_id: str, *, requested_at: datetime | None, restored_until: datetime | None
    ) -> None:
        image = self.s.images.get(image_id)
        if image is not None:
            image.original_restore_requested_at = requested_at
            image.original_restored_until = restored_until

    async def originals_due(
        self,
        *,
        created_before: datetime,
        classes: list[StorageClass],
        after: Position | None,
        limit: int,
    ) -> list[OriginalDue]:
        due = sorted(
            (
                i
                for i in self.s.images.values()
                if i.status == Status.READY
                and i.deleted_at is None
                and i.created_at <= created_before
                and i.original_storage_class in classes
                and (after is None or (i.created_at, i.id) > after)
            ),
            key=lambda i: (i.created_at, i.id),
        )
        return [
            OriginalDue(i.id, i.created_at, i.original_key, i.original_storage_class.value)
            for i in due[:limit]
        ]

    async def restores_ended(self, now: datetime, limit: int) -> list[StoredOriginal]:
        ended = [
            StoredOriginal(i.id, i.original_key)
            for i in self.s.images.values()
            if i.original_restored_until is not None and i.original_restored_until <= now
        ]
        return ended[:limit]

    async def trash_expired(self, deleted_before: datetime, limit: int) -> list[str]:
        return [
            i.id
            for i in self.s.images.values()
            if i.deleted_at is not None and i.deleted_at <= deleted_before
        ][:limit]

    async def failed_expired(self, created_before: datetime, limit: int) -> list[str]:
        return [
            i.id
            for i in self.s.images.values()
            if i.status == Status.FAILED and i.deleted_at is None and i.created_at <= created_before
        ][:limit]


class FakeUsers:
    def __init__(self, state: State) -> None:
        self.s = state

    async def create(
        self, username: str, password_hash: str, *, is_admin: bool, created_at: datetime
    ) -> User:
        if any(u.username == username for u in self.s.users.values()):
            raise AlreadyExists(f"the username {username!r} is taken")
        user = User(max(self.s.users, default=0) + 1, username, is_admin, created_at)
        self.s.users[user.id] = user
        self.s.password_hashes[user.id] = password_hash
        return user

    async def by_name(self, username: str) -> User | None:
        return next((u for u in self.s.users.values() if u.username == username), None)

    async def credentials(self, username: str) -> Credentials | None:
        user = await self.by_name(username)
        return Credentials(user.id, self.s.password_hashes[user.id]) if user else None

    async def add_token(
        self, token_sha256: str, user_id: int, created_at: datetime, expires_at: datetime
    ) -> None:
        if token_sha256 in self.s.tokens:
            raise AlreadyExists("token exists")
        self.s.tokens[token_sha256] = _Token(user_id, created_at, expires_at)

    async def by_token(self, token_sha256: str, now: datetime) -> User | None:
        token = self.s.tokens.get(token_sha256)
        if token is None or token.revoked_at is not None or token.expires_at <= now:
            return None
        return self.s.users.get(token.user_id)

    async def revoke_token(self, token_sha256: str, when: datetime) -> None:
        if token_sha256 in self.s.tokens:
            self.s.tokens[token_sha256].revoked_at = when

    async def close(self, user_id: int) -> None:
        self.s.password_hashes[user_id] = CLOSED_ACCOUNT_HASH
        for digest in [d for d, t in self.s.tokens.items() if t.user_id == user_id]:
            del self.s.tokens[digest]

    async def remove_closed(self, user_id: int) -> bool:
        if self.s.password_hashes.get(user_id) != CLOSED_ACCOUNT_HASH:
            return False
        if any(i.owner_id == user_id for i in self.s.images.values()):
            return False
        del self.s.users[user_id], self.s.password_hashes[user_id]
        for pair in [p for p in self.s.follows if user_id in p]:
            del self.s.follows[pair]
        return True


class FakeFollows:
    def __init__(self, state: State) -> None:
        self.s = state

    async def add(self, follower_id: int, followee_id: int, created_at: datetime) -> None:
        self.s.follows.setdefault((follower_id, followee_id), created_at)

    async def remove(self, follower_id: int, followee_id: int) -> None:
        self.s.follows.pop((follower_id, followee_id), None)

    async def forget(self, user_id: int) -> None:
        for pair in [p for p in self.s.follows if user_id in p]:
            del self.s.follows[pair]

    async def exists(self, follower_id: int, followee_id: int) -> bool:
        return (follower_id, followee_id) in self.s.follows

    async def count_followers(self, user_id: int) -> int:
        return sum(1 for (_, b) in self.s.follows if b == user_id)

    async def count_following(self, user_id: int) -> int:
        return sum(1 for (a, _) in self.s.follows if a == user_id)

    async def people(
        self, user_id: int, *, of_followers: bool, after: str | None, limit: int
    ) -> list[str]:
        if of_followers:
            ids = [a for (a, b) in self.s.follows if b == user_id]
        else:
            ids = [b for (a, b) in self.s.follows if a == user_id]
        names = sorted(self.s.users[i].username for i in ids)
        return [n for n in names if not after or n > after][:limit]


class FakeUploads:
    def __init__(self, state: State) -> None:
        self.s = state

    async def idempotent_image(self, user_id: int, key: str, created_after: datetime) -> str | None:
        found = self.s.idempotency.get((user_id, key))
        return found[0] if found is not None and found[1] > created_after else None

    async def remember_key(
        self, user_id: int, key: str, image_id: str, created_at: datetime, expired_before: datetime
    ) -> None:
        found = self.s.idempotency.get((user_id, key))
        if found is not None and found[1] > expired_before:
            raise AlreadyExists("this Idempotency-Key is already in use")
        self.s.idempotency[(user_id, key)] = (image_id, created_at)

    async def start_direct(self, upload: Mapping[str, Any]) -> None:
        row = {
            "completing_at": None,
            "completed_at": None,
            "image_id": None,
            "received": None,
            "parts": None,
            "details": None,
            "multipart_id": None,
            **upload,
        }
        self.s.direct[str(upload["id"])] = row

    async def get_direct(self, upload_id: str) -> dict[str, Any] | None:
        row = self.s.direct.get(upload_id)
        return dict(row) if row is not None else None

    async def claim_completion(self, upload_id: str, now: datetime, stale_before: datetime) -> bool:
        row = self.s.direct.get(upload_id)
        if row is None or row["completed_at"] is not None:
            return False
        if row["completing_at"] is not None and row["completing_at"] >= stale_before:
            return False
        row["completing_at"] = now
        return True

    async def release_claim(self, upload_id: str) -> None:
        row = self.s.direct.get(upload_id)
        if row is not None and row["completed_at"] is None:
            row["completing_at"] = None

    async def mark_completed(self, upload_id: str, image_id: str, when: datetime) -> None:
        if upload_id in self.s.direct:
            self.s.direct[upload_id].update(completed_at=when, image_id=image_id)

    async def forget(self, upload_id: str, *, only_incomplete: bool = False) -> None:
        row = self.s.direct.get(upload_id)
        if row is not None and not (only_incomplete and row["completed_at"] is not None):
            del self.s.direct[upload_id]

    async def abandoned(self, expired_before: datetime, limit: int) -> list[tuple[str, str]]:
        return [
            (r["id"], r["key"])
            for r in self.s.direct.values()
            if r["completed_at"] is None and r["expires_at"] < expired_before
        ][:limit]

    async def pending_bytes(self, user_id: int, now: datetime) -> int:
        return sum(
            int(r["size"])
            for r in self.s.direct.values()
            if r["user_id"] == user_id and r["completed_at"] is None and r["expires_at"] > now
        )

    async def add_part(
        self,
        upload_id: str,
        received_before: int,
        part: tuple[int, int, str],
        expires_at: datetime,
    ) -> bool:
        row = self.s.direct.get(upload_id)
        if row is None or row["completed_at"] is not None or row["received"] != received_before:
            return False
        row.update(
            received=received_before + part[1],
            parts=[*(row["parts"] or []), list(part)],
            expires_at=expires_at,
        )
        return True


class FakeEgress:
    def __init__(self, state: State) -> None:
        self.s = state

    async def add(self, rows: Sequence[tuple[date, str, int, int]]) -> None:
        for day, source, nbytes, requests in rows:
            entry = self.s.egress.setdefault((day, source), [0, 0])
            entry[0] += nbytes
            entry[1] += requests

    async def day_totals(self, day: date, source: str) -> tuple[int, int]:
        nbytes, requests = self.s.egress.get((day, source), [0, 0])
        return nbytes, requests


class FakeBill:
    def __init__(self, state: State) -> None:
        self.s = state

    async def measure(self, window_start: date, uploads_since: datetime) -> BillRows:
        images = list(self.s.images.values())
        originals: dict[str, list[int]] = {}
        variants: dict[tuple[str, str, str], list[int]] = {}
        for i in images:
            trash = i.deleted_at is not None
            o = originals.setdefault(i.original_storage_class.value, [0, 0, 0])
            o[0], o[1], o[2] = o[0] + 1, o[1] + i.original_bytes, o[2] + trash * i.original_bytes
            for v in i.all_variants():
                g = variants.setdefault((v.name, v.format, StorageClass.STANDARD.value), [0, 0, 0])
                g[0], g[1], g[2] = g[0] + 1, g[1] + v.bytes, g[2] + trash * v.bytes
        egress: dict[str, list[int]] = {}
        for (day, source), (nbytes, requests) in self.s.egress.items():
            if day >= window_start:
                e = egress.setdefault(source, [0, 0, 0])
                e[0], e[1], e[2] = e[0] + nbytes, e[1] + requests, e[2] + 1
        return BillRows(
            originals=[(c, n, b, t) for c, (n, b, t) in sorted(originals.items())],
            variants=[(*k, n, b, t) for k, (n, b, t) in sorted(variants.items())],
            egress=[(s, b, r, n) for s, (b, r, n) in egress.items()],
            first_egress_day=min((d for d, _ in self.s.egress), default=None),
            image_rows=len(images),
            first_upload=min((i.created_at for i in images), default=None),
            recent_uploads=sum(1 for i in images if i.created_at >= uploads_since),
        )


class FakeTransaction:
    def __init__(self, state: State) -> None:
        self.images = FakeImages(state)
        self.users = FakeUsers(state)
        self.follows = FakeFollows(state)
        self.uploads = FakeUploads(state)
        self.egress = FakeEgress(state)
        self.bill = FakeBill(state)
        self.search = FakeSearch(state)
        self.albums, self.shares = FakeAlbums(state), FakeShares(state)
        self.likes, self.comments, self.notifications = fake_social_repositories(state)
        self.reports, self.moderation = FakeReports(state), FakeModeration(state)
        self.blocks = FakeBlocks(state)


class FakeMetadata:
    """``Metadata`` in memory."""

    dialect = "memory"
    failures: tuple[type[Exception], ...] = ()

    def __init__(self) -> None:
        self.state = State()
        self._writing = asyncio.Lock()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[FakeTransaction]:
        yield FakeTransaction(self.state)

    def quick_read(self) -> AbstractAsyncContextManager[FakeTransaction]:
        return self.read()

    async def write_together(self, work: Callable[[FakeTransaction], Awaitable[T]]) -> T:
        async with self.write() as tx:
            return await work(tx)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[FakeTransaction]:
        async with self._writing:
            before = copy.deepcopy(self.state)
            try:
                yield FakeTransaction(self.state)
            except BaseException:
                self._restore(before)
                raise

    def _restore(self, before: State) -> None:
        for name in vars(before):
            setattr(self.state, name, getattr(before, name))

    async def close(self) -> None:
        return None

    async def variant_files(self, image_id: str, name: str) -> VariantFiles | None:
        return await FakeImages(self.state).variant_files(image_id, name)

    async def ping(self) -> None:
        return None
