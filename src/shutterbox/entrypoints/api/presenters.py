"""Turning domain images into API JSON, with the URLs their bytes are served from."""

from __future__ import annotations

from shutterbox.clock import utcnow
from shutterbox.domain.images import Image
from shutterbox.domain.users import User
from shutterbox.entrypoints.api.schemas import (
    Camera,
    ImagePublic,
    Location,
    OriginalPublic,
    VariantPublic,
)
from shutterbox.services.delivery.media_urls import MediaUrls


def image_public(image: Image, viewer: User | None, urls: MediaUrls) -> ImagePublic:
    is_owner = viewer is not None and viewer.id == image.owner_id
    location = None
    if image.location_name or image.lat is not None:
        location = Location(name=image.location_name, lat=image.lat, lon=image.lon)
    camera: Camera | None = Camera(
        make=image.camera_make,
        model=image.camera_model,
        lens=image.lens,
        exposure_time=image.exposure_time,
        f_number=image.f_number,
        iso=image.iso,
        focal_length_mm=image.focal_length_mm,
    )
    if camera is not None and not camera.model_dump(exclude_none=True):
        camera = None
    return ImagePublic(
        id=image.id,
        owner=image.owner_username,
        status=image.status.value,
        failure_reason=image.failure_reason,
        visibility=image.visibility.value,
        caption=image.caption,
        alt_text=image.alt_text,
        tags=image.tags,
        location=location,
        width=image.width,
        height=image.height,
        taken_at=image.taken_at,
        camera=camera,
        blurhash=image.blurhash,
        dominant_color=image.dominant_color,
        created_at=image.created_at,
        processed_at=image.processed_at,
        variants={
            name: VariantPublic(
                url=urls.for_file(image, name, v.sha256),
                formats={
                    "jpeg": urls.for_file(image, name, v.sha256, v.media_type),
                    **{
                        fmt: urls.for_file(image, name, alt[name].sha256, alt[name].media_type)
                        for fmt, alt in image.alternates.items()
                        if name in alt
                    },
                },
                width=v.width,
                height=v.height,
                bytes=v.bytes,
                content_type=v.media_type,
            )
            for name, v in sorted(image.variants.items(), key=lambda kv: kv[1].width)
        },
        original=OriginalPublic(
            url=urls.for_file(image, "original", image.original_sha256, image.original_media_type),
            bytes=image.original_bytes,
            content_type=image.original_media_type,
            sha256=image.original_sha256,
            storage_class=image.original_storage_class.value,
            downloadable=image.original_readable(utcnow()),
            restored_until=image.original_restored_until,
        )
        if is_owner
        else None,
    )
