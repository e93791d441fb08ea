"""Making an image's variants: the work behind a ``process_image`` job.

Idempotent: the variant keys depend only on the image, and the row is written in one
transaction, so running a job twice (a worker died after writing blobs) gives the same
keys and the same row.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from shutterbox.adapters import imaging
from shutterbox.clock import utcnow
from shutterbox.domain.errors import ImageRejected
from shutterbox.domain.images import (
    FORMAT_EXTENSIONS,
    VARIANT_SPECS,
    Image,
    Status,
    Variant,
    formats_for,
    variant_key,
    variant_specs_for,
)
from shutterbox.domain.jobs import JobKind
from shutterbox.ports import Job
from shutterbox.services import metrics
from shutterbox.services.context import Services
from shutterbox.services.job_handler import JobHandler
from shutterbox.services.social.notifications import processing_failed
from shutterbox.services.storage.originals import ensure_replicated, verified_original

log = logging.getLogger(__name__)


async def process_image(services: Services, image_id: str, *, force: bool = False) -> None:
    """Make the variants unless the image already has them (``force``: make them again, e.g.
    after a size or quality change)."""
    async with services.metadata.read() as tx:
        image = await tx.images.get(image_id)
    if image is None or image.deleted_at is not None:
        return
    if not force and image.status == Status.READY and _has_every_variant(services, image):
        return
    started = time.perf_counter()
    try:
        processed = await _make_variants(
            services, image.original_key, image.original_sha256, image.original_bytes
        )
    except ImageRejected as rejected:
        async with services.metadata.write() as tx:
            await tx.images.mark_failed(image_id, rejected.reason, utcnow())
            if image.status == Status.PROCESSING:  # told once, not again by a rerun
                await processing_failed(tx, image.owner_id, image_id)
        metrics.PROCESSING_FAILURES.labels(reason="rejected").inc()
        log.info("image %s rejected: %s", image_id, rejected.reason)
        return

    made: list[Variant] = []
    keys = [
        variant_key(image.id, image.created_at, e.name, FORMAT_EXTENSIONS[e.format])
        for e in processed.variants
    ]
    # Stored side by side: on a local disk their syncs share the filesystem's journal commits
    # (one or two instead of one per file), on an object store the requests overlap.
    await asyncio.gather(
        *(
            services.store.put_bytes(k, e.data)
            for k, e in zip(keys, processed.variants, strict=True)
        )
    )
    for key, encoded in zip(keys, processed.variants, strict=True):
        made.append(
            Variant(
                encoded.name,
                key,
                encoded.media_type,
                encoded.width,
                encoded.height,
                len(encoded.data),
                encoded.sha256,
                encoded.format,
            )
        )
    details = processed.metadata
    fields = {
        "width": processed.width,
        "height": processed.height,
        "taken_at": details.taken_at or image.taken_at,  # an import may bring one
        "camera_make": details.camera_make,
        "camera_model": details.camera_model,
        "lens": details.lens,
        "exposure_time": details.exposure_time,
        "f_number": details.f_number,
        "iso": details.iso,
        "focal_length_mm": details.focal_length_mm,
        "blurhash": processed.blurhash,
        "dominant_color": processed.dominant_color,
        "frames": processed.frames,
        "processed_at": utcnow(),
    }
    async with services.metadata.write() as tx:
        saved = await tx.images.save_processed(image_id, fields, made)
    if not saved:  # deleted while we worked: leave nothing behind
        for variant in made:
            await services.store.delete(variant.key)
        return
    # Made before and not now (a size made twice before sizes were made once, a format no
    # longer chosen): its bytes go; a URL of a size is still answered by the variant that
    # serves that size now (``routers/media.py``).
    kept = {variant.key for variant in made}
    for variant in image.all_variants():
        if variant.key not in kept:
            await services.store.delete(variant.key)
    metrics.PROCESSING_SECONDS.observe(time.perf_counter() - started)


def _has_every_variant(services: Services, image: Image) -> bool:
    """Whether a ready image has every variant its size and kind call for."""
    if image.width is None or image.height is None:
        return False
    sizes = variant_specs_for(max(image.width, image.height), VARIANT_SPECS)
    formats = formats_for(services.settings.formats, image.frames)
    return len(image.all_variants()) == len(sizes) * len(formats)


async def _make_variants(
    services: Services, original_key: str, sha256: str, size: int
) -> imaging.ProcessedImage:
    async def run(path: Path) -> imaging.ProcessedImage:
        result: imaging.ProcessedImage = await services.imaging.call(
            imaging.make_variants,
            path,
            VARIANT_SPECS,
            formats=services.settings.formats,
            jpeg_quality=services.settings.jpeg_quality,
            max_pixels=services.settings.max_pixels,
            animation=imaging.AnimationLimits(
                max_frames=services.settings.max_animation_frames,
                max_pixels=services.settings.max_animation_pixels,
            ),
        )
        return result

    # The original is read whole anyway: its SHA-256 is checked on the way (an upload in parts
    # to the bucket was only announced with it; a damaged copy is not made into variants, and
    # with a replica its copy is read instead). The replica gets its copy now if it has none.
    async with verified_original(services, original_key, sha256) as path:
        await ensure_replicated(services, original_key, size, path)
        return await run(path)


async def mark_failed_after_retries(services: Services, image_id: str, error: str) -> None:
    async with services.metadata.write() as tx:
        image = await tx.images.get(image_id)
        await tx.images.mark_failed(
            image_id, f"processing kept failing and was given up ({error})", utcnow()
        )
        if image is not None and image.status == Status.PROCESSING:
            await processing_failed(tx, image.owner_id, image_id)


async def _run_job(services: Services, job: Job) -> None:
    await process_image(services, job.image_id, force=bool(job.payload.get("force")))


async def _give_up(services: Services, job: Job, error: str) -> None:
    await mark_failed_after_retries(services, job.image_id, error)
    metrics.PROCESSING_FAILURES.labels(reason="gave_up").inc()


# Given up: the image is marked failed, with the reason, so its owner sees it.
JOB = JobHandler(JobKind.PROCESS_IMAGE, _run_job, on_give_up=_give_up)
