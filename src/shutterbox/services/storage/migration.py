"""Copying every blob of the installation's store into another store, so that the service
can be switched over to it (`shutterbox migrate-storage`).

Every blob the source lists is copied under the same key, each through a scratch file
(never whole in memory), a few at a time. A copy counts only once it has been read back
from the target with the source's size and SHA-256; an original is first checked against
its image row (``original_sha256``), and a source copy that does not match is reported, not
copied. Originals keep their storage class where the target has classes; one in an archive
class is written readable, checked, then moved into that class. An archived original with
no readable copy cannot be copied: it is reported (``restore_archived`` asks for its
restore). Both stores' listings and the originals' rows go into the ``MigrationRecord``,
which compares them and hands back the blobs to copy a page at a time: nothing is held
for every blob at once. Each verified blob goes into the record at once, so the same
migration run again, after a kill or while the service keeps writing, copies only what is
new or changed; ``delete`` removes from the target what the source no longer has. Nothing in
the source is ever written.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from shutterbox.domain.errors import InvalidInput
from shutterbox.domain.images import Status
from shutterbox.domain.storage import StorageClass
from shutterbox.ports import BlobArchived, BlobInfo, BlobStore, StorageTiers
from shutterbox.ports.migration import CopiedBlob, MigrationRecord, Original, Unverified
from shutterbox.ports.scrub import ImageBlobs, ScrubQueries
from shutterbox.services.context import Services
from shutterbox.services.storage import restores
from shutterbox.services.storage.blob_hashes import blob_sha256, download_with_sha256

PAGE_SIZE = 500  # image rows, listed blobs or blobs to copy handled at once


@dataclass(frozen=True)
class Place:
    """A blob store and its storage classes (None where the store keeps none)."""

    store: BlobStore
    tiers: StorageTiers | None


class ProblemKind(StrEnum):
    DAMAGED = "damaged"  # an original whose source bytes differ from its row: not copied
    MISSING = "missing"  # a blob a row names that the source does not have
    ARCHIVED = "archived"  # an original in an archive class with no readable copy
    MISMATCH = "mismatch"  # the copy read back from the target differed: removed again
    FAILED = "failed"  # a store refused


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    key: str
    detail: str


@dataclass
class MigrationReport:
    listed: int = 0  # blobs in the source
    copied: int = 0
    copied_bytes: int = 0
    already: int = 0  # verified in the target by an earlier run, not copied again
    vanished: int = 0  # removed from the source while the migration ran
    removed: int = 0  # removed from the target: the source no longer has them
    classes_not_kept: int = 0  # originals outside STANDARD, on a target without classes
    restores_requested: int = 0
    problems: list[Problem] = field(default_factory=list)

    def count(self, kind: ProblemKind) -> int:
        return sum(problem.kind == kind for problem in self.problems)


# blobs copied (or settled otherwise), blobs to copy, bytes copied, bytes to copy
ProgressCallback = Callable[[int, int, int, int], None]


def _quiet(done: int, total: int, done_bytes: int, total_bytes: int) -> None:
    """No progress shown."""


def check_target(source_url: str, target_url: str) -> None:
    """``InvalidInput`` when the target is the source, or lies inside it or around it (the
    one's listing would hold the other's blobs)."""
    source, target = _location(source_url), _location(target_url)
    if source == target:
        raise InvalidInput(f"{target_url} is the installation's own store: nothing to copy")
    shorter, longer = sorted((source, target), key=len)
    if longer[: len(shorter)] == shorter:
        raise InvalidInput(f"{target_url} and the store {source_url} lie one inside the other")


def _location(url: str) -> tuple[str, ...]:
    """A storage URL as (kind, bucket, path parts), local directories resolved."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return ("file", "", *Path(url2pathname(parsed.path)).resolve().parts)
    scheme = {"s3a": "s3", "gcs": "gs", "azure": "az"}.get(parsed.scheme, parsed.scheme)
    return (scheme, parsed.netloc, *filter(None, parsed.path.split("/")))


async def migrate(
    services: Services,
    target: Place,
    record: MigrationRecord,
    scratch_dir: Path,
    *,
    jobs: int = 4,
    delete: bool = False,
    restore_archived: bool = False,
    progress: ProgressCallback = _quiet,
) -> MigrationReport:
    """Copy what the target does not hold verified yet, ``jobs`` blobs at a time."""
    source = Place(services.store, services.tiers)
    report = MigrationReport()
    _remove_scratch_files(scratch_dir, record)  # left by a run that was killed
    record.start_listing()
    await _list(target.store, record.list_target)
    await _list(source.store, record.list_source)
    await _name_originals(services.metadata.scrub_queries(), source.store, record, report)
    report.listed = record.source_count()
    count, total_bytes = record.unverified_totals()
    report.already = report.listed - count
    copier = _Copier(services, source, target, record, scratch_dir, report, restore_archived)
    done = [0, 0]
    progress(0, count, 0, total_bytes)
    copiers = max(1, jobs)
    pending: asyncio.Queue[Unverified | None] = asyncio.Queue(maxsize=PAGE_SIZE)

    async def read_pages() -> None:
        after = ""
        while page := record.unverified(after, PAGE_SIZE):
            after = page[-1].info.key
            for blob in page:
                await pending.put(blob)
        for _ in range(copiers):
            await pending.put(None)

    async def copy_in_turn() -> None:
        while (blob := await pending.get()) is not None:  # each blob is taken once
            await copier.copy(blob)
            done[0] += 1
            done[1] += blob.info.size
            progress(done[0], count, done[1], total_bytes)

    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(read_pages())
        for _ in range(copiers):
            tasks.create_task(copy_in_turn())
    if delete:
        await _remove_extra(source.store, target.store, record, report)
    return report


async def _list(store: BlobStore, into: Callable[[list[BlobInfo]], None]) -> None:
    """The store's listing into the record, a page at a time."""
    page: list[BlobInfo] = []
    async for info in store.list(""):
        page.append(info)
        if len(page) == PAGE_SIZE:
            into(page)
            page = []
    into(page)


async def _name_originals(
    rows: ScrubQueries, store: BlobStore, record: MigrationRecord, report: MigrationReport
) -> None:
    """Every image's original by key, from the rows, into the record. A blob a row names that
    the listing lacks is looked up: stored since the listing, it joins the blobs to copy;
    gone, it is reported missing (after reading the row again)."""
    after = ""
    while page := await rows.images_after(after, PAGE_SIZE):
        after = page[-1].image.id
        record.name_originals((found.image.original_key, _original(found)) for found in page)
        named = {key: found.image.id for found in page for key in _named_keys(found)}
        for key in record.unlisted(list(named)):
            await _look_again(rows, store, named[key], key, record, report)


def _original(found: ImageBlobs) -> Original:
    image = found.image
    return Original(image.id, image.original_bytes, image.original_sha256)


def _named_keys(found: ImageBlobs) -> list[str]:
    """The blobs an image's rows say exist: its original, and its variants once ready."""
    keys = [found.image.original_key]
    if found.image.status == Status.READY:
        keys.extend(variant.key for variant in found.variants)
    return keys


async def _look_again(
    rows: ScrubQueries,
    store: BlobStore,
    image_id: str,
    key: str,
    record: MigrationRecord,
    report: MigrationReport,
) -> None:
    info = await store.info(key)
    if info is not None:
        record.list_source([info])
        return
    fresh = await rows.image(image_id)
    if fresh is not None and key in _named_keys(fresh):
        detail = f"image {image_id}: its row names this blob, the source does not have it"
        report.problems.append(Problem(ProblemKind.MISSING, key, detail))


@dataclass
class _Copier:
    """Copies one blob at a time, checked on both sides; many of them run at once."""

    services: Services
    source: Place
    target: Place
    record: MigrationRecord
    scratch_dir: Path
    report: MigrationReport
    restore_archived: bool

    async def copy(self, blob: Unverified) -> None:
        try:
            await self._copy(blob.info, blob.original)
        except Exception as error:  # reported at the end; the other blobs go on
            first_line = (str(error).strip().splitlines() or [""])[0]
            self._problem(
                ProblemKind.FAILED, blob.info.key, f"{type(error).__name__}: {first_line}"
            )

    async def _copy(self, info: BlobInfo, truth: Original | None) -> None:
        key = info.key
        storage_class: StorageClass | None = StorageClass.STANDARD
        if truth is not None and self.source.tiers is not None:
            storage_class = await self.source.tiers.storage_class(key)
            if storage_class is None:
                self.report.vanished += 1
                return
            tiers = self.source.tiers
            if storage_class.is_archive and not (await tiers.restore_status(key)).readable:
                await self._archived(key, truth, storage_class)
                return
        assert storage_class is not None
        with _scratch_file(self.scratch_dir, self.record) as path:
            try:
                sha256, size = await download_with_sha256(self.source.store, key, path)
            except KeyError:
                self.report.vanished += 1
                return
            except BlobArchived:  # moved to an archive class just now
                await self._archived(key, truth, None)
                return
            if truth is not None and (size, sha256) != (truth.size, truth.sha256):
                self._problem(
                    ProblemKind.DAMAGED,
                    key,
                    f"image {truth.image_id}: the source's copy ({size} bytes) does not match "
                    f"the size and SHA-256 its row records ({truth.size} bytes); not copied: "
                    "restore it from a backup",
                )
                return
            await self._put(key, path, storage_class)
        if not await self._verified(key, size, sha256):
            return
        if storage_class.is_archive and self.target.tiers is not None:
            # Checked while readable; now into its class, with a readable copy as at the source.
            await self.target.tiers.transition(key, storage_class)
            await self.target.tiers.restore(key, self.services.settings.restore_days)
        self.record.add(key, CopiedBlob(size, sha256, info.last_modified.isoformat()))
        self.report.copied += 1
        self.report.copied_bytes += size

    async def _put(self, key: str, path: Path, storage_class: StorageClass) -> None:
        tiers = self.target.tiers
        if storage_class == StorageClass.STANDARD or storage_class.is_archive or tiers is None:
            if tiers is None and storage_class != StorageClass.STANDARD:
                self.report.classes_not_kept += 1
            await self.target.store.put_file(key, path)
        else:
            await tiers.put_file_in_class(key, path, storage_class)

    async def _verified(self, key: str, size: int, sha256: str) -> bool:
        """Whether the target's copy reads back as the source's; one that does not is removed."""
        try:
            found_sha256, found_size = await blob_sha256(self.target.store, key)
        except KeyError:
            found_sha256, found_size = "", -1
        if (found_sha256, found_size) == (sha256, size):
            return True
        await self.target.store.delete(key)
        self._problem(
            ProblemKind.MISMATCH,
            key,
            f"the target's copy read back as {found_size} bytes and another SHA-256 than the "
            f"source's {size} bytes: removed from the target; run again",
        )
        return False

    async def _archived(
        self, key: str, truth: Original | None, storage_class: StorageClass | None
    ) -> None:
        where = f"in {storage_class}" if storage_class is not None else "in an archive class"
        image_id = truth.image_id if truth is not None else "?"
        detail = (
            f"image {image_id}: archived {where} with no readable copy; restore it first "
            "(--restore-archived asks for the restore), then run again"
        )
        self._problem(ProblemKind.ARCHIVED, key, detail)
        if not self.restore_archived or truth is None:
            return
        async with self.services.metadata.read() as tx:
            image = await tx.images.get(truth.image_id)
        if image is not None:
            await restores.request_original(self.services, image)
            self.report.restores_requested += 1

    def _problem(self, kind: ProblemKind, key: str, detail: str) -> None:
        self.report.problems.append(Problem(kind, key, detail))


async def _remove_extra(
    source: BlobStore, target: BlobStore, record: MigrationRecord, report: MigrationReport
) -> None:
    """Remove from the target the blobs the source no longer has (asked once more first)."""
    after = ""
    while page := record.only_in_target(after, PAGE_SIZE):
        after = page[-1]
        for key in page:
            if await source.info(key) is not None:  # stored since the listing
                continue
            await target.delete(key)
            record.forget(key)
            report.removed += 1


@contextlib.contextmanager
def _scratch_file(directory: Path, record: MigrationRecord) -> Iterator[Path]:
    """A new empty file in ``directory``, removed afterwards unless a put consumed it."""
    directory.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=directory, prefix=_scratch_prefix(record))
    os.close(handle)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _remove_scratch_files(directory: Path, record: MigrationRecord) -> None:
    """Those of a migration to the same target (which the record's lock keeps to one)."""
    if directory.is_dir():
        for path in directory.glob(f"{_scratch_prefix(record)}*"):
            path.unlink(missing_ok=True)


def _scratch_prefix(record: MigrationRecord) -> str:
    return f"migrate-{record.path.stem}-"
