"""Direct-to-storage uploads: ask for a URL, PUT the bytes there, then complete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request, Response, status
from pydantic import BaseModel, Field
from starlette.requests import ClientDisconnect

from shutterbox.domain.details import details_from
from shutterbox.domain.errors import InvalidInput
from shutterbox.domain.images import Visibility
from shutterbox.entrypoints.api.deps import CurrentUser, ServicesDep
from shutterbox.entrypoints.api.presenters import image_public
from shutterbox.entrypoints.api.schemas import ErrorBody, ImagePublic, Timestamp
from shutterbox.entrypoints.http.middleware import rate_limiting
from shutterbox.entrypoints.http.routing import Router
from shutterbox.services.images import direct_uploads, uploads
from shutterbox.services.images.multipart_uploads import MultipartTicket, part_count
from shutterbox.services.images.staging import Stager

router = Router(prefix="/api/v1/uploads", tags=["uploads"])


class UploadCreate(BaseModel):
    filename: str = Field(max_length=255, description="The file's name, for your reference.")
    content_type: str = Field(max_length=100, description="e.g. image/jpeg")
    size: int = Field(description="The exact size of the file in bytes.")
    multipart: bool = Field(
        default=False,
        description="Send it in parts straight to the bucket (on an S3 store; elsewhere the "
        "answer is the one-shot URL, and /api/v1/tus/ resumes instead). Needs `sha256`.",
    )
    sha256: str | None = Field(
        default=None, max_length=64, description="The file's SHA-256 (hex), for `multipart`."
    )


class PartTicket(BaseModel):
    number: int
    url: str = Field(description="PUT this part's bytes here; the answer's ETag is the bucket's.")


class ReceivedPart(BaseModel):
    number: int
    size: int


class PartsPublic(BaseModel):
    part_size: int = Field(description="Every part has this many bytes, but the last.")
    count: int
    to_send: list[PartTicket] = Field(description="The parts the bucket does not have yet.")
    received: list[ReceivedPart]


class UploadTicketPublic(BaseModel):
    id: str
    url: str = Field(description="PUT the file's bytes here, with `headers` (empty in parts).")
    method: str = "PUT"
    headers: dict[str, str]
    expires_at: Timestamp
    parts: PartsPublic | None = Field(
        default=None, description="An upload in parts: PUT each part to its URL, then complete."
    )


class UploadComplete(BaseModel):
    caption: str = ""
    tags: list[str] | str | None = None
    alt_text: str = Field(
        default="", description="Describes the picture for people who cannot see it."
    )
    location: str | None = None
    lat: float | None = None
    lon: float | None = None
    visibility: Visibility = Visibility.PUBLIC
    share_location: bool = False


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 409, 413, 415, 422, 429)
}


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=UploadTicketPublic, responses=_ERRORS
)
async def create_upload(
    body: UploadCreate, request: Request, services: ServicesDep, user: CurrentUser
) -> UploadTicketPublic:
    """Start a direct upload: the answer says where to PUT the bytes (a presigned URL on the
    bucket, or the origin's own signed URL on a local store) and until when. A size that would
    take you over your storage quota is refused here (`413`, `quota_exceeded`)."""
    await rate_limiting.hit_upload(request, user.id)
    if body.multipart and services.multipart is not None:
        in_parts = await direct_uploads.start_multipart_upload(
            services, user, body.filename, body.content_type, body.size, body.sha256 or ""
        )
        return _in_parts(in_parts)
    ticket = await direct_uploads.start_upload(
        services, user, body.filename, body.content_type, body.size
    )
    return UploadTicketPublic(
        id=ticket.id,
        url=ticket.url,
        method=ticket.method,
        headers=ticket.headers,
        expires_at=ticket.expires_at,
    )


@router.get("/{upload_id}", response_model=UploadTicketPublic, responses=_ERRORS)
async def read_upload(upload_id: str, services: ServicesDep, user: CurrentUser) -> Any:
    """An upload in parts as it stands: the parts the bucket has, and fresh URLs for the
    others (after a dropped connection, send only those)."""
    return _in_parts(await direct_uploads.resume_upload(services, user, upload_id))


def _in_parts(ticket: MultipartTicket) -> UploadTicketPublic:
    return UploadTicketPublic(
        id=ticket.id,
        url="",
        headers={},
        expires_at=ticket.expires_at,
        parts=PartsPublic(
            part_size=ticket.part_size,
            count=part_count(ticket.size, ticket.part_size),
            to_send=[PartTicket(number=n, url=u) for n, u in sorted(ticket.part_urls.items())],
            received=[ReceivedPart(number=p.number, size=p.size) for p in ticket.received],
        ),
    )


@router.put("/{upload_id}/data", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
async def receive_upload_data(
    upload_id: str,
    request: Request,
    services: ServicesDep,
    expires: Annotated[int, Query()],
    signature: Annotated[str, Query(max_length=128)],
) -> Response:
    """The origin's signed upload URL (used when the store cannot presign one)."""
    key, size = await direct_uploads.check_origin_upload(services, upload_id, expires, signature)
    too_large = f"more bytes than the {size} announced"
    with Stager(services.staging_dir, size, prefix="direct-", too_large=too_large) as stager:
        try:
            await stager.write_all(request.stream())
        except ClientDisconnect as exc:
            raise InvalidInput("the upload was interrupted before it was complete") from exc
        path = stager.finish_bytes()
    try:
        await services.store.put_file(key, path)
    finally:
        path.unlink(missing_ok=True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{upload_id}/complete",
    status_code=status.HTTP_201_CREATED,
    response_model=ImagePublic,
    responses=_ERRORS,
)
async def complete_upload(
    upload_id: str,
    response: Response,
    services: ServicesDep,
    user: CurrentUser,
    body: UploadComplete | None = None,
) -> ImagePublic:
    """Check what arrived (size, and the picture type sniffed from its bytes) and make the
    image from it: `201` and `status: processing`, as for a multipart upload."""
    body = body or UploadComplete()
    # Checked before the upload is claimed: a mistyped field does not cost the uploaded file.
    details = details_from(
        uploads.detail_limits(services.settings),
        caption=body.caption,
        tags=body.tags,
        alt_text=body.alt_text,
        location=body.location,
        lat=body.lat,
        lon=body.lon,
        visibility=body.visibility if "visibility" in body.model_fields_set else None,
        share_location=body.share_location,
    )
    image, outcome = await direct_uploads.complete_upload(services, user, upload_id, details)
    if outcome == uploads.Outcome.DUPLICATE or outcome == uploads.Outcome.REPLAYED:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/api/v1/images/{image.id}"
    return image_public(image, user, services.media_urls)
