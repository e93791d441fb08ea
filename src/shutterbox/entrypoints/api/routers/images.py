"""Uploading, reading, editing and deleting images."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Request, Response, status

from shutterbox.domain.details import details_from_form
from shutterbox.domain.errors import NotFound, ShutterboxError
from shutterbox.domain.formats import ACCEPTED_NAMES
from shutterbox.entrypoints.api.deps import CurrentUser, OptionalUser, ServicesDep
from shutterbox.entrypoints.api.presenters import image_json, image_public
from shutterbox.entrypoints.api.schemas import (
    ErrorBody,
    ImagePatch,
    ImagePublic,
    ProcessingEstimate,
    UploadedImage,
)
from shutterbox.entrypoints.api.upload_stream import read_upload
from shutterbox.entrypoints.http.middleware import rate_limiting
from shutterbox.entrypoints.http.routing import Router
from shutterbox.services import metrics
from shutterbox.services.images import backlog, deletion, editing, lookup, uploads
from shutterbox.services.people import blocks
from shutterbox.services.social import likes

router = Router(prefix="/api/v1/images", tags=["images"])

_UPLOAD_FORM: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": f"a picture: {ACCEPTED_NAMES}",
                        },
                        "caption": {"type": "string"},
                        "alt_text": {
                            "type": "string",
                            "maxLength": 1000,
                            "description": "describes the picture for people who cannot see it",
                        },
                        "tags": {"type": "string", "description": "comma or space separated"},
                        "location": {"type": "string", "description": "a place name"},
                        "lat": {"type": "number", "minimum": -90, "maximum": 90},
                        "lon": {"type": "number", "minimum": -180, "maximum": 180},
                        "visibility": {"type": "string", "enum": ["public", "private"]},
                        "share_location": {
                            "type": "boolean",
                            "description": "use the photo's own GPS position when lat/lon "
                            "are not given (it is never kept otherwise)",
                        },
                    },
                }
            }
        },
    }
}

_ERRORS: dict[int | str, dict[str, Any]] = {
    200: {
        "model": ImagePublic,
        "description": "These bytes were already uploaded, and the image has every detail "
        "this upload gives",
    },
    409: {
        "model": ErrorBody,
        "description": "These bytes were already uploaded as an image without some detail "
        "this upload gives (`duplicate_upload`, `image_id`): nothing was changed",
    },
    **{code: {"model": ErrorBody} for code in (401, 413, 415, 422, 429)},
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadedImage,
    openapi_extra=_UPLOAD_FORM,
    responses=_ERRORS,
    summary="Upload an image",
)
async def create_image(
    request: Request,
    response: Response,
    services: ServicesDep,
    user: CurrentUser,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> UploadedImage:
    """Answers `201` once the original is durably stored and the image's row and processing job
    are committed; the variants are made in the background (`status: processing`). Uploading
    bytes you already have answers `200` with the existing image, or `409` when this upload
    gives a caption, tags, alt text, place or visibility that image does not have (change
    them there instead: they are never dropped without a word)."""
    await rate_limiting.hit_upload(request, user.id)
    try:
        async with services.upload_slots:  # a burst waits here, its bytes in the connection
            parsed = await read_upload(
                request, services.staging_dir, services.settings.max_upload_bytes
            )
            assert parsed.file is not None
            try:
                details = details_from_form(parsed.fields, uploads.detail_limits(services.settings))
            except ShutterboxError:
                parsed.file.path.unlink(missing_ok=True)
                raise
            image, outcome = await uploads.accept_upload(
                services, user, parsed.file, details, idempotency_key
            )
    except ShutterboxError as exc:
        metrics.UPLOAD_REJECTIONS.labels(status=str(exc.status)).inc()
        raise
    estimate = None
    if outcome == uploads.Outcome.CREATED:
        metrics.UPLOADS.inc()
        busy = await backlog.when_busy(services)
        if busy is not None:
            estimate = ProcessingEstimate(
                queued_ahead=busy.queued_ahead, expected_seconds=busy.expected_seconds
            )
            if busy.expected_seconds is not None:  # when to look again
                response.headers["Retry-After"] = str(busy.expected_seconds)
    elif outcome == uploads.Outcome.REPLAYED:
        response.headers["Idempotent-Replayed"] = "true"
    else:  # the same bytes again: no second copy
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/api/v1/images/{image.id}"
    answer = image_json(image, user, services.media_urls)
    return UploadedImage.model_validate({**answer, "processing_estimate": estimate})


@router.get("/{image_id}", response_model=ImagePublic, responses={404: {"model": ErrorBody}})
async def read_image(image_id: str, services: ServicesDep, viewer: OptionalUser) -> ImagePublic:
    image = await lookup.find_image(services, image_id)
    if (
        image is None
        or not image.visible_to(viewer.id if viewer else None)
        or await blocks.hides_image(services, viewer, image)
    ):
        raise NotFound("no such image")
    liked = bool(await likes.liked_among(services, viewer, [image]))
    return image_public(image, viewer, services.media_urls, liked=liked)


@router.delete(
    "/{image_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={code: {"model": ErrorBody} for code in (401, 403, 404)},
)
async def delete_image(image_id: str, services: ServicesDep, user: CurrentUser) -> Response:
    await deletion.delete_image(services, user, image_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch(
    "/{image_id}",
    response_model=ImagePublic,
    responses={code: {"model": ErrorBody} for code in (401, 403, 404, 422)},
)
async def edit_image(
    image_id: str, body: ImagePatch, services: ServicesDep, user: CurrentUser
) -> ImagePublic:
    """Change your image's caption, tags, alt text, location or visibility; fields left out
    stay as they are. A change of visibility purges the image's URLs from the edge caches."""
    given = body.model_fields_set
    location = None
    if "location" in given:  # null clears it
        place = body.location
        location = editing.Place(place.name, place.lat, place.lon) if place else editing.Place()
    edit = editing.ImageEdit(
        caption=body.caption,
        tags=body.tags,
        alt_text=body.alt_text,
        location=location,
        visibility=body.visibility,
    )
    image = await editing.edit_image(services, user, image_id, edit)
    liked = bool(await likes.liked_among(services, user, [image]))
    return image_public(image, user, services.media_urls, liked=liked)


@router.post(
    "/{image_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ImagePublic,
    responses={code: {"model": ErrorBody} for code in (401, 403, 404, 409)},
)
async def retry_image(image_id: str, services: ServicesDep, user: CurrentUser) -> ImagePublic:
    """Process a `failed` image again: it goes back to `processing` (`409` for any other)."""
    image = await editing.retry_processing(services, user, image_id)
    liked = bool(await likes.liked_among(services, user, [image]))
    return image_public(image, user, services.media_urls, liked=liked)
