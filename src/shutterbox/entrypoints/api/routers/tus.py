"""Resumable uploads over the tus 1.0 protocol (https://tus.io/protocols/resumable-upload):
core, creation, creation-with-upload, termination, expiration and checksum (sha256).

`POST /api/v1/tus/` with `Upload-Length` (and `Upload-Metadata`: filename, filetype and the
image details a multipart upload takes as form fields: caption, tags, alt_text, location,
lat, lon, visibility, share_location) starts an upload; `PATCH` its URL with the bytes from
`Upload-Offset`; `HEAD` says where it stands. The `PATCH` that brings the last byte answers
with the image (`Shutterbox-Image`), which `GET` on the upload's URL also gives.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Header, Request, Response
from pydantic import BaseModel, Field
from starlette.requests import ClientDisconnect

from shutterbox.domain.errors import InvalidInput, ShutterboxError, UnsupportedMediaType
from shutterbox.domain.images import Image, Status
from shutterbox.domain.users import User
from shutterbox.entrypoints.api.deps import CurrentUser, ServicesDep
from shutterbox.entrypoints.api.presenters import image_json
from shutterbox.entrypoints.api.schemas import (
    ErrorBody,
    ProcessingEstimate,
    Timestamp,
    UploadedImage,
)
from shutterbox.entrypoints.http.middleware import rate_limiting
from shutterbox.entrypoints.http.routing import Router
from shutterbox.services.context import Services
from shutterbox.services.images import backlog, resumable
from shutterbox.services.images.resumable import ResumableUpload

PREFIX = "/api/v1/tus"
VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
PART_TYPE = "application/offset+octet-stream"


class VersionUnsupported(ShutterboxError):
    status = 412
    code = "tus_version"


router = Router(prefix=PREFIX, tags=["uploads"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 410, 412, 413, 415, 422, 429)
}
TusVersion = Annotated[str | None, Header(alias="Tus-Resumable")]


class ResumableUploadPublic(BaseModel):
    id: str
    length: int
    offset: int
    expires_at: Timestamp
    image: UploadedImage | None = Field(
        default=None, description="Once every byte has arrived: the image made from them."
    )


def _check_version(given: str | None) -> None:
    if given != VERSION:
        raise VersionUnsupported(f"send Tus-Resumable: {VERSION} (the version this server speaks)")


def _headers(upload: ResumableUpload) -> dict[str, str]:
    headers = {
        "Tus-Resumable": VERSION,
        "Upload-Offset": str(upload.offset),
        "Upload-Length": str(upload.length),
        "Cache-Control": "no-store",
    }
    if not upload.finished:
        headers["Upload-Expires"] = upload.expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT")
    if upload.image_id is not None:
        headers["Shutterbox-Image"] = f"/api/v1/images/{upload.image_id}"
    return headers


async def _part(request: Request) -> AsyncIterator[bytes]:
    """The request's body; ``Interrupted`` when the client went away midway."""
    try:
        async for chunk in request.stream():
            yield chunk
    except ClientDisconnect as exc:
        raise resumable.Interrupted from exc


def _check_part_type(request: Request) -> None:
    if request.headers.get("content-type", "").split(";")[0].strip() != PART_TYPE:
        raise UnsupportedMediaType(f"send the bytes with Content-Type: {PART_TYPE}")


@router.options("/", status_code=204, include_in_schema=False)
@router.options("/{upload_id}", status_code=204, include_in_schema=False)
async def capabilities(services: ServicesDep) -> Response:
    """What this server supports (no authentication, as tus asks)."""
    return Response(
        status_code=204,
        headers={
            "Tus-Resumable": VERSION,
            "Tus-Version": VERSION,
            "Tus-Extension": EXTENSIONS,
            "Tus-Max-Size": str(services.settings.max_upload_bytes),
            "Tus-Checksum-Algorithm": ",".join(resumable.CHECKSUM_ALGORITHMS),
        },
    )


@router.post("/", status_code=201, responses=_ERRORS)
async def create_upload(
    request: Request,
    services: ServicesDep,
    user: CurrentUser,
    tus_resumable: TusVersion = None,
    upload_length: Annotated[str | None, Header()] = None,
    upload_metadata: Annotated[str | None, Header()] = None,
    upload_checksum: Annotated[str | None, Header()] = None,
) -> Response:
    """Start an upload of `Upload-Length` bytes (refused here if that is over the size limit
    or your quota); with a body of type `application/offset+octet-stream`, its first bytes
    too. The answer's `Location` is the upload's URL."""
    _check_version(tus_resumable)
    if upload_length is None or not upload_length.isdigit():
        raise InvalidInput(
            "send Upload-Length, the file's size in bytes (deferring it is not supported)"
        )
    await rate_limiting.hit_upload(request, user.id)
    checksum = resumable.parse_checksum(upload_checksum)
    upload = await resumable.create(services, user, int(upload_length), upload_metadata)
    headers = {"Location": f"{PREFIX}/{upload.id}"}
    has_body = (
        request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    )
    if has_body:
        _check_part_type(request)
        upload, _image = await resumable.append(
            services, user, upload.id, 0, _part(request), checksum
        )
    return Response(status_code=201, headers={**_headers(upload), **headers})


@router.head("/{upload_id}", responses=_ERRORS)
async def upload_offset(
    upload_id: str, services: ServicesDep, user: CurrentUser, tus_resumable: TusVersion = None
) -> Response:
    """Where the upload stands: `Upload-Offset` is where to go on from."""
    _check_version(tus_resumable)
    upload = await resumable.status(services, user, upload_id)
    headers = _headers(upload)
    if upload.metadata:
        headers["Upload-Metadata"] = upload.metadata
    return Response(status_code=200, headers=headers)


@router.patch("/{upload_id}", status_code=204, responses={**_ERRORS, 460: {"model": ErrorBody}})
async def append_to_upload(
    upload_id: str,
    request: Request,
    services: ServicesDep,
    user: CurrentUser,
    tus_resumable: TusVersion = None,
    upload_offset: Annotated[str | None, Header()] = None,
    upload_checksum: Annotated[str | None, Header()] = None,
) -> Response:
    """The bytes from `Upload-Offset` on (`409` if the upload is elsewhere: `HEAD` says
    where; `460` if `Upload-Checksum` does not match, and then nothing is kept). The part
    that completes the upload makes the image: `Shutterbox-Image` is its URL."""
    _check_version(tus_resumable)
    _check_part_type(request)
    if upload_offset is None or not upload_offset.isdigit():
        raise InvalidInput("send Upload-Offset, the offset these bytes start at")
    checksum = resumable.parse_checksum(upload_checksum)
    upload, _image = await resumable.append(
        services, user, upload_id, int(upload_offset), _part(request), checksum
    )
    return Response(status_code=204, headers=_headers(upload))


@router.delete("/{upload_id}", status_code=204, responses=_ERRORS)
async def terminate_upload(
    upload_id: str, services: ServicesDep, user: CurrentUser, tus_resumable: TusVersion = None
) -> Response:
    """Stop the upload and remove what it received."""
    _check_version(tus_resumable)
    await resumable.terminate(services, user, upload_id)
    return Response(status_code=204, headers={"Tus-Resumable": VERSION})


@router.get("/{upload_id}", response_model=ResumableUploadPublic, responses=_ERRORS)
async def read_upload(
    upload_id: str, response: Response, services: ServicesDep, user: CurrentUser
) -> ResumableUploadPublic:
    """The upload as JSON, with its image once all of it has arrived (made now if the part
    that completed it lost its answer)."""
    upload = await resumable.status(services, user, upload_id)
    image = None
    if upload.offset == upload.length:
        image = await resumable.finish(services, user, upload_id)
        upload = await resumable.status(services, user, upload_id)
    response.headers["Cache-Control"] = "no-store"
    return ResumableUploadPublic(
        id=upload.id,
        length=upload.length,
        offset=upload.offset,
        expires_at=upload.expires_at,
        image=None if image is None else await _uploaded(services, user, image),
    )


async def _uploaded(services: Services, user: User, image: Image) -> UploadedImage:
    """The image as a multipart upload answers it: with how long processing will take when
    the queue is busy."""
    estimate = None
    if image.status == Status.PROCESSING:
        busy = await backlog.when_busy(services)
        if busy is not None:
            estimate = ProcessingEstimate(
                queued_ahead=busy.queued_ahead, expected_seconds=busy.expected_seconds
            )
    answer = image_json(image, user, services.media_urls)
    return UploadedImage.model_validate({**answer, "processing_estimate": estimate})
