"""Taking a user's photos out: their originals with a sidecar of details each, as one tar.

The archive (``domain.export_archive``) is planned, not built: a list of segments, each
either bytes held here (headers, sidecars, padding: a few hundred bytes an image) or an
original read from the store when its turn comes. The plan gives the exact length and an
ETag before a byte is sent, and any range of the archive is read from the segments it
covers, so a download can be resumed and nothing the size of the archive is ever held in
memory or written to disk.

The user's live images (not in the trash) are paged through oldest first. An original in
an archive storage class that has no restored copy cannot be read: by default the export
is refused (``Conflict``, naming how many) and restores are started for them; with
``skip_archived`` they are left out and listed in the archive's top-level JSON. A failed
image is in it when its original can be read, listed there otherwise.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

from shutterbox.clock import utcnow
from shutterbox.domain import export_archive as layout
from shutterbox.domain.errors import Conflict
from shutterbox.domain.images import Image, Status
from shutterbox.domain.users import User
from shutterbox.ports.metadata import Position
from shutterbox.services.context import Services
from shutterbox.services.storage import restores

log = logging.getLogger(__name__)

PAGE = 500  # images read from the database at a time
READ_BYTES = 1 << 20  # the largest piece of an original asked of the store at once


class ExportBroken(Exception):
    """An original no longer matches the plan (removed or changed while it was sent): the
    archive cannot go on, the download stops short and a new request makes a new plan."""


@dataclass(frozen=True)
class Segment:
    offset: int
    size: int
    data: bytes | None = None  # held here
    key: str | None = None  # an original, read from the store


@dataclass
class ExportPlan:
    username: str
    segments: list[Segment] = field(default_factory=list)
    size: int = 0
    etag: str = ""
    count: int = 0
    not_included: list[dict[str, str]] = field(default_factory=list)
    _offsets: list[int] = field(default_factory=list)

    @property
    def filename(self) -> str:
        return f"shutterbox-export-{self.username}.tar"

    def add_bytes(self, data: bytes) -> None:
        if not data:
            return
        last = self.segments[-1] if self.segments else None
        if last is not None and last.data is not None:  # one segment for bytes in a row
            self.segments[-1] = Segment(last.offset, last.size + len(data), last.data + data)
        else:
            self._append(Segment(self.size, len(data), data=data))
        self.size += len(data)

    def add_original(self, key: str, size: int) -> None:
        if size:
            self._append(Segment(self.size, size, key=key))
            self.size += size

    def _append(self, segment: Segment) -> None:
        self.segments.append(segment)
        self._offsets.append(segment.offset)

    def first_segment_at(self, offset: int) -> int:
        return bisect.bisect_right(self._offsets, offset) - 1


async def plan_export(services: Services, user: User, *, skip_archived: bool = False) -> ExportPlan:
    """The archive of ``user``'s images, planned; ``Conflict`` if some originals are archived
    and not ``skip_archived`` (their restores are started, so that a later try succeeds)."""
    now = utcnow()
    included: list[Image] = []
    archived: list[Image] = []
    plan = ExportPlan(user.username)
    async for image in _library(services, user):
        if not image.original_readable(now):
            archived.append(image)
        elif image.status == Status.FAILED and not await _original_present(services, image):
            plan.not_included.append(_left_out(image, "failed, and its original is missing"))
        else:
            included.append(image)
    if archived and not skip_archived:
        for image in archived:
            await restores.request_original(services, image)
        raise Conflict(
            f"{len(archived)} of your originals are in archive storage and need a restore "
            "before they can be exported: the restores have started, try again in a few "
            "hours, or export without them (skip_archived)"
        )
    for image in archived:
        storage_class = image.original_storage_class.value
        plan.not_included.append(_left_out(image, f"archived in {storage_class}, not restored"))
    as_of = max((_newest_time(image) for image in included), default=user.created_at)
    plan.count = len(included)
    manifest = layout.manifest(user.username, as_of, plan.count, plan.not_included)
    _add_member(plan, layout.MANIFEST_NAME, manifest, as_of)
    for image in included:
        _add_member(plan, layout.sidecar_member(image), layout.sidecar(image), image.created_at)
        name = layout.original_member(image)
        plan.add_bytes(layout.header(name, image.original_bytes, image.created_at))
        plan.add_original(image.original_key, image.original_bytes)
        plan.add_bytes(layout.padding(image.original_bytes))
    plan.add_bytes(layout.end_of_archive(plan.size))
    plan.etag = _etag(plan)
    return plan


async def _library(services: Services, user: User) -> AsyncIterator[Image]:
    after: Position | None = None
    while True:
        async with services.metadata.read() as tx:
            page = await tx.images.library_page(user.id, after=after, limit=PAGE)
        for image in page:
            yield image
        if len(page) < PAGE:
            return
        after = (page[-1].created_at, page[-1].id)


async def _original_present(services: Services, image: Image) -> bool:
    info = await services.store.info(image.original_key)
    return info is not None and info.size == image.original_bytes


def _left_out(image: Image, reason: str) -> dict[str, str]:
    return {"id": image.id, "reason": reason}


def _newest_time(image: Image) -> datetime:
    return max(image.created_at, image.processed_at or image.created_at)


def _add_member(plan: ExportPlan, name: str, data: bytes, mtime: datetime) -> None:
    plan.add_bytes(layout.header(name, len(data), mtime))
    plan.add_bytes(data)
    plan.add_bytes(layout.padding(len(data)))


def _etag(plan: ExportPlan) -> str:
    """A strong validator of the archive's bytes: every byte held here (headers name each
    member with its size and time, sidecars hold each original's SHA-256 and details)."""
    digest = hashlib.sha256()
    for segment in plan.segments:
        if segment.data is not None:
            digest.update(segment.data)
        else:
            digest.update(f"\0{segment.key}\0{segment.size}\0".encode())
    return f'"{digest.hexdigest()[:40]}"'


async def read_range(
    services: Services, plan: ExportPlan, start: int = 0, end: int | None = None
) -> AsyncIterator[bytes]:
    """The archive's bytes ``start`` up to (not including) ``end`` (default: its end), read
    from the segments that range covers only. ``ExportBroken`` if an original does not
    have the size the plan was made with."""
    end = plan.size if end is None else min(end, plan.size)
    position = start
    index = plan.first_segment_at(start)
    while position < end:
        segment = plan.segments[index]
        low, high = position - segment.offset, min(segment.size, end - segment.offset)
        if segment.data is not None:
            yield segment.data[low:high]
        else:
            assert segment.key is not None
            async for chunk in _original_part(services, segment, low, high):
                yield chunk
        position = segment.offset + high
        index += 1


async def _original_part(
    services: Services, segment: Segment, low: int, high: int
) -> AsyncIterator[bytes]:
    key = segment.key
    assert key is not None
    sent = 0
    try:
        if low == 0 and high == segment.size:  # the whole original: one streamed read
            async for chunk in services.store.stream(key):
                sent += len(chunk)
                if sent > segment.size:
                    break
                yield chunk
        else:
            while low + sent < high:
                wanted = min(READ_BYTES, high - low - sent)
                chunk = await services.store.get_range(key, low + sent, low + sent + wanted)
                if len(chunk) != wanted:
                    break
                sent += len(chunk)
                yield chunk
    except KeyError as missing:
        raise ExportBroken(f"{key} is no longer in the store") from missing
    if sent != high - low:
        log.warning("export: %s does not have its recorded size %d", key, segment.size)
        raise ExportBroken(f"{key} does not have the size recorded for it")
