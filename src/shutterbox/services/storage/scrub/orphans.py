"""Blobs against rows: every blob under ``originals/``, ``variants/`` and ``incoming/`` is
referenced by a row: an image's original, a variant, an open direct upload, or (for variant
keys) an image that exists. Unreferenced blobs older than the grace period are orphans;
younger ones may belong to work in progress (an upload whose row is not committed yet) and
are left alone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from shutterbox.clock import utcnow
from shutterbox.ports import BlobInfo, BlobStore
from shutterbox.ports.scrub import ScrubQueries
from shutterbox.services.storage.scrub.checks import PAGE_SIZE
from shutterbox.services.storage.scrub.grace import aware, cutoff
from shutterbox.services.storage.scrub.report import (
    Problem,
    ProblemKind,
    ProgressCallback,
    ScrubReport,
)

LISTED_PREFIXES = ("originals/", "variants/", "incoming/")


def owner_id(key: str) -> str | None:
    """The image (or direct upload) id a key is named after, by the key layout."""
    prefix, _, rest = key.partition("/")
    name = rest.rsplit("/", 1)[-1]
    if prefix == "originals":
        return name.split(".", 1)[0] or None
    if prefix == "variants":
        return name.split("-", 1)[0] or None
    if prefix == "incoming":  # incoming/YYYY/MM/DD/<id>, or <id>/part-... of a resumable one
        segments = rest.split("/")
        return segments[3] if len(segments) > 3 and segments[3] else None
    return None


async def unreferenced(
    rows: ScrubQueries, keys: Sequence[str], upload_grace: timedelta
) -> set[str]:
    """The keys no row refers to. Looked up by the id in the key first (primary keys), then
    any key that seems unreferenced is looked up as it is, in case a row names it.

    Direct uploads whose bytes may still be wanted are those not completed and not past
    their expiry plus ``upload_grace``, in which an expired upload can still be completed."""
    kept_after = utcnow() - upload_grace
    image_ids = {
        k: i for k in keys if k.startswith(("originals/", "variants/")) and (i := owner_id(k))
    }
    upload_ids = {k: i for k in keys if k.startswith("incoming/") and (i := owner_id(k))}
    async with rows.key_lookup() as lookup:
        originals = await lookup.original_keys(image_ids.values())
        uploads = await lookup.open_upload_keys(upload_ids.values(), kept_after)

        def referenced(key: str) -> bool:
            if key.startswith("originals/"):
                return originals.get(image_ids.get(key, "")) == key
            if key.startswith("variants/"):  # its image exists: a reprocessing may write it
                return image_ids.get(key) in originals
            if key.startswith("incoming/"):  # the upload's key, or a part under it
                upload_key = uploads.get(upload_ids.get(key, ""))
                return upload_key is not None and (
                    key == upload_key or key.startswith(upload_key + "/")
                )
            return False

        candidates = [k for k in keys if not referenced(k)]
        if not candidates:
            return set()
        named = await lookup.named_keys(candidates, kept_after)
    return set(candidates) - named


async def check_listed_blobs(
    rows: ScrubQueries,
    store: BlobStore,
    report: ScrubReport,
    grace: timedelta,
    upload_grace: timedelta,
    notify: ProgressCallback,
    in_replica: bool = False,
) -> None:
    """Every listed blob of ``store`` (the replica's, with ``in_replica``) against the rows."""
    notify("blobs", 0, None)
    for prefix in LISTED_PREFIXES:
        batch: list[BlobInfo] = []
        async for info in store.list(prefix):
            batch.append(info)
            if len(batch) >= PAGE_SIZE:
                await _classify(rows, report, batch, grace, upload_grace, in_replica)
                notify("blobs", report.blobs_listed, None)
                batch = []
        if batch:
            await _classify(rows, report, batch, grace, upload_grace, in_replica)
            notify("blobs", report.blobs_listed, None)


async def _classify(
    rows: ScrubQueries,
    report: ScrubReport,
    batch: list[BlobInfo],
    grace: timedelta,
    upload_grace: timedelta,
    in_replica: bool,
) -> None:
    report.blobs_listed += len(batch)
    found = await unreferenced(rows, [info.key for info in batch], upload_grace)
    older = cutoff(grace)
    for info in batch:
        if info.key not in found:
            continue
        modified = aware(info.last_modified)
        if modified >= older:
            report.recent_unreferenced += 1
            continue
        detail = (
            ("in the replica: " if in_replica else "")
            + f"no row refers to it ({info.size} bytes, last modified "
            f"{modified:%Y-%m-%d %H:%M:%S} UTC)"
        )
        image_id = owner_id(info.key) if not info.key.startswith("incoming/") else None
        report.problems.append(
            Problem(
                ProblemKind.ORPHAN,
                info.key,
                image_id,
                detail,
                repairable=True,
                in_replica=in_replica,
            )
        )
