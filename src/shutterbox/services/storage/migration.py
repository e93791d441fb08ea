"""Copying every blob of the installation's store into another store, so that the service
can be switched over to it (`shutterbox migrate-storage`).

Every blob the source lists is copied under the same key, each through a scratch file
(never whole in memory), a few at a time. A copy counts only once it has been read back
from the target with the source's size and SHA-256; an original is first checked against
its image row (``original_sha256``), and a source copy that does not match is reported, not
copied. Originals keep their storage class where the target has classes; one in an archive
class is written readable, checked, then moved into that class. An archived original with
no readable copy cannot be copied: it is reported (``restore_archived`` asks for its
restore). Each verified blob goes into the ``MigrationRecord`` at once, so the same
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
from shutterbox.ports.scrub import ImageBlobs, ScrubQueries
from shutterbox.services.context import Services
from shutterbox.services.storage import restores
from shutterbox.services.storage.blob_hashes import blob_sha256, download_with_sha256
from shutterbox.services.storage.migration_record import CopiedBlob, MigrationRecord

PAGE_SIZE = 500  # image rows read at once


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


@dataclass(frozen=True)
class Original:
    """What an image's row says of its original: the truth a source copy is checked against."""

    image_id: str
    size: int
    sha256: str


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
    in_target = {info.key: info.size async for info in target.store.list("")}
    in_source = {info.key: info async for info in source.store.list("")}
    originals = await _originals(services.metadata.scrub_queries(), source.store, in_source, report)
    report.listed = len(in_source)
    to_copy = []
    for key, info in sorted(in_source.items()):
        truth = originals.get(key)
        sha256 = truth.sha256 if truth is not None else ""
        modified = info.last_modified.isoformat()
        if record.is_verified(key, info.size, in_target.get(key), modified=modified, sha256=sha256):
            report.already += 1
        else:
            to_copy.append(info)
    copier = _Copier(
        services, source, target, record, scratch_dir, originals, report, restore_archived
    )
    total_bytes = sum(info.size for info in to_copy)
    done = [0, 0]
    progress(0, len(to_copy), 0, total_bytes)
    pending = iter(to_copy)

    async def copy_in_turn() -> None:
        for info in pending:  # shared by every copier: each blob is taken once
            await copier.copy(info)
            done[0] += 1
            done[1] += info.size
            progress(done[0], len(to_copy), done[1], total_bytes)

    await asyncio.gather(*(copy_in_turn() for _ in range(max(1, jobs))))
    if delete:
        await _remove_extra(source.store, target.store, record, in_target, in_source, report)
    return report


async def _originals(
    rows: ScrubQueries,
    store: BlobStore,
    in_source: dict[str, BlobInfo],
    report: MigrationReport,
) -> dict[str, Original]:
    """Every image's original by key, from the rows. A blob a row names that the listing
    lacks is looked up: stored since the listing, it joins the blobs to copy; gone, it is
    reported missing (after reading the row again)."""
    originals: dict[str, Original] = {}
    after = ""
    while page := await rows.images_after(after, PAGE_SIZE):
        after = page[-1].image.id
        for found in page:
            image = found.image
            originals[image.original_key] = Original(
                image.id, image.original_bytes, image.original_sha256
            )
            for key in _named_keys(found):
                if key not in in_source:
                    await _look_again(rows, store, image.id, key, in_source, report)
    return originals


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
    in_source: dict[str, BlobInfo],
    report: MigrationReport,
) -> None:
    info = await store.info(key)
    if info is not None:
        in_source[key] = info
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
    originals: dict[str, Original]
    report: MigrationReport
    restore_archived: bool

    async def copy(self, info: BlobInfo) -> None:
        try:
            await self._copy(info)
        except Exception as error:  # reported at the end; the other blobs go on
            first_line = (str(error).strip().splitlines() or [""])[0]
            self._problem(ProblemKind.FAILED, info.key, f"{type(error).__name__}: {first_line}")

    async def _copy(self, info: BlobInfo) -> None:
        key = info.key
        truth = self.originals.get(key)
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
    source: BlobStore,
    target: BlobStore,
    record: MigrationRecord,
    in_target: dict[str, int],
    in_source: dict[str, BlobInfo],
    report: MigrationReport,
) -> None:
    """Remove from the target the blobs the source no longer has (asked once more first)."""
    for key in sorted(in_target.keys() - in_source.keys()):
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
