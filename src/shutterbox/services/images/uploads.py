"""Accepting an upload: durable original first, then the row and its job in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum

import anyio

from shutterbox.adapters import imaging
from shutterbox.clock import utcnow
from shutterbox.config import Settings
from shutterbox.domain.details import DetailLimits, UploadDetails
from shutterbox.domain.errors import (
    Conflict,
    ImageRejected,
    ImageTooLarge,
    InvalidInput,
)
from shutterbox.domain.images import (
    Image,
    Status,
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


class Outcome(StrEnum):
    CREATED = "created"  # a new image: 201
    REPLAYED = "replayed"  # a retry with the same Idempotency-Key: the first answer again
    DUPLICATE = "duplicate"  # the same bytes this user already has: 200 with that image


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
) -> tuple[Image, Outcome]:
    """Store the original durably, then commit the row and its job. ``details`` come checked
    (``domain.details``). A retry with the same ``idempotency_key`` answers the first image
    (checked here, and once more if a concurrent retry took the key while this one stored its
    bytes). ``incoming_key``: the bytes are already in the store there (a direct upload;
    ``staged`` is a local copy for checking them) and are moved into place instead of
    uploaded again. ``in_transaction`` runs in the transaction that commits the new image.
    ``lane``: where its processing job waits (an import's in the bulk lane)."""
    try:
        if idempotency_key:
            existing = await _image_for_key(services, owner, idempotency_key)
            if existing is not None:
                return existing, Outcome.REPLAYED
        async with services.metadata.quick_read() as tx:  # one index seek
            duplicate = await tx.images.find_duplicate(owner.id, staged.sha256)
        if duplicate is not None:
            return duplicate, Outcome.DUPLICATE
        await quotas.check(services, owner, staged.size)  # before the bytes are stored
        try:
            header = await anyio.to_thread.run_sync(imaging.read_header, staged.path)
        except ImageRejected as exc:
            raise InvalidInput(exc.reason) from exc
        if header.pixels > services.settings.max_pixels:
            megapixels = services.settings.max_pixels / 1_000_000
            raise ImageTooLarge(
                f"the picture is {header.width} x {header.height}"
                + (f" x {header.pages} frames" if header.pages > 1 else "")
                + f" pixels, larger than the limit of {megapixels:g} megapixels"
            )
        lat, lon = details.lat, details.lon
        if lat is None and details.share_location and header.gps is not None:
            lat, lon = header.gps
        now = utcnow()
        image = Image(
            id=new_image_id(),
            owner_id=owner.id,
            owner_username=owner.username,
            status=Status.PROCESSING,
            visibility=details.visibility,
            created_at=now,
            original_key="",
            original_media_type=staged.format.media_type,
            original_bytes=staged.size,
            original_sha256=staged.sha256,
            caption=details.caption,
            alt_text=details.alt_text,
            tags=details.tags,
            location_name=details.location_name,
            lat=lat,
            lon=lon,
        )
        image.original_key = original_key(image.id, now, staged.format.extension)
        storage_class = services.settings.originals_class
        tiers = services.tiers if storage_class != StorageClass.STANDARD else None
        if incoming_key is None and tiers is not None:
            await tiers.put_file_in_class(image.original_key, staged.path, storage_class)
        elif incoming_key is None:
            await services.store.put_file(image.original_key, staged.path)
        else:
            try:
                await services.store.rename(incoming_key, image.original_key)
            except KeyError as exc:
                raise Conflict("the uploaded file is gone: start the upload again") from exc
            if tiers is not None:
                await tiers.transition(image.original_key, storage_class)
        if tiers is not None:
            image.original_storage_class = storage_class
    finally:
        staged.path.unlink(missing_ok=True)

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


def _idempotency_cutoff(services: Services) -> datetime:
    return utcnow() - timedelta(hours=services.settings.idempotency_ttl_hours)
