"""The metadata port: the repositories of every aggregate, and the unit of work that opens a
transaction over them.

``Metadata.read()`` opens a read-only transaction (on SQLite a WAL snapshot that never waits),
``Metadata.write()`` one write transaction (on SQLite ``BEGIN IMMEDIATE``: writers queue). Both
yield a ``Transaction`` whose attributes are the repositories; everything done through one
``write()`` commits together, or not at all when the block raises. The SQL adapter is
``shutterbox.adapters.db.metadata``; an in-memory one for tests is in ``tests/support/fakes``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from shutterbox.domain.errors import Conflict
from shutterbox.domain.images import Image, Variant, Visibility
from shutterbox.domain.storage import StorageClass
from shutterbox.domain.users import User
from shutterbox.ports.albums import AlbumRepository, ShareRepository
from shutterbox.ports.moderation import BlockRepository, ModerationRepository, ReportRepository
from shutterbox.ports.scrub import ScrubQueries
from shutterbox.ports.search import SearchRepository
from shutterbox.ports.social import CommentRepository, LikeRepository, NotificationRepository

Position = tuple[datetime, str]  # keyset pagination: (timestamp, image id)


T = TypeVar("T")


class AlreadyExists(Conflict):
    """A row with the same unique key is already there (a username, an Idempotency-Key)."""


@dataclass(frozen=True)
class ImageState:
    """What can change about an image while it is processed: for status polling."""

    id: str
    status: str
    failure_reason: str | None
    processed_at: datetime | None
    created_at: datetime
    deleted_at: datetime | None


@dataclass(frozen=True)
class VariantFiles:
    """What serving one variant of an image needs, and no more: who may see it, whether it
    is deleted, when it last changed, and the variant's file in each format (empty while the
    image is processing, or when it has no variant of that name)."""

    image_id: str
    owner_id: int
    visibility: Visibility
    deleted: bool
    last_modified: datetime
    formats: dict[str, Variant]  # format (jpeg, webp, avif) → file


@dataclass(frozen=True)
class OriginalDue:
    """An original the storage lifecycle may move to a colder class."""

    id: str
    created_at: datetime
    original_key: str
    original_storage_class: str


@dataclass(frozen=True)
class StoredOriginal:
    id: str
    original_key: str


@dataclass(frozen=True)
class Credentials:
    user_id: int
    password_hash: str


@dataclass(frozen=True)
class BillRows:
    """The measured usage behind the live bill, as the database counts it."""

    # (storage class, objects, bytes, bytes in the trash)
    originals: list[tuple[str, int, int, int]]
    # (name, format, storage class, objects, bytes, bytes in the trash)
    variants: list[tuple[str, str, str, int, int, int]]
    # (source, bytes, requests, days with a row) since the window start
    egress: list[tuple[str, int, int, int]]
    first_egress_day: date | None
    image_rows: int
    first_upload: datetime | None
    recent_uploads: int


class ImageRepository(Protocol):
    async def get(self, image_id: str) -> Image | None: ...
    async def variant_files(self, image_id: str, name: str) -> VariantFiles | None: ...
    async def find_duplicate(self, owner_id: int, sha256: str) -> Image | None: ...
    async def insert(self, image: Image) -> None: ...
    async def save_processed(
        self, image_id: str, fields: Mapping[str, Any], variants: list[Variant]
    ) -> bool: ...
    async def mark_failed(self, image_id: str, reason: str, when: datetime) -> None: ...
    async def update_details(self, image: Image, values: Mapping[str, Any]) -> bool: ...
    async def mark_processing_again(self, image_id: str) -> bool: ...
    async def mark_deleted(self, image_id: str, when: datetime) -> None: ...
    async def mark_deleted_of_owner(self, owner_id: int, when: datetime) -> None:
        """``mark_deleted`` for every image of the owner at once (a closed account)."""
        ...

    async def set_visibility_of(
        self, image_ids: Sequence[str], visibility: Visibility
    ) -> list[Image]:
        """Give the undeleted images of ``image_ids`` this visibility, their home timelines
        with it; the images it changed, as they are now."""
        ...

    async def ids_of_owner(self, owner_id: int) -> list[str]:
        """Every image the user owns, in the trash or not."""
        ...

    async def remove(self, image_id: str) -> None: ...
    async def restore_deleted(self, image_id: str, deleted_after: datetime) -> bool: ...
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
    ) -> list[Image]: ...
    async def list_trash(
        self, owner_id: int, *, limit: int, cursor: Position | None
    ) -> list[Image]: ...
    async def library_page(
        self, owner_id: int, *, after: Position | None, limit: int
    ) -> list[Image]:
        """The owner's undeleted images, whatever their status, oldest first (created time,
        then id), after the ``after`` position; without their variants."""
        ...

    async def count_ready(self, owner_id: int, *, include_private: bool) -> int: ...
    async def original_bytes(self, owner_id: int) -> int: ...
    async def ready_since(self, moment: datetime) -> int:
        """Images that became ready since ``moment``."""
        ...

    async def live_ids(
        self,
        ids: Sequence[str] | None,
        *,
        failed_only: bool,
        processed_before: datetime | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[str]:
        """Undeleted images in id order: those of ``ids`` that exist (every one when None),
        or every failed one when ``failed_only``; not those processed since
        ``processed_before``; from after the id ``after``, at most ``limit`` (a page of a
        walk over every image)."""
        ...

    async def failed_since(self, moment: datetime, limit: int) -> tuple[int, list[ImageState]]:
        """Undeleted images whose processing failed since ``moment``: how many, and up to
        ``limit`` of them, the latest first."""
        ...

    async def states(self, ids: Sequence[str]) -> list[ImageState]: ...
    async def changing(
        self, owner_id: int, created_since: datetime, watched: Sequence[str]
    ) -> list[ImageState]: ...
    async def set_original_class(self, image_id: str, storage_class: StorageClass) -> None: ...
    async def set_original_restore(
        self, image_id: str, *, requested_at: datetime | None, restored_until: datetime | None
    ) -> None: ...
    async def originals_due(
        self,
        *,
        created_before: datetime,
        classes: list[StorageClass],
        after: Position | None,
        limit: int,
    ) -> list[OriginalDue]: ...
    async def restores_ended(self, now: datetime, limit: int) -> list[StoredOriginal]: ...
    async def trash_expired(self, deleted_before: datetime, limit: int) -> list[str]: ...
    async def failed_expired(self, created_before: datetime, limit: int) -> list[str]: ...


class UserRepository(Protocol):
    async def create(
        self, username: str, password_hash: str, *, is_admin: bool, created_at: datetime
    ) -> User:
        """Raises ``AlreadyExists`` when the username is taken."""
        ...

    async def by_name(self, username: str) -> User | None: ...
    async def credentials(self, username: str) -> Credentials | None: ...
    async def add_token(
        self, token_sha256: str, user_id: int, created_at: datetime, expires_at: datetime
    ) -> None: ...
    async def by_token(self, token_sha256: str, now: datetime) -> User | None:
        """The user of a token neither revoked nor expired at ``now``."""
        ...

    async def revoke_token(self, token_sha256: str, when: datetime) -> None: ...
    async def close(self, user_id: int) -> None:
        """Nobody logs in as the user any more: no password matches, every token is gone."""
        ...

    async def remove_closed(self, user_id: int) -> bool:
        """Remove a closed account's row once it owns no image; whether it went."""
        ...


class FollowRepository(Protocol):
    async def add(self, follower_id: int, followee_id: int, created_at: datetime) -> None:
        """Following again changes nothing."""
        ...

    async def remove(self, follower_id: int, followee_id: int) -> None: ...
    async def forget(self, user_id: int) -> None:
        """Every follow from and to the user."""
        ...

    async def exists(self, follower_id: int, followee_id: int) -> bool: ...
    async def count_followers(self, user_id: int) -> int: ...
    async def count_following(self, user_id: int) -> int: ...
    async def people(
        self, user_id: int, *, of_followers: bool, after: str | None, limit: int
    ) -> list[str]:
        """Usernames of the user's followers (or followees), by name, after ``after``."""
        ...


class UploadRepository(Protocol):
    """Idempotency keys and direct (browser-to-bucket) uploads."""

    async def idempotent_image(
        self, user_id: int, key: str, created_after: datetime
    ) -> str | None: ...
    async def remember_key(
        self, user_id: int, key: str, image_id: str, created_at: datetime, expired_before: datetime
    ) -> None:
        """Record the key (forgetting an expired use of it); ``AlreadyExists`` if it is live."""
        ...

    async def start_direct(self, upload: Mapping[str, Any]) -> None: ...
    async def get_direct(self, upload_id: str) -> dict[str, Any] | None:
        """The direct upload's columns (id, user_id, key, size, completed_at, image_id...)."""
        ...

    async def claim_completion(
        self, upload_id: str, now: datetime, stale_before: datetime
    ) -> bool: ...
    async def release_claim(self, upload_id: str) -> None: ...
    async def mark_completed(self, upload_id: str, image_id: str, when: datetime) -> None: ...
    async def forget(self, upload_id: str, *, only_incomplete: bool = False) -> None: ...
    async def abandoned(self, expired_before: datetime, limit: int) -> list[tuple[str, str]]:
        """(id, key) of uploads never completed whose URL expired before ``expired_before``."""
        ...

    async def pending_bytes(self, user_id: int, now: datetime) -> int: ...
    async def add_part(
        self,
        upload_id: str,
        received_before: int,
        part: tuple[int, int, str],
        expires_at: datetime,
    ) -> bool:
        """Record a resumable upload's next ``part`` (offset, size, key) and move its
        ``received`` on by the part's size, only if ``received`` is still
        ``received_before`` (False: another request got there first)."""
        ...


class EgressRepository(Protocol):
    async def add(self, rows: Sequence[tuple[date, str, int, int]]) -> None:
        """Add (day, source, bytes, requests) to the daily totals."""
        ...

    async def day_totals(self, day: date, source: str) -> tuple[int, int]: ...


class BillRepository(Protocol):
    async def measure(self, window_start: date, uploads_since: datetime) -> BillRows: ...


class Transaction(Protocol):
    """The repositories, all in one transaction."""

    @property
    def images(self) -> ImageRepository: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def follows(self) -> FollowRepository: ...
    @property
    def uploads(self) -> UploadRepository: ...
    @property
    def egress(self) -> EgressRepository: ...
    @property
    def bill(self) -> BillRepository: ...
    @property
    def search(self) -> SearchRepository: ...
    @property
    def albums(self) -> AlbumRepository: ...
    @property
    def shares(self) -> ShareRepository: ...
    @property
    def reports(self) -> ReportRepository: ...
    @property
    def moderation(self) -> ModerationRepository: ...
    @property
    def blocks(self) -> BlockRepository: ...

    likes: LikeRepository  # likes, comments and notifications: ports/social.py
    comments: CommentRepository
    notifications: NotificationRepository


class WriteTransaction(Transaction, Protocol):
    """A transaction that writes. Jobs are added in it too (``JobQueue.enqueue(tx, ...)``):
    the jobs table lives in the same database, so a job exists iff the transaction commits."""


class Metadata(Protocol):
    @property
    def dialect(self) -> str:
        """The database's kind: ``sqlite`` or ``postgresql``."""
        ...

    @property
    def failures(self) -> tuple[type[Exception], ...]:
        """What a read or write raises when the database cannot be reached or used."""
        ...

    def read(self) -> AbstractAsyncContextManager[Transaction]: ...
    def quick_read(self) -> AbstractAsyncContextManager[Transaction]:
        """``read()`` for queries whose cost does not grow with the data (an index seek for
        a page of a list): the adapter may run them without leaving the event loop."""
        ...

    def write(self) -> AbstractAsyncContextManager[WriteTransaction]: ...
    async def write_together(self, work: Callable[[WriteTransaction], Awaitable[T]]) -> T:
        """``work`` in a write transaction the adapter may share with other writes arriving
        at the same time (one commit for all: group commit); its result once committed.
        If ``work`` raises, its writes alone are undone and the error is raised here. For
        short units of work that only touch the database."""
        ...

    async def variant_files(self, image_id: str, name: str) -> VariantFiles | None:
        """``ImageRepository.variant_files`` in a snapshot of its own, by the adapter's
        fastest way: what every media GET of a variant asks."""
        ...

    async def ping(self) -> None:
        """Raises when the database cannot answer a query."""
        ...

    async def close(self) -> None:
        """Release the connections (the end of the process's use of the database)."""
        ...

    def scrub_queries(self) -> ScrubQueries:
        """The read-only queries of the scrub (each opens its own snapshot)."""
        ...
