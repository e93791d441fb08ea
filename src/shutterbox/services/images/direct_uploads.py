"""Direct-to-storage uploads: the client sends the bytes straight to the bucket (or to the
origin's own signed URL on a local store), then asks for the image to be made from them."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from shutterbox.clock import utcnow
from shutterbox.domain import signing
from shutterbox.domain.details import UploadDetails
from shutterbox.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    ShutterboxError,
    UnsupportedMediaType,
)
from shutterbox.domain.formats import ACCEPTED_FORMATS, ACCEPTED_NAMES
from shutterbox.domain.images import Image, new_image_id
from shutterbox.domain.users import User
from shutterbox.ports.metadata import WriteTransaction
from shutterbox.services.context import Services
from shutterbox.services.images import multipart_uploads, uploads
from shutterbox.services.images.staging import StagedFile, Stager, too_large_message
from shutterbox.services.people import quotas

ACCEPTED_MEDIA_TYPES = {f.media_type for f in ACCEPTED_FORMATS} | {"image/jpg", "image/heif"}


@dataclass
class UploadTicket:
    id: str
    url: str
    method: str
    headers: dict[str, str]
    expires_at: datetime


def incoming_key(upload_id: str, created_at: datetime) -> str:
    return f"incoming/{created_at:%Y/%m/%d}/{upload_id}"


def origin_upload_path(upload_id: str) -> str:
    return f"/api/v1/uploads/{upload_id}/data"


async def _checked_row(
    services: Services, user: User, filename: str, content_type: str, size: int
) -> dict[str, object]:
    """The row of a new direct upload, once its size, type, name and the quota allow it."""
    limit = services.settings.max_upload_bytes
    if size <= 0:
        raise InvalidInput("size must be the file's size in bytes")
    if size > limit:
        raise PayloadTooLarge(too_large_message(limit))
    if content_type.lower() not in ACCEPTED_MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"{content_type!r} is not a supported picture type; accepted: {ACCEPTED_NAMES}"
        )
    if not filename or len(filename) > 255:
        raise InvalidInput("filename must be 1-255 characters")
    await quotas.check(services, user, size, pending=True)  # from the declared size
    now = utcnow()
    lifetime = timedelta(seconds=services.settings.direct_upload_expiry_seconds)
    upload_id = new_image_id()
    return {
        "id": upload_id,
        "user_id": user.id,
        "key": incoming_key(upload_id, now),
        "filename": filename,
        "content_type": content_type.lower(),
        "size": size,
        "created_at": now,
        "expires_at": now + lifetime,
    }


async def start_upload(
    services: Services, user: User, filename: str, content_type: str, size: int
) -> UploadTicket:
    row = await _checked_row(services, user, filename, content_type, size)
    async with services.metadata.write() as tx:
        await tx.uploads.start_direct(row)
    upload_id, key = str(row["id"]), str(row["key"])
    expires_at = row["expires_at"]
    assert isinstance(expires_at, datetime)
    lifetime = expires_at - utcnow()
    headers = {"Content-Type": content_type.lower()}
    url = await services.store.presign_put(key, lifetime)
    if url is None:  # a store that cannot sign: the origin takes the bytes itself
        expires = math.floor(time.time() + lifetime.total_seconds())
        path = origin_upload_path(upload_id)
        sig = signing.signature(services.secret_key, "PUT", path, expires)
        url = f"{services.settings.public_base_url}{path}?expires={expires}&signature={sig}"
    return UploadTicket(upload_id, url, "PUT", headers, expires_at)


async def start_multipart_upload(
    services: Services, user: User, filename: str, content_type: str, size: int, sha256: str
) -> multipart_uploads.MultipartTicket:
    """A direct upload in parts straight to the bucket (``services.multipart``)."""
    assert services.multipart is not None
    checked_sha256 = multipart_uploads.check_sha256(sha256)
    row = await _checked_row(services, user, filename, content_type, size)
    return await multipart_uploads.start(services, services.multipart, user, row, checked_sha256)


async def resume_upload(
    services: Services, user: User, upload_id: str
) -> multipart_uploads.MultipartTicket:
    """Where a multipart upload stands: the parts the bucket has, URLs for the others."""
    upload = await _load(services, upload_id)
    if upload["user_id"] != user.id or not upload.get("multipart_id"):
        raise NotFound("no such upload in parts")
    if upload["completed_at"] is not None:
        raise Conflict("this upload is already complete")
    if services.multipart is None:
        raise Conflict("this server no longer stores in a bucket that takes uploads in parts")
    return await multipart_uploads.resume(services, services.multipart, upload)


async def _load(services: Services, upload_id: str) -> dict[str, object]:
    async with services.metadata.read() as tx:
        row = await tx.uploads.get_direct(upload_id)
    if row is None:
        raise NotFound("no such upload")
    return row


async def check_origin_upload(
    services: Services, upload_id: str, expires: int, signature: str
) -> tuple[str, int]:
    """For the origin's own upload URL: the key to write and the most bytes to accept."""
    path = origin_upload_path(upload_id)
    if not signing.verify(services.secret_key, "PUT", path, expires, signature, time.time()):
        raise Forbidden("the upload URL is invalid or has expired")
    upload = await _load(services, upload_id)
    if upload["completed_at"] is not None:
        raise Conflict("this upload is already complete")
    return str(upload["key"]), int(str(upload["size"]))


COMPLETION_LEASE = timedelta(minutes=5)


async def complete_upload(
    services: Services, user: User, upload_id: str, details: UploadDetails
) -> tuple[Image, uploads.Outcome]:
    upload = await _load(services, upload_id)
    if upload["user_id"] != user.id:
        raise NotFound("no such upload")
    if upload["image_id"] is None and not await claim_completion(services, upload_id):
        upload = await _load(services, upload_id)  # someone else is completing it, or has
        if upload["image_id"] is None:
            raise Conflict("this upload is being completed right now: try again in a moment")
    if upload["image_id"] is not None:
        async with services.metadata.read() as tx:
            done = await tx.images.get(str(upload["image_id"]))
        if done is not None and done.deleted_at is None:
            return done, uploads.Outcome.REPLAYED
        raise Conflict("this upload was completed and its image has since been deleted")
    try:
        return await _complete_claimed(services, user, upload, details)
    except ShutterboxError as refused:
        if not isinstance(refused, Conflict):  # refused for good: forget the upload
            await _abort_parts(services, upload)
            await services.store.delete(str(upload["key"]))
            async with services.metadata.write() as tx:
                await tx.uploads.forget(upload_id)
        else:
            await release_claim(services, upload_id)
        raise
    except BaseException:
        await release_claim(services, upload_id)
        raise


async def claim_completion(services: Services, upload_id: str) -> bool:
    """Only one request completes an upload at a time (a client may retry while the first
    attempt is still working); a claim left by a crashed node expires."""
    now = utcnow()
    async with services.metadata.write() as tx:
        return await tx.uploads.claim_completion(upload_id, now, now - COMPLETION_LEASE)


async def release_claim(services: Services, upload_id: str) -> None:
    async with services.metadata.write() as tx:
        await tx.uploads.release_claim(upload_id)


async def _complete_claimed(
    services: Services, user: User, upload: dict[str, object], details: UploadDetails
) -> tuple[Image, uploads.Outcome]:
    upload_id, key = str(upload["id"]), str(upload["key"])
    info = await services.store.info(key)
    in_parts = bool(upload.get("multipart_id")) and services.multipart is not None
    if info is None and in_parts:
        assert services.multipart is not None
        await multipart_uploads.join_parts(services, services.multipart, upload)
        info = await services.store.info(key)
    if info is None:
        raise Conflict("the file has not arrived: PUT it to the upload URL first")
    if info.size != upload["size"]:
        raise InvalidInput(
            f"the file that arrived has {info.size} bytes, not the {upload['size']} announced"
        )
    staged = await multipart_uploads.stage_head(services, upload) if in_parts else None
    if staged is None:  # all of it comes back here (in parts: only when it must)
        staged = await _stage_copy(services, key)
        if in_parts and staged.sha256 != multipart_uploads.announced_sha256(upload):
            staged.path.unlink(missing_ok=True)
            raise InvalidInput(
                "the file that arrived is not the one announced: its SHA-256 differs"
            )

    async def mark_completed(tx: WriteTransaction, image: Image) -> None:
        # in the image's own transaction: both or neither
        await tx.uploads.mark_completed(upload_id, image.id, utcnow())

    image, outcome = await uploads.accept_upload(
        services, user, staged, details, incoming_key=key, in_transaction=mark_completed
    )
    if outcome == uploads.Outcome.DUPLICATE:
        await services.store.delete(key)
        async with services.metadata.write() as tx:
            await mark_completed(tx, image)
    return image, outcome


async def _stage_copy(services: Services, key: str) -> StagedFile:
    """A local copy of the uploaded bytes, to check what they really are."""
    with Stager(
        services.staging_dir, services.settings.max_upload_bytes, prefix="direct-"
    ) as stager:
        await stager.write_all(services.store.stream(key))
        try:
            return stager.finish_picture()
        except UnsupportedMediaType:
            await services.store.delete(key)
            raise


async def clean_up_abandoned(services: Services) -> int:
    """Forget direct uploads never completed within their grace period after the URL expired,
    and delete whatever bytes they left in the store. Returns how many."""
    grace = timedelta(seconds=services.settings.direct_upload_grace_seconds)
    cutoff = utcnow() - grace
    async with services.metadata.read() as tx:
        rows = await tx.uploads.abandoned(cutoff, 500)
    for upload_id, key in rows:
        async with services.metadata.read() as tx:
            upload = await tx.uploads.get_direct(upload_id)
        if upload is not None:
            await _abort_parts(services, upload)  # an S3 multipart upload's parts
        await services.store.delete_under(key)  # a resumable (tus) upload's parts
        await services.store.delete(key)
        async with services.metadata.write() as tx:
            await tx.uploads.forget(upload_id, only_incomplete=True)
    return len(rows)


async def _abort_parts(services: Services, upload: dict[str, object]) -> None:
    multipart_id = upload.get("multipart_id")
    if multipart_id and services.multipart is not None:
        await services.multipart.abort(str(upload["key"]), str(multipart_id))
