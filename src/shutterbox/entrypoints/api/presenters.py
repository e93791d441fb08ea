"""Turning domain images into API JSON, with the URLs their bytes are served from.

``image_json`` is the one mapping: it builds the JSON value of ``ImagePublic`` directly (no
model validated and dumped again per image), so that a page of images costs a few dict
literals each. ``image_public`` validates that same value into the model for the routes that
answer one image, and a test checks that both agree with the schema."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_json
from starlette.responses import Response

from shutterbox.clock import utcnow
from shutterbox.domain.images import Image, Visibility
from shutterbox.domain.users import User
from shutterbox.entrypoints.api.schemas import ImagePublic
from shutterbox.services.delivery.media_urls import MediaUrls, media_path, negotiated_path

_CAMERA_FIELDS = (
    ("make", "camera_make"),
    ("model", "camera_model"),
    ("lens", "lens"),
    ("exposure_time", "exposure_time"),
    ("f_number", "f_number"),
    ("iso", "iso"),
    ("focal_length_mm", "focal_length_mm"),
)


def timestamp(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC, as the schema's ``Timestamp`` writes it (naive means UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat() + "Z"


# The ``variants`` JSON of public images, by image, processing time, base URL and the JPEGs'
# checksums: what it is made of never changes for one key (an image's variants are replaced
# only with a new ``processed_at``, see ``adapters/db/variant_cache.py``), so a list shown
# again costs a dictionary look-up per image. Private images' URLs are signed and expire:
# they are made each time. Shared: never modified.
_PUBLIC_VARIANTS: dict[tuple[str, datetime, str, tuple[str, ...]], dict[str, Any]] = {}
_PUBLIC_VARIANTS_KEPT = 20_000


def _variants(image: Image, urls: MediaUrls) -> dict[str, Any]:
    if image.visibility != Visibility.PUBLIC or image.processed_at is None:
        return _variants_json(image, urls)
    made = tuple(v.sha256 for v in image.variants.values())
    key = (image.id, image.processed_at, urls.cdn_base or urls.origin_base, made)
    shown = _PUBLIC_VARIANTS.get(key)
    if shown is None:
        if len(_PUBLIC_VARIANTS) >= _PUBLIC_VARIANTS_KEPT:
            del _PUBLIC_VARIANTS[next(iter(_PUBLIC_VARIANTS))]  # the oldest entry
        shown = _PUBLIC_VARIANTS[key] = _variants_json(image, urls)
    return shown


def _variants_json(image: Image, urls: MediaUrls) -> dict[str, Any]:
    public = image.visibility == Visibility.PUBLIC
    base = (urls.cdn_base or urls.origin_base) if public else ""

    def url(path: str) -> str:  # public variants: a plain path under one base, built once
        return base + path if public else urls.origin_base + urls.signed(path)

    return variants_with(image, url)


def variants_with(image: Image, url: Callable[[str], str]) -> dict[str, Any]:
    """The ``variants`` of an image's JSON, each media path made a URL by ``url``: every
    size by name, smallest first; a size the picture is too small to need names the
    largest smaller one (``Image.sized_variants``), so its URLs and width are that one's."""
    shown: dict[str, Any] = {}
    for name, v in image.sized_variants().items():
        formats = {"jpeg": url(media_path(image.id, v.name, v.sha256, v.media_type))}
        for fmt, alternates in image.alternates.items():
            alternate = alternates.get(v.name)
            if alternate is not None:
                formats[fmt] = url(
                    media_path(image.id, v.name, alternate.sha256, alternate.media_type)
                )
        shown[name] = {
            "url": url(negotiated_path(image.id, v.name, v.sha256)),
            "formats": formats,
            "width": v.width,
            "height": v.height,
            "bytes": v.bytes,
            "content_type": v.media_type,
        }
    return shown


def image_json(
    image: Image, viewer: User | None, urls: MediaUrls, *, liked: bool = False
) -> dict[str, Any]:
    """The JSON value of ``ImagePublic`` for ``image`` as ``viewer`` sees it (``liked``:
    whether the viewer likes it; always the last member, see ``_item_json``)."""
    location = None
    if image.location_name or image.lat is not None:
        location = {"name": image.location_name, "lat": image.lat, "lon": image.lon}
    camera: dict[str, Any] | None = {key: getattr(image, attr) for key, attr in _CAMERA_FIELDS}
    if camera is not None and all(value is None for value in camera.values()):
        camera = None
    original = None
    if viewer is not None and viewer.id == image.owner_id:
        original = {
            "url": urls.for_file(
                image, "original", image.original_sha256, image.original_media_type
            ),
            "bytes": image.original_bytes,
            "content_type": image.original_media_type,
            "sha256": image.original_sha256,
            "storage_class": image.original_storage_class.value,
            "downloadable": image.original_readable(utcnow()),
            "restored_until": timestamp(image.original_restored_until),
        }
    return {
        "id": image.id,
        "owner": image.owner_username,
        "status": image.status.value,
        "failure_reason": image.failure_reason,
        "visibility": image.visibility.value,
        "caption": image.caption,
        "alt_text": image.alt_text,
        "tags": image.tags,
        "location": location,
        "width": image.width,
        "height": image.height,
        "taken_at": image.taken_at.isoformat() if image.taken_at else None,
        "camera": camera,
        "blurhash": image.blurhash,
        "dominant_color": image.dominant_color,
        "animated": image.animated,
        "created_at": timestamp(image.created_at),
        "processed_at": timestamp(image.processed_at),
        "variants": _variants(image, urls),
        "original": original,
        "likes": image.like_count,
        "comments": image.comment_count,
        "liked_by_me": liked,
    }


def image_public(
    image: Image, viewer: User | None, urls: MediaUrls, *, liked: bool = False
) -> ImagePublic:
    return ImagePublic.model_validate(image_json(image, viewer, urls, liked=liked))


# The JSON of public images as anyone but their owner sees it, by image, row version and base
# URL: an image's row version changes with anything the JSON shows (``adapters/db/
# image_cache.py``), so an entry never goes stale. Shared: never modified.
_PUBLIC_JSON: dict[tuple[str, int, str], bytes] = {}
_PUBLIC_JSON_KEPT = 20_000


_NOT_LIKED, _LIKED = b'"liked_by_me":false}', b'"liked_by_me":true}'


def _item_json(image: Image, viewer: User | None, urls: MediaUrls, liked: bool) -> bytes:
    if (
        image.version is None
        or image.visibility != Visibility.PUBLIC
        or (viewer is not None and viewer.id == image.owner_id)
    ):
        return to_json(image_json(image, viewer, urls, liked=liked))
    key = (image.id, image.version, urls.cdn_base or urls.origin_base)
    shown = _PUBLIC_JSON.get(key)
    if shown is None:
        if len(_PUBLIC_JSON) >= _PUBLIC_JSON_KEPT:
            del _PUBLIC_JSON[next(iter(_PUBLIC_JSON))]  # the oldest entry
        shown = _PUBLIC_JSON[key] = to_json(image_json(image, None, urls))
    if liked:  # the one member that depends on the viewer is the last one
        return shown[: -len(_NOT_LIKED)] + _LIKED
    return shown


def page_response(
    images: list[Image],
    next_cursor: str | None,
    viewer: User | None,
    urls: MediaUrls,
    liked: Collection[str] = (),
) -> Response:
    """An ``ImagePage`` answer, written straight to JSON (pydantic's own encoder), each
    public image's part made once per version; ``liked``: the ids of those the viewer likes
    (``services.social.likes.liked_among``, one query for the page)."""
    items = b",".join(_item_json(image, viewer, urls, image.id in liked) for image in images)
    body = b'{"items":[' + items + b'],"next_cursor":' + to_json(next_cursor) + b"}"
    return Response(body, media_type="application/json")
