"""The upload page (``/upload``): choose or drop photos, describe them, send them.

The page itself only lays out the form; ``upload.js`` sends each photo as a resumable upload
(``/api/v1/tus/``, with tus-js-client) with the session cookie and its CSRF token, shows the
bytes sent, and follows the processing through ``GET /api/v1/events``. Visitors who are not
logged in are sent to the login page, which brings them back here.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from shutterbox.domain.formats import ACCEPTED_NAMES
from shutterbox.domain.images import MAX_ALT_TEXT_CHARS
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.entrypoints.http.routing import Router
from shutterbox.entrypoints.web.image_pages import media_origins
from shutterbox.entrypoints.web.rendering import page_viewer, render
from shutterbox.services.context import Services

router = Router(include_in_schema=False)

LOGIN_FIRST = "/login?next=/upload"


@router.get("/upload", response_class=HTMLResponse)
async def read_upload_page(request: Request) -> Response:
    viewer, _csrf = await page_viewer(request)
    if viewer is None:
        return RedirectResponse(LOGIN_FIRST, status_code=303, headers={"Cache-Control": "no-store"})
    services: Services = app_state(request.app).services
    settings = services.settings
    return await render(
        request,
        "upload.html",
        {
            "active": "upload",
            "max_upload_bytes": settings.max_upload_bytes,
            "max_upload_mb": settings.max_upload_bytes // (1024 * 1024),
            "chunk_bytes": settings.resumable_chunk_bytes,
            "max_caption_chars": settings.max_caption_chars,
            "max_alt_text_chars": MAX_ALT_TEXT_CHARS,
            "accepted_names": ACCEPTED_NAMES,
        },
        img_sources=media_origins(services),  # the thumbnails of the uploaded photos
    )
