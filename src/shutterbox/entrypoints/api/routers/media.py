"""Serving the bytes: variants (public, immutable) and originals (owner only)."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from starlette.responses import FileResponse, JSONResponse, StreamingResponse

from shutterbox.clock import utcnow
from shutterbox.domain.errors import Forbidden, NotFound
from shutterbox.domain.images import FORMAT_EXTENSIONS, Image, Visibility
from shutterbox.entrypoints.api.conditional import http_date, not_modified, parse_single_range
from shutterbox.entrypoints.api.deps import OptionalUser, ServicesDep
from shutterbox.entrypoints.http.middleware.egress_metering import MeteredRoute
from shutterbox.services.delivery.media_urls import HASH_CHARS
from shutterbox.services.images import lookup
from shutterbox.services.storage import restores

# The body bytes the media answers send count into the process's egress meter.
router = APIRouter(tags=["media"], route_class=MeteredRoute)

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
    viewer: OptionalUser,
    range_header: Annotated[str | None, Header(alias="range")] = None,
    expires: Annotated[int | None, Query(description="Signed URLs: expiry (Unix time).")] = None,
    signature: Annotated[str | None, Query(max_length=128, description="Signed URLs.")] = None,
) -> Response:
    match = _FILENAME.match(filename)
    if match is None:
        raise NotFound("no such file")
    image = await lookup.find_image(services, image_id)
    if image is None or image.deleted_at is not None:
        raise NotFound("no such image")
    name = match["name"]
    owner = viewer is not None and viewer.id == image.owner_id
    public_file = image.visibility == Visibility.PUBLIC and name != "original"
    cache_control = IMMUTABLE
    if not public_file and not owner:
        # private images and originals: the owner, or whoever holds a signed URL
        if signature is None or expires is None:
            raise NotFound("no such image")
        if not services.media_urls.verify(request.url.path, expires, signature):
            raise Forbidden("the link is invalid or has expired")
        remaining = max(0, int(expires - time.time()))
        cache_control = f"private, max-age={min(remaining, 3600)}"  # never past the signature
    elif not public_file:
        cache_control = PRIVATE
    vary: str | None = None
    if name == "original":
        if match["ext"] is None or not image.original_sha256.startswith(match["hash"]):
            raise NotFound("no such file")
        key, sha256 = image.original_key, image.original_sha256
        media_type = image.original_media_type
        if not image.original_readable(utcnow()):
            return await _restore_first(services, image)
    else:
        jpeg = image.variant(name)
        if jpeg is None:
            raise NotFound("no such variant (the image may still be processing)")
        if match["ext"] is None:  # negotiated: named by its JPEG, served in the best format
            if not jpeg.sha256.startswith(match["hash"]):
                raise NotFound("this URL is out of date: read the image again for the current one")
            vary = "Accept"
            accepted = _explicitly_accepted(request.headers.get("accept", ""))
            chosen = jpeg
            for fmt in _PREFERENCE:
                alternate = image.variant(name, fmt)
                if fmt in accepted and alternate is not None:
                    chosen = alternate
                    break
        else:
            explicit = _FORMATS_BY_EXTENSION.get(match["ext"])
            found = image.variant(name, explicit) if explicit else None
            if found is None or not found.sha256.startswith(match["hash"]):
                raise NotFound("no such file, or this URL is out of date")
            chosen = found
        key, sha256, media_type = chosen.key, chosen.sha256, chosen.media_type

    last_modified = image.processed_at if name != "original" else image.created_at
    last_modified = last_modified or image.created_at
    headers = {
        "etag": f'"{sha256}"',
        "last-modified": http_date(last_modified),
        "cache-control": cache_control,
        "x-content-type-options": "nosniff",
        "accept-ranges": "bytes",
    }
    if vary:
        headers["vary"] = vary
    if not_modified(dict(request.headers), headers["etag"], last_modified):
        return Response(status_code=304, headers=headers)

    redirect_seconds = services.settings.media_redirect_seconds
    if redirect_seconds and request.method == "GET":
        signed = await services.store.presign_get(key, timedelta(seconds=redirect_seconds))
        if signed is not None:  # the store serves the bytes; the redirect must not outlive it
            return Response(
                status_code=307,
                headers={
                    "location": signed,
                    "cache-control": f"private, max-age={max(1, redirect_seconds // 2)}",
                },
            )
    path = services.store.local_path(key)
    if path is not None:
        # Starlette sends the file with sendfile and handles Range, If-Range and HEAD.
        return FileResponse(path, media_type=media_type, headers=headers)
    return await _ranged_from_store(
        services, key, media_type, headers, range_header, request.method == "HEAD"
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
    services: ServicesDep,
    key: str,
    media_type: str,
    headers: dict[str, str],
    range_header: str | None,
    head_only: bool,
) -> Response:
    info = await services.store.info(key)
    if info is None:
        raise NotFound("the file is missing from the store")
    wanted = parse_single_range(range_header, info.size)
    if wanted == "unsatisfiable":
        return Response(
            status_code=416, headers={**headers, "content-range": f"bytes */{info.size}"}
        )
    if isinstance(wanted, tuple):
        start, end = wanted
        body = b"" if head_only else await services.store.get_range(key, start, end)
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
    return StreamingResponse(services.store.stream(key), media_type=media_type, headers=full)
