"""What ``scrub --repair`` does with a replica: an original missing or damaged in one store is
copied from the other, where that copy still has the SHA-256 recorded at upload, and the new
copy is read back and checked before the problem counts as repaired."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

import anyio

from shutterbox.domain.images import Image
from shutterbox.domain.storage import StorageClass
from shutterbox.ports import BlobStore
from shutterbox.ports.scrub import ScrubQueries
from shutterbox.services import metrics
from shutterbox.services.context import Services
from shutterbox.services.images.staging import file_sha256
from shutterbox.services.storage.blob_hashes import blob_sha256
from shutterbox.services.storage.replica import ReplicatedStore, replicated_store
from shutterbox.services.storage.scrub.report import COPIES, Problem, ProblemKind, ScrubReport

log = logging.getLogger(__name__)

_TO_REPLICA = (ProblemKind.MISSING_REPLICA, ProblemKind.REPLICA_MISMATCH)


def to_restore(report: ScrubReport) -> list[Problem]:
    return [p for p in report.problems if p.kind in COPIES and p.repairable and not p.repaired]


async def restore_copies(
    services: Services, rows: ScrubQueries, report: ScrubReport, advance: Callable[[int], None]
) -> None:
    """Copy each original a problem names from its good copy to the bad one."""
    replicated = replicated_store(services.store)
    for problem in to_restore(report):
        advance(1)
        if replicated is None or problem.image_id is None:
            continue
        record = await rows.image(problem.image_id)
        if record is None:  # removed meanwhile: nothing is left to be wrong
            problem.repaired = True
            problem.detail += "; the image was removed meanwhile"
            continue
        into_replica = problem.kind in _TO_REPLICA
        try:
            await _copy(services, replicated, record.image, into_replica)
        except Exception as error:  # reported, and the repair goes on
            log.warning("restoring %s failed: %s", problem.key, error)
            problem.detail += f"; restoring it failed: {type(error).__name__}: {error}"
            continue
        problem.repaired = True
        problem.detail += (
            "; copied there again from the first copy"
            if into_replica
            else "; restored from the replica"
        )
        metrics.REPLICA_REPAIRS.labels(copy="replica" if into_replica else "primary").inc()


async def _copy(
    services: Services, replicated: ReplicatedStore, image: Image, into_replica: bool
) -> None:
    key, sha256 = image.original_key, image.original_sha256
    source = replicated.primary if into_replica else replicated.replica
    services.staging_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=services.staging_dir) as scratch:
        path = Path(scratch) / "original"
        await source.download(key, path)
        if await anyio.to_thread.run_sync(file_sha256, path) != sha256:
            raise ValueError("the copy to restore from does not have the recorded SHA-256")
        target = await _put(replicated, image, path, into_replica)
    if target is None:
        return  # put back in an archive class: not readable to check, as in the checks
    digest, _ = await blob_sha256(target, key)
    if digest != sha256:
        raise ValueError("the restored copy does not read back with the recorded SHA-256")


async def _put(
    replicated: ReplicatedStore, image: Image, path: Path, into_replica: bool
) -> BlobStore | None:
    """Store the verified bytes; the store to read them back from (None: an archive class)."""
    key = image.original_key
    if into_replica:
        await replicated.replica.put_file(key, path)
        return replicated.replica
    storage_class = image.original_storage_class
    tiers = replicated.primary_tiers
    if tiers is None or storage_class == StorageClass.STANDARD:
        await replicated.primary.put_file(key, path)
        return replicated.primary
    await tiers.put_file_in_class(key, path, storage_class)
    return None if storage_class.is_archive else replicated.primary
