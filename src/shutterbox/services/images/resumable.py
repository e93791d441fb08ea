"""Resumable uploads (the tus protocol's model): a file announced with its length, then sent
in parts, each part from the offset the server has; a part cut short by a dropped connection
keeps what arrived, and the client asks where to go on from.

Each part is written to the blob store as it is (so any API node can take the next one), and
recorded on the upload's ``direct_uploads`` row by compare-and-set on the bytes received so
far: of two requests sending the same offset, one wins and the other's part is removed (409).
When the last byte arrives, the parts are read back in order through a ``Stager`` (hashed and
sniffed again, as any upload is) and the upload becomes an image exactly as a multipart POST
does; the row then remembers the image, so finishing again answers the same image.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from shutterbox.clock import utcnow
from shutterbox.domain.details import details_from_form
from shutterbox.domain.errors import (
    Conflict,
    Gone,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    ShutterboxError,
)
from shutterbox.domain.images import Image, new_image_id
from shutterbox.domain.users import User
from shutterbox.ports.metadata import WriteTransaction
from shutterbox.services.context import Services
from shutterbox.services.images import direct_uploads, upload_turns, uploads
from shutterbox.services.images.staging import Stager, too_large_message
from shutterbox.services.people import quotas

CHECKSUM_ALGORITHMS = ("sha256",)
_METADATA_KEYS = 32
_METADATA_CHARS = 16 * 1024


class Interrupted(Exception):
    """Raised by a part's byte stream when the client's connection closed midway."""


class ChecksumMismatch(ShutterboxError):
    status = 460  # the tus checksum extension's own status
    code = "checksum_mismatch"


@dataclass(frozen=True)
class ResumableUpload:
    id: str
    length: int
    offset: int
    expires_at: datetime
    metadata: str  # the Upload-Metadata it was created with, to give back on HEAD
    image_id: str | None

    @property
    def finished(self) -> bool:
        return self.image_id is not None


def parse_metadata(header: str | None) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64(value)`` pairs (a key alone: "")."""
    if not header or not header.strip():
        return {}
    if len(header) > _METADATA_CHARS:
        raise InvalidInput("Upload-Metadata is too long")
    fields: dict[str, str] = {}
    for pair in header.split(","):
        key, _, encoded = pair.strip().partition(" ")
        if not key or key in fields or len(fields) >= _METADATA_KEYS:
            raise InvalidInput("Upload-Metadata: keys must be present, distinct and few")
        try:
            fields[key] = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidInput(f"Upload-Metadata: the value of {key!r} is not base64") from exc
    return fields


def parse_checksum(header: str | None) -> bytes | None:
    """``Upload-Checksum: sha256 <base64 digest>``: the digest the part must have."""
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm.lower() not in CHECKSUM_ALGORITHMS:
        raise InvalidInput(f"unsupported checksum algorithm {algorithm!r}: use sha256")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error as exc:
        raise InvalidInput("Upload-Checksum: the digest is not base64") from exc
    if len(digest) != hashlib.sha256().digest_size:
        raise InvalidInput("Upload-Checksum: not a SHA-256 digest")
    return digest


async def create(
    services: Services, user: User, length: int, metadata_header: str | None
) -> ResumableUpload:
    """A new upload of ``length`` bytes: refused at once if that is over the size limit or the
    user's quota, or if its details (``Upload-Metadata``) are not valid."""
    limit = services.settings.max_upload_bytes
    if length <= 0:
        raise InvalidInput("Upload-Length must be the file's size in bytes")
    if length > limit:
        raise PayloadTooLarge(too_large_message(limit))
    fields = parse_metadata(metadata_header)
    details_from_form(fields, uploads.detail_limits(services.settings))  # checked now
    await quotas.check(services, user, length, pending=True)
    now = utcnow()
    upload_id = new_image_id()
    expires_at = _expiry(services, now)
    async with services.metadata.write() as tx:
        await tx.uploads.start_direct(
            {
                "id": upload_id,
                "user_id": user.id,
                "key": direct_uploads.incoming_key(upload_id, now),
                "filename": fields.get("filename", "")[:255],
                "content_type": fields.get("filetype", "application/octet-stream")[:100],
                "size": length,
                "created_at": now,
                "expires_at": expires_at,
                "received": 0,
                "parts": [],
                "details": {"metadata": metadata_header or "", "fields": fields},
            }
        )
    return ResumableUpload(upload_id, length, 0, expires_at, metadata_header or "", None)


async def status(services: Services, user: User, upload_id: str) -> ResumableUpload:
    """Where the upload stands. 404 if it is not the user's; 410 once it has expired."""
    async with upload_turns.turn(upload_id):
        return _upload_of(await _row(services, user, upload_id))


async def append(
    services: Services,
    user: User,
    upload_id: str,
    offset: int,
    chunks: AsyncIterator[bytes],
    checksum: bytes | None = None,
) -> tuple[ResumableUpload, Image | None]:
    """Take the bytes from ``offset`` on; the upload as it now stands and, once its last byte
    has arrived, the image made from it. ``Conflict`` when ``offset`` is not where the upload
    is (ask again where it is); ``ChecksumMismatch`` when the part's SHA-256 is not
    ``checksum`` (nothing is kept). A connection dropped midway keeps what arrived, unless a
    checksum was given (a part cut short cannot match it)."""
    async with upload_turns.turn(upload_id) as stop:
        upload = await _append(services, user, upload_id, offset, chunks, checksum, stop)
        if upload.offset < upload.length:
            return upload, None
        image = await _finish(services, user, upload_id)
        return _upload_of(await _row(services, user, upload_id)), image


async def _append(
    services: Services,
    user: User,
    upload_id: str,
    offset: int,
    chunks: AsyncIterator[bytes],
    checksum: bytes | None,
    stop: asyncio.Event,
) -> ResumableUpload:
    row = await _row(services, user, upload_id)
    upload = _upload_of(row)
    if upload.finished:
        raise Conflict("this upload is complete")
    if offset != upload.offset:
        raise Conflict(f"the upload is at offset {upload.offset}, not {offset}")
    room = upload.length - upload.offset
    too_large = f"more bytes than the {upload.length} announced"
    cut: Exception | None = None
    with Stager(services.staging_dir, room, prefix="part-", too_large=too_large) as stager:
        try:
            await stager.write_all(upload_turns.until_stopped(chunks, stop))
        except (Interrupted, upload_turns.Stopped) as exc:
            cut = exc
        path = stager.finish_bytes()
        size, digest = stager.size, stager.digest()
    try:
        if checksum is not None and (cut is not None or digest != checksum):
            if cut is not None:
                raise InvalidInput("the part was cut short; send it again")
            raise ChecksumMismatch("the part's SHA-256 is not the one in Upload-Checksum")
        if size > 0:
            upload = await _keep_part(services, row, upload, path, size)
    finally:
        path.unlink(missing_ok=True)
    if isinstance(cut, upload_turns.Stopped):
        raise Conflict("a newer request for this upload took over: ask where it stands")
    if cut is not None:
        raise InvalidInput("the connection closed before the part was complete")
    return upload


async def _keep_part(
    services: Services,
    row: Mapping[str, object],
    upload: ResumableUpload,
    path: Path,
    size: int,
) -> ResumableUpload:
    key = f"{row['key']}/part-{upload.offset:015d}-{secrets.token_hex(4)}"
    await services.store.put_file(key, path)
    expires_at = _expiry(services, utcnow())
    async with services.metadata.write() as tx:
        kept = await tx.uploads.add_part(
            upload.id, upload.offset, (upload.offset, size, key), expires_at
        )
    if not kept:  # another request sent bytes for this offset first
        await services.store.delete(key)
        raise Conflict("another request sent bytes for this offset first: ask where it is now")
    return ResumableUpload(
        upload.id, upload.length, upload.offset + size, expires_at, upload.metadata, None
    )


async def finish(services: Services, user: User, upload_id: str) -> Image:
    """The image of a fully received upload: made once (a claim keeps two requests from
    making it twice), then the same image for every later call."""
    async with upload_turns.turn(upload_id):
        return await _finish(services, user, upload_id)


async def _finish(services: Services, user: User, upload_id: str) -> Image:
    row = await _row(services, user, upload_id, allow_expired=True)
    if row["image_id"] is None and not await direct_uploads.claim_completion(services, upload_id):
        raise Conflict("this upload is being finished right now: ask again in a moment")
    row = await _row(services, user, upload_id, allow_expired=True)
    if row["image_id"] is not None:
        async with services.metadata.read() as tx:
            done = await tx.images.get(str(row["image_id"]))
        if done is None or done.deleted_at is not None:
            raise Conflict("this upload was finished and its image has since been deleted")
        return done
    try:
        image, _outcome = await _make_image(services, user, row)
    except ShutterboxError as refused:
        if not isinstance(refused, Conflict):  # refused for good: nothing is kept
            await remove(services, row)
        else:
            await direct_uploads.release_claim(services, upload_id)
        raise
    except BaseException:
        await direct_uploads.release_claim(services, upload_id)
        raise
    await _remove_parts(services, row)
    return image


async def _make_image(
    services: Services, user: User, row: Mapping[str, object]
) -> tuple[Image, uploads.Outcome]:
    upload_id = str(row["id"])
    details = details_from_form(_fields(row), uploads.detail_limits(services.settings))
    limit = int(str(row["size"]))
    with Stager(services.staging_dir, limit, prefix="tus-") as stager:
        for _offset, _size, key in _parts(row):
            await stager.write_all(services.store.stream(key))
        staged = stager.finish_picture()

    async def mark_completed(tx: WriteTransaction, image: Image) -> None:
        await tx.uploads.mark_completed(upload_id, image.id, utcnow())

    image, outcome = await uploads.accept_upload(
        services, user, staged, details, in_transaction=mark_completed
    )
    if outcome == uploads.Outcome.DUPLICATE:
        async with services.metadata.write() as tx:
            await mark_completed(tx, image)
    return image, outcome


async def terminate(services: Services, user: User, upload_id: str) -> None:
    """Stop the upload and remove what it received (the image of a finished one stays)."""
    async with upload_turns.turn(upload_id):
        row = await _row(services, user, upload_id, allow_expired=True)
        await remove(services, row)


async def remove(services: Services, row: Mapping[str, object]) -> None:
    await _remove_parts(services, row)
    async with services.metadata.write() as tx:
        await tx.uploads.forget(str(row["id"]))


async def _remove_parts(services: Services, row: Mapping[str, object]) -> None:
    await services.store.delete_under(str(row["key"]))


async def _row(
    services: Services, user: User, upload_id: str, *, allow_expired: bool = False
) -> dict[str, object]:
    async with services.metadata.read() as tx:
        row = await tx.uploads.get_direct(upload_id)
    if row is None or row["user_id"] != user.id or row["received"] is None:
        raise NotFound("no such upload")
    expires_at = row["expires_at"]
    assert isinstance(expires_at, datetime)
    if not allow_expired and row["image_id"] is None and expires_at <= utcnow():
        raise Gone("this upload has expired: start it again")
    return row


def _upload_of(row: Mapping[str, object]) -> ResumableUpload:
    expires_at = row["expires_at"]
    assert isinstance(expires_at, datetime)
    details = row["details"]
    metadata = str(details.get("metadata", "")) if isinstance(details, dict) else ""
    image_id = row["image_id"]
    return ResumableUpload(
        id=str(row["id"]),
        length=int(str(row["size"])),
        offset=int(str(row["received"])),
        expires_at=expires_at,
        metadata=metadata,
        image_id=None if image_id is None else str(image_id),
    )


def _fields(row: Mapping[str, object]) -> dict[str, str]:
    details = row["details"]
    fields = details.get("fields", {}) if isinstance(details, dict) else {}
    return {str(k): str(v) for k, v in fields.items()}


def _parts(row: Mapping[str, object]) -> list[tuple[int, int, str]]:
    parts = row["parts"]
    return [(int(p[0]), int(p[1]), str(p[2])) for p in parts] if isinstance(parts, list) else []


def _expiry(services: Services, now: datetime) -> datetime:
    return now + timedelta(seconds=services.settings.resumable_upload_expiry_seconds)
