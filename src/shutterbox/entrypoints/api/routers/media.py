"""Serving the bytes: variants (public, immutable) and originals (owner only)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Header, Query, Request, Response
from starlette.responses import JSONResponse, StreamingResponse

from shutterbox.clock import utcnow
from shutterbox.domain.errors import Forbidden, NotFound
from shutterbox.domain.images import (
    FORMAT_EXTENSIONS,
    VARIANT_NAMES,
    Image,
    Variant,
    Visibility,
)
from shutterbox.entrypoints.api.conditional import http_date, not_modified, parse_single_range
from shutterbox.entrypoints.api.deps import ServicesDep, request_user
from shutterbox.entrypoints.api.local_files import local_file_response
from shutterbox.entrypoints.http.middleware.egress_metering import MeteredRoute
from shutterbox.entrypoints.http.routing import Router
from shutterbox.ports import BlobStore
from shutterbox.ports.metadata import VariantFiles
from shutterbox.services.albums import shared_view
from shutterbox.services.delivery import shared_media
from shutterbox.services.delivery.media_urls import HASH_CHARS
from shutterbox.services.images import lookup
from shutterbox.services.storage import originals, restores

# The body bytes the media answers send count into the process's egress meter.
router = Router(tags=["media"], route_class=MeteredRoute)

_FILENAME = re.compile(
    rf"^(?P<name>[a-z]+)-(?P<hash>[0-9a-f]{{{HASH_CHARS}}})(\.(?P<ext>[a-z0-9]+))?$"
)
_FORMATS_BY_EXTENSION = {ext: fmt for fmt, ext in FORMAT_EXTENSIONS.items()}
_PREFERENCE = ("avif", "webp")  # over JPEG, when the client says it takes them


def _explicitly_accepted(accept: str) -> set[str]:
    """Image formats the Accept header names with a non-zero quality (a wildcard alone
    gets JPEG, which every client shows)."""
    accepted = set()
    for part in accept.split(","):
        media_range, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and media_range.strip().lower().startswith("image/"):
            accepted.add(media_range.strip().lower().removeprefix("image/"))
    return accepted


IMMUTABLE = "public, max-age=31536000, immutable"
PRIVATE = "private, no-store"


_MEDIA_RESPONSES: dict[int | str, dict[str, str]] = {
    200: {"description": "The bytes"},
    202: {"description": "The original is archived: a restore has started (see Retry-After)"},
    206: {"description": "Part of the bytes (Range)"},
    304: {"description": "Not modified"},
    404: {"description": "No such image or file"},
    416: {"description": "Range not satisfiable"},
}


@router.head(
    "/media/{image_id}/{filename}",
    response_class=Response,
    responses=_MEDIA_RESPONSES,
    operation_id="read_media_headers",
)
@router.get(
    "/media/{image_id}/{filename}",
    response_class=Response,
    responses=_MEDIA_RESPONSES,
    operation_id="read_media",
)
async def read_media(
    image_id: str,
    filename: str,
    request: Request,
    services: ServicesDep,
    range_header: Annotated[str | None, Header(alias="range")] = None,
    expires: Annotated[int | None, Query(description="Signed URLs: expiry (Unix time).")] = None,
    signature: Annotated[str | None, Query(max_length=128, description="Signed URLs.")] = None,
    share: Annotated[
        str | None, Query(max_length=64, description="Media seen through a share link: its id.")
    ] = None,
) -> Response:
    """A variant (public ones: immutable, for every cache) or the original (its owner, or a
    signed URL). A public variant costs one indexed look-up and no check of who asks."""
    match = _FILENAME.match(filename)
    if match is None:
        raise NotFound("no such file")
    name = match["name"]
    if name == "original":
        image = await lookup.find_image(services, image_id)
        if image is None or image.deleted_at is not None:
            raise NotFound("no such image")
        if share is not None:
            raise NotFound("a share link never shows an original")
        access = Access(image.owner_id, image.visibility, is_variant=False)
        cache_control = await _cache_control(access, request, services, expires, signature)
        if match["ext"] is None or not image.original_sha256.startswith(match["hash"]):
            raise NotFound("no such file")
        if not image.original_readable(utcnow()):
            return await _restore_first(services, image)
        found = File(image.original_key, image.original_sha256, image.original_media_type)
        store = await originals.serving_store(services, found.key, found.sha256)
        return await _send(
            store, services, request, found, image.created_at, cache_control, None, range_header
        )
    files = await _variant_files(services, image_id, name)
    if files is None or files.deleted:
        raise NotFound("no such image")
    if share is not None:
        cache_control = await _shared_cache_control(
            services, request.url.path, image_id, share, expires, signature
        )
    else:
        access = Access(files.owner_id, files.visibility, is_variant=True)
        cache_control = await _cache_control(access, request, services, expires, signature)
    chosen, vary = _choose(files, match["hash"], match["ext"], request.headers.get("accept", ""))
    found = File(chosen.key, chosen.sha256, chosen.media_type)
    return await _send(
        services.store,
        services,
        request,
        found,
        files.last_modified,
        cache_control,
        vary,
        range_header,
    )


async def _variant_files(services: ServicesDep, image_id: str, name: str) -> VariantFiles | None:
    """The files of the variant ``name``, or where the picture is too small to need that
    size, of the largest smaller one that serves it (``Image.sized_variants``): an image
    processed when such a size was still made twice keeps its URL, whose hash is that of the
    same bytes. A second look-up only on such a miss."""
    files = await lookup.variant_files(services, image_id, name)
    if files is None or files.deleted or files.formats or name not in VARIANT_NAMES:
        return files
    for smaller in reversed(VARIANT_NAMES[: VARIANT_NAMES.index(name)]):
        found = await lookup.variant_files(services, image_id, smaller)
        if found is not None and found.formats:
            return found
    return files


@dataclass(frozen=True)
class Access:
    owner_id: int
    visibility: Visibility
    is_variant: bool


@dataclass(frozen=True)
class File:
    key: str
    sha256: str
    media_type: str


async def _cache_control(
    access: Access,
    request: Request,
    services: ServicesDep,
    expires: int | None,
    signature: str | None,
) -> str:
    """Who may have the file, as a Cache-Control value; NotFound or Forbidden for anyone
    else. Public variants: everyone and every cache. Private images and originals: the
    owner (never cached), or whoever holds a signed URL (cached privately, never past it)."""
    if access.visibility == Visibility.PUBLIC and access.is_variant:
        return IMMUTABLE
    viewer = await request_user(request)
    if viewer is not None and viewer.id == access.owner_id:
        return PRIVATE
    if signature is None or expires is None:
        raise NotFound("no such image")
    if not services.media_urls.verify(request.url.path, expires, signature):
        raise Forbidden("the link is invalid or has expired")
    remaining = max(0, int(expires - time.time()))
    return f"private, max-age={min(remaining, 3600)}"


async def _shared_cache_control(
    services: ServicesDep,
    path: str,
    image_id: str,
    share_id: str,
    expires: int | None,
    signature: str | None,
) -> str:
    """A variant seen through a share link: the URL signed for that link, and the link still
    live and showing the image (checked on every request: a revoked link's media stop at
    once). Kept privately by the browser for a minute, never by an edge."""
    if signature is None or expires is None:
        raise NotFound("no such image")
    if not shared_media.verify(services.media_urls, path, share_id, expires, signature):
        raise Forbidden("the link is invalid or has expired")
    await shared_view.check_media(services, share_id, image_id)
    remaining = max(0, int(expires - time.time()))
    return f"private, max-age={min(remaining, shared_media.SHARED_MAX_AGE_SECONDS)}"


def _choose(
    files: VariantFiles, wanted_hash: str, extension: str | None, accept: str
) -> tuple[Variant, str | None]:
    """The file a variant URL names, and the Vary header its answer needs."""
    jpeg = files.formats.get("jpeg")
    if jpeg is None:
        raise NotFound("no such variant (the image may still be processing)")
    if extension is None:  # negotiated: named by its JPEG, served in the best format
        if not jpeg.sha256.startswith(wanted_hash):
            raise NotFound("this URL is out of date: read the image again for the current one")
        accepted = _explicitly_accepted(accept)
        for fmt in _PREFERENCE:
            alternate = files.formats.get(fmt)
            if fmt in accepted and alternate is not None:
                return alternate, "Accept"
        return jpeg, "Accept"
    explicit = _FORMATS_BY_EXTENSION.get(extension)
    found = files.formats.get(explicit) if explicit else None
    if found is None or not found.sha256.startswith(wanted_hash):
        raise NotFound("no such file, or this URL is out of date")
    return found, None


async def _send(
    store: BlobStore,
    services: ServicesDep,
    request: Request,
    found: File,
    last_modified: datetime,
    cache_control: str,
    vary: str | None,
    range_header: str | None,
) -> Response:
    headers = {
        "etag": f'"{found.sha256}"',
        "last-modified": http_date(last_modified),
        "cache-control": cache_control,
        "x-content-type-options": "nosniff",
        "accept-ranges": "bytes",
    }
    if vary:
        headers["vary"] = vary
    if not_modified(request.headers, headers["etag"], last_modified):
        return Response(status_code=304, headers=headers)

    redirect_seconds = services.settings.media_redirect_seconds
    if redirect_seconds and request.method == "GET":
        signed = await store.presign_get(found.key, timedelta(seconds=redirect_seconds))
        if signed is not None:  # the store serves the bytes; the redirect must not outlive it
            return Response(
                status_code=307,
                headers={
                    "location": signed,
                    "cache-control": f"private, max-age={max(1, redirect_seconds // 2)}",
                },
            )
    path = store.local_path(found.key)
    if path is not None:
        accel = services.settings.media_accel_redirect
        return await local_file_response(path, found.media_type, headers, request, accel)
    return await _ranged_from_store(
        store, found.key, found.media_type, headers, range_header, request.method == "HEAD"
    )


async def _restore_first(services: ServicesDep, image: Image) -> Response:
    """An archived original: start a restore and tell the client when to ask again."""
    await restores.request_original(services, image)
    storage_class = image.original_storage_class.value
    return JSONResponse(
        {
            "detail": f"The original is archived in {storage_class} storage. A restore has "
            "started; it can be downloaded once the restore finishes "
            f"(then for {services.settings.restore_days} days).",
            "code": "restoring",
            "storage_class": storage_class,
        },
        status_code=202,
        headers={
            "retry-after": str(restores.retry_after_seconds(services)),
            "cache-control": PRIVATE,
        },
    )


async def _ranged_from_store(
    store: BlobStore,
    key: str,
    media_type: str,
    headers: dict[str, str],
    range_header: str | None,
    head_only: bool,
) -> Response:
    info = await store.info(key)
    if info is None:
        raise NotFound("the file is missing from the store")
    wanted = parse_single_range(range_header, info.size)
    if wanted == "unsatisfiable":
        return Response(
            status_code=416, headers={**headers, "content-range": f"bytes */{info.size}"}
        )
    if isinstance(wanted, tuple):
        start, end = wanted
        body = b"" if head_only else await store.get_range(key, start, end)
        return Response(
            body,
            status_code=206,
            media_type=media_type,
            headers={
                **headers,
                "content-range": f"bytes {start}-{end - 1}/{info.size}",
                "content-length": str(end - start),
            },
        )
    full = {**headers, "content-length": str(info.size)}
    if head_only:
        return Response(b"", media_type=media_type, headers=full)
    return StreamingResponse(store.stream(key), media_type=media_type, headers=full)
