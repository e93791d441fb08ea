"""Direct uploads in parts, straight to an S3 bucket: the bytes never pass through the API.

The client announces the file's size and SHA-256 and gets a presigned URL for each part (the
part size chosen for the file, so that a part lost on a bad link costs little); it PUTs the
parts in any order, and after a drop asks which parts the bucket has (listed there) and sends
the others. Completing checks the parts against the size announced, joins them in the bucket,
and reads only the file's first bytes back to sniff its type and read its dimensions (the whole
file only if its header lies further in, and then its SHA-256 is checked too); the worker that
makes the variants reads every byte anyway and refuses an original whose SHA-256 is not the
one announced. An upload never completed is aborted with the abandoned direct uploads (and
by the bucket's own lifecycle rule, `shutterbox lifecycle apply`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import anyio

from shutterbox.adapters import imaging
from shutterbox.domain.errors import Conflict, ImageRejected, InvalidInput, UnsupportedMediaType
from shutterbox.domain.formats import ACCEPTED_NAMES, SNIFF_BYTES, sniff_format
from shutterbox.domain.images import new_image_id
from shutterbox.domain.users import User
from shutterbox.ports import MultipartUploads, UploadedPart
from shutterbox.services.context import Services
from shutterbox.services.images.staging import StagedFile

MIN_PART_BYTES = 8 * 1024 * 1024  # S3's least is 5 MiB for every part but the last
MAX_PARTS = 1000  # S3 allows 10,000: fewer, larger parts for files over 8 GB
HEAD_BYTES = 256 * 1024  # read back to sniff the type and read the dimensions
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class MultipartTicket:
    id: str
    size: int
    part_size: int
    part_urls: dict[int, str]  # the parts still to send
    received: list[UploadedPart]
    expires_at: datetime


def part_size_for(size: int) -> int:
    """``MIN_PART_BYTES``, or more (in whole MiB) for a file that would need more than
    ``MAX_PARTS`` parts."""
    mib = 1024 * 1024
    return max(MIN_PART_BYTES, math.ceil(size / MAX_PARTS / mib) * mib)


def part_count(size: int, part_size: int) -> int:
    return max(1, math.ceil(size / part_size))


def check_sha256(sha256: str | None) -> str:
    value = (sha256 or "").strip().lower()
    if not _SHA256.match(value):
        raise InvalidInput("sha256 must be the file's SHA-256, 64 hexadecimal digits")
    return value


async def start(
    services: Services,
    multipart: MultipartUploads,
    user: User,
    row: dict[str, object],
    sha256: str,
) -> MultipartTicket:
    """Begin the multipart upload for the checked direct upload ``row`` (not stored yet)."""
    size, key = int(str(row["size"])), str(row["key"])
    part_size = part_size_for(size)
    multipart_id = await multipart.start(key, str(row["content_type"]))
    async with services.metadata.write() as tx:
        await tx.uploads.start_direct(
            {
                **row,
                "multipart_id": multipart_id,
                "details": {"sha256": sha256, "part_size": part_size},
            }
        )
    return await _ticket(services, multipart, {**row, "multipart_id": multipart_id}, [])


async def resume(
    services: Services, multipart: MultipartUploads, row: dict[str, object]
) -> MultipartTicket:
    """Which parts the bucket has, and fresh URLs for the others."""
    received = await multipart.parts(str(row["key"]), str(row["multipart_id"]))
    return await _ticket(services, multipart, row, received)


async def _ticket(
    services: Services,
    multipart: MultipartUploads,
    row: dict[str, object],
    received: list[UploadedPart],
) -> MultipartTicket:
    size = int(str(row["size"]))
    part_size = part_size_for(size)
    count = part_count(size, part_size)
    have = {p.number for p in received}
    sizes = {
        n: part_size if n < count else size - part_size * (count - 1)
        for n in range(1, count + 1)
        if n not in have
    }
    lifetime = timedelta(seconds=services.settings.direct_upload_expiry_seconds)
    urls = await multipart.part_urls(str(row["key"]), str(row["multipart_id"]), sizes, lifetime)
    expires_at = row["expires_at"]
    assert isinstance(expires_at, datetime)
    return MultipartTicket(str(row["id"]), size, part_size, urls, received, expires_at)


async def join_parts(
    services: Services, multipart: MultipartUploads, row: dict[str, object]
) -> None:
    """Check the parts the bucket has against the size announced and join them into the
    object; ``Conflict`` (try again once they are all there) if some are missing."""
    key, multipart_id = str(row["key"]), str(row["multipart_id"])
    size = int(str(row["size"]))
    part_size = part_size_for(size)
    count = part_count(size, part_size)
    parts = await multipart.parts(key, multipart_id)
    missing = sorted(set(range(1, count + 1)) - {p.number for p in parts})
    if missing:
        raise Conflict(
            f"parts {', '.join(map(str, missing[:10]))} have not arrived: send them first"
        )
    for part in parts:
        expected = part_size if part.number < count else size - part_size * (count - 1)
        if part.number > count or part.size != expected:
            raise InvalidInput(
                f"part {part.number} has {part.size} bytes, not the {expected} the size announced "
                "makes it"
            )
    await multipart.complete(key, multipart_id, parts)


async def stage_head(services: Services, row: dict[str, object]) -> StagedFile | None:
    """What checking the joined object needs, read from its first bytes: a staged file of
    those bytes, with the size and SHA-256 announced; None if the picture's header lies
    further in (then the whole object must be read, and its SHA-256 checked)."""
    key, size = str(row["key"]), int(str(row["size"]))
    sha256 = announced_sha256(row)
    head = await services.store.get_range(key, 0, min(size, HEAD_BYTES))
    image_format = sniff_format(head[:SNIFF_BYTES])
    if image_format is None:
        raise UnsupportedMediaType(
            f"the file is not a picture in a supported format; accepted: {ACCEPTED_NAMES}"
        )
    path = Path(services.staging_dir) / f"head-{new_image_id()}"
    path.write_bytes(head)
    try:
        await anyio.to_thread.run_sync(imaging.read_header, path)
    except ImageRejected:
        path.unlink(missing_ok=True)
        return None
    return StagedFile(path, size, sha256, image_format)


def announced_sha256(row: dict[str, object]) -> str:
    return check_sha256(str(_details(row).get("sha256")))


def _details(row: dict[str, object]) -> dict[str, object]:
    details = row.get("details")
    return details if isinstance(details, dict) else {}
