"""Downloading all your photos: ``GET /api/v1/users/me/export``, resumable with ``Range``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Query, Request, Response
from starlette.responses import StreamingResponse

from shutterbox.domain import export_archive
from shutterbox.entrypoints.api.conditional import parse_single_range
from shutterbox.entrypoints.api.deps import CurrentUser, ServicesDep
from shutterbox.entrypoints.api.schemas import ErrorBody
from shutterbox.entrypoints.http.middleware.egress_metering import MeteredRoute
from shutterbox.entrypoints.http.routing import Router
from shutterbox.services.people import export

# The archive's bytes count into the process's egress meter, as media answers do.
router = Router(prefix="/api/v1", tags=["users"], route_class=MeteredRoute)

_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"description": "The archive (application/x-tar)"},
    206: {"description": "Part of the archive (Range)"},
    304: {"description": "Not modified (If-None-Match)"},
    401: {"model": ErrorBody},
    409: {"model": ErrorBody, "description": "Originals in archive storage need a restore"},
    416: {"description": "Range not satisfiable"},
}


@router.head(
    "/users/me/export",
    response_class=Response,
    responses=_RESPONSES,
    operation_id="read_my_export_headers",
)
@router.get(
    "/users/me/export", response_class=Response, responses=_RESPONSES, operation_id="read_my_export"
)
async def read_my_export(
    request: Request,
    user: CurrentUser,
    services: ServicesDep,
    skip_archived: Annotated[
        bool,
        Query(
            description="Leave out originals in archive storage that are not restored "
            "(they are listed in the archive's shutterbox-export.json) instead of answering 409."
        ),
    ] = False,
    range_header: Annotated[str | None, Header(alias="range")] = None,
    if_range: Annotated[str | None, Header(alias="if-range")] = None,
) -> Response:
    """All your images (private ones too; not those in the trash) as one tar: each original
    with a JSON sidecar of its details, and `shutterbox-export.json` describing the export.
    The same images with the same details give the same bytes: `ETag` names them, and a
    download resumes with `Range` (one range; `If-Range` with the ETag, so that a changed
    export is sent whole). `409` when some originals are archived and need a restore
    (the restores start), unless `skip_archived`."""
    plan = await export.plan_export(services, user, skip_archived=skip_archived)
    headers = {
        "etag": plan.etag,
        "accept-ranges": "bytes",
        "cache-control": "private, no-store",
        "content-disposition": f'attachment; filename="{plan.filename}"',
        "x-content-type-options": "nosniff",
    }
    if request.headers.get("if-none-match", "").strip() == plan.etag:
        return Response(status_code=304, headers=headers)
    wanted = None
    if if_range is None or if_range.strip() == plan.etag:  # a strong match, or none asked
        wanted = parse_single_range(range_header, plan.size)
    if wanted == "unsatisfiable":
        return Response(
            status_code=416, headers={**headers, "content-range": f"bytes */{plan.size}"}
        )
    start, end, status = 0, plan.size, 200
    if isinstance(wanted, tuple):
        start, end = wanted
        status = 206
        headers["content-range"] = f"bytes {start}-{end - 1}/{plan.size}"
    headers["content-length"] = str(end - start)
    media_type = export_archive.MEDIA_TYPE
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=media_type)
    body = export.read_range(services, plan, start, end)
    return StreamingResponse(body, status_code=status, headers=headers, media_type=media_type)
