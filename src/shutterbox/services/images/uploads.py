"""Accepting an upload: durable original first, then the row and its job in one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

import anyio

from shutterbox.adapters import imaging
from shutterbox.adapters.imaging import ImageHeader
from shutterbox.clock import utcnow
from shutterbox.config import Settings
from shutterbox.domain.details import DetailLimits, UploadDetails, unkept_details
from shutterbox.domain.errors import (
    Conflict,
    DuplicateUpload,
    ImageRejected,
    ImageTooLarge,
    InvalidInput,
)
from shutterbox.domain.images import (
    Image,
    Status,
    animation_problem,
    new_image_id,
    original_key,
)
from shutterbox.domain.jobs import JobKind, Lane
from shutterbox.domain.storage import StorageClass
from shutterbox.domain.users import User
from shutterbox.ports.metadata import AlreadyExists, WriteTransaction
from shutterbox.services.context import Services
from shutterbox.services.images.staging import StagedFile
from shutterbox.services.people import quotas

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    CREATED = "created"  # a new image: 201
    REPLAYED = "replayed"  # a retry with the same Idempotency-Key: the first answer again
    # the same bytes this user already has, sent with no details that image lacks: 200 with
    # that image (with details it lacks: DuplicateUpload, 409)
    DUPLICATE = "duplicate"


def detail_limits(settings: Settings) -> DetailLimits:
    return DetailLimits(max_caption_chars=settings.max_caption_chars, max_tags=settings.max_tags)


async def _image_for_key(services: Services, user: User, key: str) -> Image | None:
    async with services.metadata.quick_read() as tx:  # index seeks
        image_id = await tx.uploads.idempotent_image(user.id, key, _idempotency_cutoff(services))
        if image_id is None:
            return None
        image = await tx.images.get(image_id)
    if image is None or image.deleted_at is not None:
        return None
    return image


async def accept_upload(
    services: Services,
    owner: User,
    staged: StagedFile,
    details: UploadDetails,
    idempotency_key: str | None = None,
    *,
    incoming_key: str | None = None,
    in_transaction: Callable[[WriteTransaction, Image], Awaitable[None]] | None = None,
    lane: Lane = Lane.NEW,
    created_at: datetime | None = None,
    taken_at: datetime | None = None,
    refuse_unkept_details: bool = True,
) -> tuple[Image, Outcome]:
    """Store the original durably, then commit the row and its job. ``details`` come checked
    (``domain.details``). A retry with the same ``idempotency_key`` answers the first image
    (checked here, and once more if a concurrent retry took the key while this one stored its
    bytes). ``incoming_key``: the bytes are already in the store there (a direct upload;
    ``staged`` is a local copy for checking them) and are moved into place instead of
    uploaded again. ``in_transaction`` runs in the transaction that commits the new image.
    ``lane``: where its processing job waits (an import's in the bulk lane). An imported
    export keeps its ``created_at`` (never later than now: the lists' order) and its
    ``taken_at`` (when the photo's own metadata says none). Bytes the owner already has
    answer with that image, unless ``details`` ask for something it does not have
    (``unkept_details``): then ``DuplicateUpload`` says so, rather than drop them without a
    word (``refuse_unkept_details`` False: an import, whose report lists duplicates)."""
    now = utcnow()
    created = now if created_at is None else min(created_at, now)
    image_id = new_image_id()
    key = original_key(image_id, created, staged.format.extension)

    async def check() -> tuple[Image, Outcome] | ImageHeader:
        unkept_for = details if refuse_unkept_details else None
        return await _check(services, owner, staged, idempotency_key, unkept_for)

    try:
        if incoming_key is None:
            checked = await _checked_while_storing(services, key, staged.path, check)
        else:
            checked = await check()
            if isinstance(checked, ImageHeader):
                await _move_into_place(services, incoming_key, key)
    finally:
        staged.path.unlink(missing_ok=True)
    if not isinstance(checked, ImageHeader):
        return checked  # an earlier answer, or the image these bytes already made
    header = checked
    lat, lon = details.lat, details.lon
    if lat is None and details.share_location and header.gps is not None:
        lat, lon = header.gps
    image = Image(
        id=image_id,
        owner_id=owner.id,
        owner_username=owner.username,
        status=Status.PROCESSING,
        visibility=details.visibility,
        created_at=created,
        original_key=key,
        original_media_type=staged.format.media_type,
        original_bytes=staged.size,
        original_sha256=staged.sha256,
        caption=details.caption,
        alt_text=details.alt_text,
        tags=details.tags,
        location_name=details.location_name,
        lat=lat,
        lon=lon,
        taken_at=taken_at,
    )
    if services.tiers is not None and services.settings.originals_class != StorageClass.STANDARD:
        image.original_storage_class = services.settings.originals_class

    async def commit(tx: WriteTransaction) -> int:
        await tx.images.insert(image)
        if in_transaction is not None:
            await in_transaction(tx, image)
        if idempotency_key:
            await tx.uploads.remember_key(
                owner.id, idempotency_key, image.id, now, _idempotency_cutoff(services)
            )
        return await services.queue.enqueue(tx, JobKind.PROCESS_IMAGE, image.id, lane=lane)

    try:
        # Shared with the other uploads committing at this moment: one sync for all of them.
        job_id = await services.metadata.write_together(commit)
    except AlreadyExists:
        # A concurrent retry with the same Idempotency-Key won: answer with its image.
        await services.store.delete(image.original_key)
        if idempotency_key:
            existing = await _image_for_key(services, owner, idempotency_key)
            if existing is not None:
                return existing, Outcome.REPLAYED
        raise
    # Any other failure above leaves the original in place: the commit may have succeeded, and
    # an unreferenced blob is only an orphan for the scrub, while a missing one would be a loss.
    await services.queue.dispatch([job_id], lane)
    return image, Outcome.CREATED


async def _check(
    services: Services,
    owner: User,
    staged: StagedFile,
    idempotency_key: str | None,
    details: UploadDetails | None,
) -> tuple[Image, Outcome] | ImageHeader:
    """What stands in an upload's way. The image to answer with instead (the first answer for
    this Idempotency-Key, or the image these bytes already made), or the new picture's header;
    raises if the quota would be exceeded or the picture cannot or must not be processed. The
    header is read in a thread while the look-ups run."""
    header, found = await asyncio.gather(
        _header_of(services, staged.path),
        _earlier_answer(services, owner, staged, idempotency_key, details),
        return_exceptions=True,
    )
    if isinstance(found, BaseException):
        raise found
    if found is not None:
        return found
    if isinstance(header, BaseException):
        raise header
    return header


async def _earlier_answer(
    services: Services,
    owner: User,
    staged: StagedFile,
    idempotency_key: str | None,
    details: UploadDetails | None,
) -> tuple[Image, Outcome] | None:
    """The first answer for this Idempotency-Key, or the image these bytes already made
    (refused if it lacks any of ``details``); otherwise None once the quota has room."""
    if idempotency_key:
        existing = await _image_for_key(services, owner, idempotency_key)
        if existing is not None:
            return existing, Outcome.REPLAYED
    async with services.metadata.quick_read() as tx:  # one index seek
        duplicate = await tx.images.find_duplicate(owner.id, staged.sha256)
    if duplicate is not None:
        if details is not None and (unkept := unkept_details(details, duplicate)):
            raise DuplicateUpload(
                f"you already uploaded this picture (image {duplicate.id}) with a different "
                f"{' and '.join(unkept)}: nothing was changed. Change that image's details "
                "instead, or delete it to upload the picture again",
                duplicate.id,
            )
        return duplicate, Outcome.DUPLICATE
    await quotas.check(services, owner, staged.size)
    return None


async def _header_of(services: Services, path: Path) -> ImageHeader:
    try:
        header = await anyio.to_thread.run_sync(imaging.read_header, path)
    except ImageRejected as exc:
        raise InvalidInput(exc.reason) from exc
    if header.pixels > services.settings.max_pixels:
        megapixels = services.settings.max_pixels / 1_000_000
        raise ImageTooLarge(
            f"the picture is {header.width} x {header.height}"
            + (f" x {header.pages} frames" if header.pages > 1 else "")
            + f" pixels, larger than the limit of {megapixels:g} megapixels"
        )
    if header.animated:
        problem = animation_problem(
            header.width,
            header.height,
            header.pages,
            max_frames=services.settings.max_animation_frames,
            max_pixels=services.settings.max_animation_pixels,
        )
        if problem is not None:
            raise ImageTooLarge(problem)
    return header


async def _checked_while_storing(
    services: Services,
    key: str,
    path: Path,
    check: Callable[[], Awaitable[tuple[Image, Outcome] | ImageHeader]],
) -> tuple[Image, Outcome] | ImageHeader:
    """``check`` the upload while its original is being stored under ``key``, so that the
    upload waits for the longer of the two rather than for both. The store consumes a second
    name of the staged file (a hard link), so ``path`` stays readable for the checks. If the
    checks refuse the upload or answer with an existing image, the new copy is removed."""
    second_name = path.with_name(path.name + ".store")
    os.link(path, second_name)
    storing = asyncio.ensure_future(_store_original(services, key, second_name))
    try:
        checked = await check()
    except BaseException:
        await _remove_stored(services, key, storing)
        raise
    if not isinstance(checked, ImageHeader):
        await _remove_stored(services, key, storing)
        return checked
    await storing
    return checked


async def _store_original(services: Services, key: str, path: Path) -> None:
    try:
        storage_class = services.settings.originals_class
        if services.tiers is not None and storage_class != StorageClass.STANDARD:
            await services.tiers.put_file_in_class(key, path, storage_class)
        else:
            await services.store.put_file(key, path)
    finally:
        path.unlink(missing_ok=True)


async def _remove_stored(services: Services, key: str, storing: asyncio.Future[None]) -> None:
    """Wait for a store that is no longer wanted to end, then remove what it stored. A copy
    that cannot be removed is only an orphan: the scrub reports it."""
    with contextlib.suppress(Exception):  # nothing was stored, or it is removed below
        await asyncio.shield(storing)
    try:
        await services.store.delete(key)
    except Exception:
        logger.warning("could not remove the unused upload %s", key, exc_info=True)


async def _move_into_place(services: Services, incoming_key: str, key: str) -> None:
    """A direct upload's bytes, from where they arrived to the original's key."""
    try:
        await services.store.rename(incoming_key, key)
    except KeyError as exc:
        raise Conflict("the uploaded file is gone: start the upload again") from exc
    storage_class = services.settings.originals_class
    if services.tiers is not None and storage_class != StorageClass.STANDARD:
        await services.tiers.transition(key, storage_class)


def _idempotency_cutoff(services: Services) -> datetime:
    return utcnow() - timedelta(hours=services.settings.idempotency_ttl_hours)
