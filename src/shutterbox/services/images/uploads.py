"""Accepting an upload: durable original first, then the row and its job in one transaction."""

from __future__ import annotations

import hashlib
import math
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

import anyio
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters import imaging
from shutterbox.adapters.db import repository
from shutterbox.adapters.db.tables import idempotency_keys
from shutterbox.clock import utcnow
from shutterbox.domain.errors import (
    Conflict,
    ImageRejected,
    ImageTooLarge,
    InvalidInput,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from shutterbox.domain.formats import ACCEPTED_NAMES, SNIFF_BYTES, ImageFormat, sniff_format
from shutterbox.domain.images import (
    MAX_ALT_TEXT_CHARS,
    Image,
    Status,
    Visibility,
    new_image_id,
    original_key,
)
from shutterbox.domain.jobs import JobKind
from shutterbox.domain.storage import StorageClass
from shutterbox.domain.users import User
from shutterbox.services.context import Services
from shutterbox.services.people import quotas


class Outcome(StrEnum):
    CREATED = "created"  # a new image: 201
    REPLAYED = "replayed"  # a retry with the same Idempotency-Key: the first answer again
    DUPLICATE = "duplicate"  # the same bytes this user already has: 200 with that image


@dataclass
class StagedFile:
    """An uploaded file written to local disk, with what was learned while writing it."""

    path: Path
    size: int
    sha256: str
    format: ImageFormat


@dataclass
class UploadDetails:
    caption: str = ""
    tags: list[str] = field(default_factory=list)
    alt_text: str = ""
    location_name: str | None = None
    lat: float | None = None
    lon: float | None = None
    visibility: Visibility = Visibility.PUBLIC
    share_location: bool = False  # use the photo's GPS position when no lat/lon is given


def check_details(details: UploadDetails, max_caption_chars: int) -> None:
    if len(details.caption) > max_caption_chars:
        raise InvalidInput(f"the caption is longer than {max_caption_chars} characters")
    if len(details.alt_text) > MAX_ALT_TEXT_CHARS:
        raise InvalidInput(f"the alt text is longer than {MAX_ALT_TEXT_CHARS} characters")
    if details.location_name is not None and len(details.location_name) > 200:
        raise InvalidInput("the location name is longer than 200 characters")
    if (details.lat is None) != (details.lon is None):
        raise InvalidInput("give both lat and lon, or neither")
    if details.lat is not None and details.lon is not None:
        if not (math.isfinite(details.lat) and -90 <= details.lat <= 90):
            raise InvalidInput("lat must be between -90 and 90")
        if not (math.isfinite(details.lon) and -180 <= details.lon <= 180):
            raise InvalidInput("lon must be between -180 and 180")


async def find_idempotent(services: Services, user: User, key: str) -> Image | None:
    async with services.db.reader.connect() as conn:
        image_id = await conn.scalar(
            select(idempotency_keys.c.image_id).where(
                idempotency_keys.c.user_id == user.id,
                idempotency_keys.c.key == key,
                idempotency_keys.c.created_at > _idempotency_cutoff(services),
            )
        )
        if image_id is None:
            return None
        image = await repository.get_image(conn, image_id)
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
    in_transaction: Callable[[AsyncConnection, Image], Awaitable[None]] | None = None,
) -> tuple[Image, Outcome]:
    """Store the original durably, then commit the row and its job. ``incoming_key``: the
    bytes are already in the store there (a direct upload; ``staged`` is a local copy for
    checking them) and are moved into place instead of uploaded again. ``in_transaction``
    runs in the transaction that commits the new image."""
    try:
        if idempotency_key:
            existing = await find_idempotent(services, owner, idempotency_key)
            if existing is not None:
                return existing, Outcome.REPLAYED
        check_details(details, services.settings.max_caption_chars)
        async with services.db.reader.connect() as conn:
            duplicate = await repository.find_duplicate(conn, owner.id, staged.sha256)
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

    try:
        async with services.db.writer.begin() as conn:
            await repository.insert_image(conn, image)
            if in_transaction is not None:
                await in_transaction(conn, image)
            if idempotency_key:
                await conn.execute(  # an expired use of the same key no longer counts
                    delete(idempotency_keys).where(
                        idempotency_keys.c.user_id == owner.id,
                        idempotency_keys.c.key == idempotency_key,
                        idempotency_keys.c.created_at <= _idempotency_cutoff(services),
                    )
                )
                await conn.execute(
                    idempotency_keys.insert().values(
                        user_id=owner.id, key=idempotency_key, image_id=image.id, created_at=now
                    )
                )
            job_id = await services.queue.enqueue(conn, JobKind.PROCESS_IMAGE, image.id)
    except IntegrityError:
        # A concurrent retry with the same Idempotency-Key won: answer with its image.
        await services.store.delete(image.original_key)
        if idempotency_key:
            existing = await find_idempotent(services, owner, idempotency_key)
            if existing is not None:
                return existing, Outcome.REPLAYED
        raise
    # Any other failure above leaves the original in place: the commit may have succeeded, and
    # an unreferenced blob is only an orphan for the scrub, while a missing one would be a loss.
    await services.queue.dispatch([job_id])
    return image, Outcome.CREATED


def _idempotency_cutoff(services: Services) -> datetime:
    return utcnow() - timedelta(hours=services.settings.idempotency_ttl_hours)


def stage_local_file(services: Services, source: Path) -> StagedFile:
    """Copy a file from local disk into staging, measuring, hashing and sniffing it (the
    same checks an HTTP upload gets at the door). Blocking: run it in a thread."""
    limit = services.settings.max_upload_bytes
    if source.stat().st_size > limit:
        raise PayloadTooLarge(f"the file is larger than the limit of {limit // (1024 * 1024)} MB")
    with open(source, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head:
        raise InvalidInput("the file is empty")
    image_format = sniff_format(head)
    if image_format is None:
        raise UnsupportedMediaType(
            f"the file is not a picture in a supported format; accepted: {ACCEPTED_NAMES}"
        )
    digest = hashlib.sha256()
    fd, name = tempfile.mkstemp(dir=services.staging_dir, prefix="import-")
    size = 0
    with open(source, "rb") as src, open(fd, "wb") as out:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return StagedFile(path=Path(name), size=size, sha256=digest.hexdigest(), format=image_format)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
