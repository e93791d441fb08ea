"""The scrub: every disagreement between the metadata and the bytes, found, and repaired where
that is possible.

What it checks:

* every image row's original (any status, trashed ones too: their bytes are still kept) is
  there with the recorded size and SHA-256, and every variant row of a ``ready`` image
  likewise. Hashes are computed by streaming each blob. An original in an archive storage
  class with no restored copy cannot be read: its existence and size are checked only.
* every blob under ``originals/``, ``variants/`` and ``incoming/`` is referenced by a row:
  an image's original, a variant, an open direct upload, or (for variant keys) an image
  that exists. Unreferenced blobs older than the grace period are orphans; younger ones may
  belong to work in progress (an upload whose row is not committed yet) and are left alone.
* temporary files older than the grace period in the local store's ``.tmp/`` directory and
  in the staging directory (left by a process that died mid-write).

Repair remakes missing or damaged variants from the original (through the processing
service, then checks them again), and deletes orphans and stale temporary files, each
checked once more just before it goes. An original is never rewritten: a missing or damaged
original is reported, to be restored from a backup.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.blobs import LocalBlobStore, TieredBlobStore
from shutterbox.adapters.db.tables import direct_uploads, images, variants
from shutterbox.clock import utcnow
from shutterbox.domain.images import Image, Status, Variant, Visibility
from shutterbox.domain.storage import StorageClass
from shutterbox.ports import BlobArchived, BlobInfo, BlobStore
from shutterbox.services.context import Services
from shutterbox.services.images import processing

log = logging.getLogger(__name__)

PAGE_SIZE = 500  # image rows read at once, and listed keys resolved against the rows at once
BLOB_CONCURRENCY = 8  # blobs checked at the same time
LISTED_PREFIXES = ("originals/", "variants/", "incoming/")

ProgressCallback = Callable[[str, int, int | None], None]
"""Called with a phase ("images", "blobs", "repairs"), how many are done and the total when
it is known (blobs are counted as they are listed)."""


class ProblemKind(StrEnum):
    MISSING_ORIGINAL = "missing_original"
    ORIGINAL_MISMATCH = "original_mismatch"
    MISSING_VARIANT = "missing_variant"
    VARIANT_MISMATCH = "variant_mismatch"
    UNREADABLE = "unreadable"  # the store refused to read a blob a row refers to
    ORPHAN = "orphan"
    STALE_TEMPORARY = "stale_temporary"


@dataclass
class Problem:
    kind: ProblemKind
    key: str  # the blob's key; for a temporary file, its path
    image_id: str | None
    detail: str
    repairable: bool  # whether `scrub --repair` can fix it
    repaired: bool = False


@dataclass
class ScrubReport:
    repair: bool
    grace_seconds: float
    images_checked: int = 0
    blobs_checked: int = 0  # originals and variants compared with their rows
    bytes_hashed: int = 0
    archived_not_hashed: int = 0  # archived originals: existence and size checked only
    blobs_listed: int = 0
    recent_unreferenced: int = 0  # unreferenced blobs younger than the grace: left alone
    recent_temporary: int = 0  # temporary files younger than the grace: left alone
    problems: list[Problem] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Nothing was wrong (a repaired problem was still wrong)."""
        return not self.problems

    @property
    def unresolved(self) -> list[Problem]:
        """What is still wrong and this run could not fix: all unrepairable problems, and
        with ``repair`` every problem the repair did not fix."""
        return [p for p in self.problems if not p.repaired and (self.repair or not p.repairable)]

    @property
    def exit_status(self) -> int:
        """0: nothing was wrong; 1: problems, all repaired (or repairable with --repair);
        2: something cannot be (or was not) repaired."""
        if self.clean:
            return 0
        return 2 if self.unresolved else 1

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(clean=self.clean, exit_status=self.exit_status)
        return data


async def scrub(
    services: Services,
    *,
    repair: bool,
    grace: timedelta,
    progress: ProgressCallback | None = None,
) -> ScrubReport:
    """Check every row against its blobs and every blob against the rows; with ``repair``,
    fix what can be fixed. Nothing younger than ``grace`` is ever reported or removed as
    unreferenced."""
    report = ScrubReport(repair=repair, grace_seconds=grace.total_seconds())
    notify: ProgressCallback = progress or (lambda phase, done, total: None)
    limit = asyncio.Semaphore(BLOB_CONCURRENCY)

    to_remake = await _check_images(services, report, limit, notify)
    await _check_listed_blobs(services, report, grace, notify)
    await _check_temporary_files(services, report, grace)

    if repair:
        repairs = len(to_remake) + sum(p.kind in _REMOVABLE for p in report.problems)
        done = 0

        def advance(count: int = 1) -> None:
            nonlocal done
            done += count
            notify("repairs", done, repairs)

        notify("repairs", 0, repairs)
        await _remake_variants(services, report, to_remake, limit, advance)
        await _remove_orphans(services, report, grace, advance)
        await _remove_temporary_files(report, grace, advance)
    return report


# Rows against blobs.


@dataclass
class _Record:
    image: Image
    variants: list[Variant]


class _State(Enum):
    OK = "ok"
    ARCHIVED = "archived"  # exists with the right size; not readable now, so not hashed
    MISSING = "missing"
    WRONG_SIZE = "wrong size"
    WRONG_HASH = "wrong hash"
    UNREADABLE = "unreadable"


@dataclass
class _BlobCheck:
    state: _State
    hashed: int = 0
    found_size: int | None = None
    error: str = ""


@dataclass
class _ImageCheck:
    problems: list[Problem]
    blobs: int
    hashed: int
    archived: int
    remake: bool  # some variant problem can be fixed by making the variants again


_image_columns = [
    images.c.id,
    images.c.owner_id,
    images.c.status,
    images.c.visibility,
    images.c.created_at,
    images.c.deleted_at,
    images.c.original_key,
    images.c.original_media_type,
    images.c.original_bytes,
    images.c.original_sha256,
    images.c.original_storage_class,
    images.c.original_restore_requested_at,
    images.c.original_restored_until,
]


async def _load(conn: AsyncConnection, *conditions: Any, limit: int) -> list[_Record]:
    rows = (
        await conn.execute(
            select(*_image_columns).where(*conditions).order_by(images.c.id).limit(limit)
        )
    ).all()
    if not rows:
        return []
    by_image: dict[str, list[Variant]] = {row.id: [] for row in rows}
    query = select(variants).where(variants.c.image_id.in_(list(by_image)))
    for v in await conn.execute(query.order_by(variants.c.image_id, variants.c.key)):
        by_image[v.image_id].append(
            Variant(v.name, v.key, v.media_type, v.width, v.height, v.bytes, v.sha256, v.format)
        )
    return [_Record(_image(row), by_image[row.id]) for row in rows]


def _image(row: Any) -> Image:
    return Image(
        id=row.id,
        owner_id=row.owner_id,
        owner_username="",
        status=Status(row.status),
        visibility=Visibility(row.visibility),
        created_at=row.created_at,
        deleted_at=row.deleted_at,
        original_key=row.original_key,
        original_media_type=row.original_media_type,
        original_bytes=row.original_bytes,
        original_sha256=row.original_sha256,
        original_storage_class=StorageClass(row.original_storage_class),
        original_restore_requested_at=row.original_restore_requested_at,
        original_restored_until=row.original_restored_until,
    )


async def _load_one(services: Services, image_id: str) -> _Record | None:
    async with services.db.reader.connect() as conn:
        found = await _load(conn, images.c.id == image_id, limit=1)
    return found[0] if found else None


async def _check_images(
    services: Services, report: ScrubReport, limit: asyncio.Semaphore, notify: ProgressCallback
) -> list[str]:
    """Page through every image row by id; returns the images whose variants can be remade."""
    async with services.db.reader.connect() as conn:
        total = int(await conn.scalar(select(func.count()).select_from(images)) or 0)
    notify("images", 0, total)
    to_remake: list[str] = []
    after = ""
    while True:
        async with services.db.reader.connect() as conn:
            page = await _load(conn, images.c.id > after, limit=PAGE_SIZE)
        if not page:
            return to_remake
        after = page[-1].image.id

        async def one(record: _Record) -> _ImageCheck:
            check = await _check_image(services.store, record, limit)
            if check.problems:  # read the row again: it may have changed while we looked
                check = await _confirm(services, record, check, limit)
            report.images_checked += 1
            notify("images", report.images_checked, total)
            return check

        for record, check in zip(page, await asyncio.gather(*(one(r) for r in page)), strict=True):
            report.blobs_checked += check.blobs
            report.bytes_hashed += check.hashed
            report.archived_not_hashed += check.archived
            report.problems.extend(check.problems)
            if check.remake:
                to_remake.append(record.image.id)


async def _confirm(
    services: Services, first: _Record, check: _ImageCheck, limit: asyncio.Semaphore
) -> _ImageCheck:
    """A reprocessing or a reclaim may have run between reading the row and reading the
    blobs: check once more against a fresh read of the row before reporting anything. The
    counts stay those of the first check."""
    fresh = await _load_one(services, first.image.id)
    if fresh is None:  # reclaimed meanwhile: nothing to report
        return _ImageCheck([], check.blobs, check.hashed, check.archived, remake=False)
    again = await _check_image(services.store, fresh, limit)
    return _ImageCheck(again.problems, check.blobs, check.hashed, check.archived, again.remake)


async def _check_image(store: BlobStore, record: _Record, limit: asyncio.Semaphore) -> _ImageCheck:
    image = record.image
    archived = not image.original_readable(utcnow())
    original = await _check_blob(
        store, image.original_key, image.original_bytes, image.original_sha256, archived, limit
    )
    problems = _original_problems(image, original)
    checks: list[_BlobCheck] = []
    remake = False
    if image.status == Status.READY:
        checks = list(
            await asyncio.gather(
                *(
                    _check_blob(store, v.key, v.bytes, v.sha256, False, limit)
                    for v in record.variants
                )
            )
        )
        why_not = _cannot_remake(image, original)
        for variant, check in zip(record.variants, checks, strict=True):
            problem = _variant_problem(image, variant, check, why_not)
            if problem is not None:
                problems.append(problem)
                remake = remake or problem.repairable
    everything = [original, *checks]
    return _ImageCheck(
        problems,
        blobs=len(everything),
        hashed=sum(c.hashed for c in everything),
        archived=int(original.state == _State.ARCHIVED),
        remake=remake,
    )


def _original_problems(image: Image, check: _BlobCheck) -> list[Problem]:
    key, size = image.original_key, image.original_bytes
    if check.state == _State.MISSING:
        detail = "the original is missing: it cannot be remade; restore it from a backup"
        return [Problem(ProblemKind.MISSING_ORIGINAL, key, image.id, detail, repairable=False)]
    if check.state in (_State.WRONG_SIZE, _State.WRONG_HASH):
        what = (
            f"has {check.found_size} bytes, the row records {size}"
            if check.state == _State.WRONG_SIZE
            else "has the recorded size but not the recorded SHA-256"
        )
        detail = f"the original {what}: it is damaged; restore it from a backup"
        return [Problem(ProblemKind.ORIGINAL_MISMATCH, key, image.id, detail, repairable=False)]
    if check.state == _State.UNREADABLE:
        detail = f"the original could not be read: {check.error}"
        return [Problem(ProblemKind.UNREADABLE, key, image.id, detail, repairable=False)]
    return []


def _cannot_remake(image: Image, original: _BlobCheck) -> str | None:
    """Why the variants cannot be made again now, or None if they can."""
    if original.state == _State.MISSING:
        return "its original is missing"
    if original.state in (_State.WRONG_SIZE, _State.WRONG_HASH):
        return "its original is damaged"
    if original.state == _State.UNREADABLE:
        return "its original cannot be read"
    if original.state == _State.ARCHIVED:
        return "its original is archived: restore it, then run the repair again"
    if image.deleted_at is not None:
        return "the image is in the trash: restore it, then run the repair again"
    return None


def _variant_problem(
    image: Image, variant: Variant, check: _BlobCheck, why_not: str | None
) -> Problem | None:
    name = f"{variant.name} ({variant.format})"
    if check.state == _State.MISSING:
        kind, detail = ProblemKind.MISSING_VARIANT, f"variant {name} is missing"
    elif check.state == _State.WRONG_SIZE:
        kind = ProblemKind.VARIANT_MISMATCH
        detail = f"variant {name} has {check.found_size} bytes, the row records {variant.bytes}"
    elif check.state == _State.WRONG_HASH:
        kind = ProblemKind.VARIANT_MISMATCH
        detail = f"variant {name} has the recorded size but not the recorded SHA-256"
    elif check.state == _State.UNREADABLE:
        detail = f"variant {name} could not be read: {check.error}"
        return Problem(ProblemKind.UNREADABLE, variant.key, image.id, detail, repairable=False)
    else:
        return None
    if why_not is not None:
        detail += f"; it cannot be remade now: {why_not}"
    return Problem(kind, variant.key, image.id, detail, repairable=why_not is None)


async def _check_blob(
    store: BlobStore,
    key: str,
    size: int,
    sha256: str,
    archived: bool,
    limit: asyncio.Semaphore,
) -> _BlobCheck:
    async with limit:
        try:
            if not archived:
                try:
                    digest, length = await _digest(store, key)
                except KeyError:
                    return _BlobCheck(_State.MISSING)
                except BlobArchived:
                    pass  # the store holds it archived after all: check what can be checked
                else:
                    if length != size:
                        return _BlobCheck(_State.WRONG_SIZE, hashed=length, found_size=length)
                    state = _State.OK if digest == sha256 else _State.WRONG_HASH
                    return _BlobCheck(state, hashed=length, found_size=length)
            info = await store.info(key)
        except Exception as error:  # reported, and the scrub goes on
            return _BlobCheck(_State.UNREADABLE, error=f"{type(error).__name__}: {error}")
    if info is None:
        return _BlobCheck(_State.MISSING)
    if info.size != size:
        return _BlobCheck(_State.WRONG_SIZE, found_size=info.size)
    return _BlobCheck(_State.ARCHIVED, found_size=info.size)


async def _digest(store: BlobStore, key: str) -> tuple[str, int]:
    """SHA-256 and length of a blob, streamed: never the whole blob in memory."""
    digest = hashlib.sha256()
    length = 0
    async for chunk in store.stream(key):
        digest.update(chunk)
        length += len(chunk)
    return digest.hexdigest(), length


# Blobs against rows.


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _cutoff(grace: timedelta) -> datetime:
    """Blobs last modified before this are older than the grace period."""
    return utcnow().replace(tzinfo=UTC) - grace


def _owner_id(key: str) -> str | None:
    """The image (or direct upload) id a key is named after, by the key layout."""
    prefix, _, rest = key.partition("/")
    name = rest.rsplit("/", 1)[-1]
    if prefix == "originals":
        return name.split(".", 1)[0] or None
    if prefix == "variants":
        return name.split("-", 1)[0] or None
    if prefix == "incoming":
        return name or None
    return None


def _open_upload(services: Services, now: datetime) -> Any:
    """Direct uploads whose bytes may still be wanted: not completed, and not past their
    expiry plus the grace in which an expired upload can still be completed."""
    kept_after = now - timedelta(seconds=services.settings.direct_upload_grace_seconds)
    return and_(direct_uploads.c.completed_at.is_(None), direct_uploads.c.expires_at > kept_after)


async def _unreferenced(services: Services, keys: Sequence[str]) -> set[str]:
    """The keys no row refers to. Looked up by the id in the key first (primary keys), then
    any key that seems unreferenced is looked up as it is, in case a row names it."""
    now = utcnow()
    image_ids = {
        k: i for k in keys if k.startswith(("originals/", "variants/")) and (i := _owner_id(k))
    }
    upload_ids = {k: i for k in keys if k.startswith("incoming/") and (i := _owner_id(k))}
    async with services.db.reader.connect() as conn:
        originals: dict[str, str] = {}
        if image_ids:
            query = select(images.c.id, images.c.original_key).where(
                images.c.id.in_(sorted(set(image_ids.values())))
            )
            originals = {row.id: row.original_key for row in await conn.execute(query)}
        uploads: dict[str, str] = {}
        if upload_ids:
            query = select(direct_uploads.c.id, direct_uploads.c.key).where(
                direct_uploads.c.id.in_(sorted(set(upload_ids.values()))),
                _open_upload(services, now),
            )
            uploads = {row.id: row.key for row in await conn.execute(query)}

        def referenced(key: str) -> bool:
            if key.startswith("originals/"):
                return originals.get(image_ids.get(key, "")) == key
            if key.startswith("variants/"):  # its image exists: a reprocessing may write it
                return image_ids.get(key) in originals
            if key.startswith("incoming/"):
                return uploads.get(upload_ids.get(key, "")) == key
            return False

        candidates = [k for k in keys if not referenced(k)]
        if not candidates:
            return set()
        named: set[str] = set()
        for query in (
            select(images.c.original_key).where(images.c.original_key.in_(candidates)),
            select(variants.c.key).where(variants.c.key.in_(candidates)),
            select(direct_uploads.c.key).where(
                direct_uploads.c.key.in_(candidates), _open_upload(services, now)
            ),
        ):
            named.update(await conn.scalars(query))
    return set(candidates) - named


async def _check_listed_blobs(
    services: Services, report: ScrubReport, grace: timedelta, notify: ProgressCallback
) -> None:
    notify("blobs", 0, None)
    for prefix in LISTED_PREFIXES:
        batch: list[BlobInfo] = []
        async for info in services.store.list(prefix):
            batch.append(info)
            if len(batch) >= PAGE_SIZE:
                await _classify(services, report, batch, grace)
                notify("blobs", report.blobs_listed, None)
                batch = []
        if batch:
            await _classify(services, report, batch, grace)
            notify("blobs", report.blobs_listed, None)


async def _classify(
    services: Services, report: ScrubReport, batch: list[BlobInfo], grace: timedelta
) -> None:
    report.blobs_listed += len(batch)
    unreferenced = await _unreferenced(services, [info.key for info in batch])
    cutoff = _cutoff(grace)
    for info in batch:
        if info.key not in unreferenced:
            continue
        modified = _aware(info.last_modified)
        if modified >= cutoff:
            report.recent_unreferenced += 1
            continue
        detail = (
            f"no row refers to it ({info.size} bytes, last modified "
            f"{modified:%Y-%m-%d %H:%M:%S} UTC)"
        )
        image_id = _owner_id(info.key) if not info.key.startswith("incoming/") else None
        report.problems.append(
            Problem(ProblemKind.ORPHAN, info.key, image_id, detail, repairable=True)
        )


def _local_stores(store: BlobStore) -> list[LocalBlobStore]:
    if isinstance(store, LocalBlobStore):
        return [store]
    if isinstance(store, TieredBlobStore):
        return [s for s in store.locations.values() if isinstance(s, LocalBlobStore)]
    return []


def _temporary_directories(services: Services) -> list[Path]:
    """Where temporary files are written: each local store's ``.tmp/``, and the staging
    directory."""
    found = [s.staging_dir() for s in _local_stores(services.store)]
    found.append(services.staging_dir)
    return list(dict.fromkeys(p.resolve() for p in found))


def _temporary_files(directories: Iterable[Path]) -> list[tuple[Path, float, int]]:
    files = []
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in directory.rglob("*"):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            if path.is_file():
                files.append((path, stat.st_mtime, stat.st_size))
    return sorted(files)


async def _check_temporary_files(services: Services, report: ScrubReport, grace: timedelta) -> None:
    files = await anyio.to_thread.run_sync(_temporary_files, _temporary_directories(services))
    cutoff = _cutoff(grace).timestamp()
    for path, mtime, size in files:
        if mtime >= cutoff:
            report.recent_temporary += 1
            continue
        modified = datetime.fromtimestamp(mtime, UTC)
        detail = (
            f"a temporary file left by an interrupted write ({size} bytes, last modified "
            f"{modified:%Y-%m-%d %H:%M:%S} UTC)"
        )
        report.problems.append(
            Problem(ProblemKind.STALE_TEMPORARY, str(path), None, detail, repairable=True)
        )


# Repairs.


def _drop(report: ScrubReport, settled: list[Problem]) -> None:
    """Forget problems that turned out not to be problems after all."""
    gone = {id(p) for p in settled}
    report.problems = [p for p in report.problems if id(p) not in gone]


_REMOVABLE = (ProblemKind.ORPHAN, ProblemKind.STALE_TEMPORARY)


async def _remake_variants(
    services: Services,
    report: ScrubReport,
    image_ids: list[str],
    limit: asyncio.Semaphore,
    advance: Callable[[int], None],
) -> None:
    """Make the variants again from the original, then check them again: a problem counts as
    repaired only if the fresh check finds nothing wrong."""
    remaking = asyncio.Semaphore(max(1, services.settings.workers))

    async def one(image_id: str) -> None:
        fixes = [
            p
            for p in report.problems
            if p.image_id == image_id
            and p.repairable
            and p.kind in (ProblemKind.MISSING_VARIANT, ProblemKind.VARIANT_MISMATCH)
        ]
        async with remaking:
            try:
                await processing.process_image(services, image_id, force=True)
            except Exception as error:  # reported, and the repair goes on
                log.warning("remaking the variants of %s failed: %s", image_id, error)
                for problem in fixes:
                    problem.detail += f"; remaking the variants failed: {error}"
                advance(1)
                return
        record = await _load_one(services, image_id)
        if record is None:  # removed meanwhile: nothing is left to be wrong
            for problem in fixes:
                problem.repaired = True
                problem.detail += "; the image was removed meanwhile"
            advance(1)
            return
        check = await _check_image(services.store, record, limit)
        for problem in fixes:
            if check.problems:
                problem.detail += "; still wrong after the variants were made again"
            else:
                problem.repaired = True
                problem.detail += "; the variants were made again"
        advance(1)

    await asyncio.gather(*(one(i) for i in image_ids))


async def _remove_orphans(
    services: Services, report: ScrubReport, grace: timedelta, advance: Callable[[int], None]
) -> None:
    """Delete orphans, each checked again first: still unreferenced, still old."""
    orphans = [p for p in report.problems if p.kind == ProblemKind.ORPHAN]
    settled: list[Problem] = []  # no longer orphans: dropped from the report
    for start in range(0, len(orphans), PAGE_SIZE):
        batch = orphans[start : start + PAGE_SIZE]
        unreferenced = await _unreferenced(services, [p.key for p in batch])
        for problem in batch:
            advance(1)
            if problem.key not in unreferenced:
                settled.append(problem)
                continue
            try:
                info = await services.store.info(problem.key)
                if info is not None and _aware(info.last_modified) >= _cutoff(grace):
                    settled.append(problem)  # written again since it was listed
                    report.recent_unreferenced += 1
                    continue
                if info is not None:
                    await services.store.delete(problem.key)
            except Exception as error:
                problem.detail += f"; removing it failed: {type(error).__name__}: {error}"
                continue
            problem.repaired = True
            problem.detail += "; removed"
    _drop(report, settled)


async def _remove_temporary_files(
    report: ScrubReport, grace: timedelta, advance: Callable[[int], None]
) -> None:
    stale = [p for p in report.problems if p.kind == ProblemKind.STALE_TEMPORARY]
    cutoff = _cutoff(grace).timestamp()

    def remove(problem: Problem) -> bool:
        """False if the file was written again since it was found."""
        path = Path(problem.key)
        try:
            if path.stat().st_mtime >= cutoff:
                return False
            os.unlink(path)
        except FileNotFoundError:
            pass  # gone already: its writer finished or cleaned up
        return True

    settled: list[Problem] = []  # written again since they were found: dropped
    for problem in stale:
        advance(1)
        try:
            removed = await anyio.to_thread.run_sync(remove, problem)
        except OSError as error:
            problem.detail += f"; removing it failed: {error}"
            continue
        if removed:
            problem.repaired = True
            problem.detail += "; removed"
        else:
            settled.append(problem)
            report.recent_temporary += 1
    _drop(report, settled)
