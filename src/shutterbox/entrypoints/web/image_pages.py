"""The page of one image (``/images/{id}``).

Server-rendered from the same JSON as ``GET /api/v1/images/{id}`` (the API's presenter), with
the same rule of who may see what: a private image only for its owner, a deleted one for no
one; anything else is a 404 page that says so in words. The picture is a ``<picture>`` with a
source per format (AVIF, WebP) and a ``srcset`` of every variant, so the browser picks the
size it needs; a blurhash placeholder and the dominant colour show while it loads.

For the owner, ``image.js`` saves edits with ``PATCH /api/v1/images/{id}``, deletes (with a
confirmation, and an undo through ``POST /api/v1/images/{id}/restore``), retries a failed
processing, and downloads the original (or says that an archived one is being restored).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from fastapi.responses import HTMLResponse

from shutterbox.domain.errors import InvalidInput
from shutterbox.domain.images import MAX_ALT_TEXT_CHARS
from shutterbox.domain.moderation import ReportReason
from shutterbox.domain.social import MAX_COMMENT_CHARS
from shutterbox.entrypoints.api.presenters import image_public
from shutterbox.entrypoints.api.schemas import Camera, ImagePublic
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.entrypoints.http.routing import Router
from shutterbox.entrypoints.web.cards import Source, image_alt, picture_sources, srcset
from shutterbox.entrypoints.web.rendering import page_viewer, render
from shutterbox.services.context import Services
from shutterbox.services.images import lookup
from shutterbox.services.moderation import actions
from shutterbox.services.people import blocks
from shutterbox.services.social import comments, likes

router = Router(include_in_schema=False)

# How wide the picture is drawn (see the image page's section of app.css): the whole width
# of a phone, the left column of the two-column layout on a wide screen.
PICTURE_SIZES = (
    "(min-width: 72rem) 46rem, (min-width: 56rem) calc(100vw - 26rem), calc(100vw - 2rem)"
)


@dataclass(frozen=True)
class Picture:
    """What the ``<picture>`` element needs."""

    src: str
    srcset: str
    sources: tuple[Source, ...]
    width: int
    height: int
    sizes: str = PICTURE_SIZES

    @property
    def placeholder_height(self) -> int:
        """The height of a 32 px wide blurhash canvas of the same shape."""
        return max(1, min(128, round(32 * self.height / max(1, self.width))))


def picture_of(image: ImagePublic) -> Picture | None:
    """Every variant in every format, each width once, for the browser to choose from (an
    animation's still first for those who want less motion); None until the image has
    variants (still processing, or failed)."""
    variants = sorted(image.variants.values(), key=lambda v: v.width)
    if not variants:
        return None
    largest = variants[-1]
    shown = image.variants.get("medium") or largest
    return Picture(
        src=shown.formats.get("jpeg", shown.url),
        srcset=srcset(variants, "jpeg"),
        sources=tuple(picture_sources(image)),
        width=largest.width,
        height=largest.height,
    )


def camera_line(camera: Camera | None) -> str:
    """``"FUJIFILM X-T3 · XF35mmF1.4 R · 1/250 s · f/2 · ISO 200 · 35 mm"``; empty without EXIF."""
    if camera is None:
        return ""
    body = " ".join(p for p in (camera.make, camera.model) if p)
    if camera.make and camera.model and camera.model.lower().startswith(camera.make.lower()):
        body = camera.model  # "Canon Canon EOS R5" reads as "Canon EOS R5"
    parts = [
        body,
        camera.lens or "",
        f"{camera.exposure_time} s" if camera.exposure_time else "",
        f"f/{camera.f_number:g}" if camera.f_number else "",
        f"ISO {camera.iso}" if camera.iso else "",
        f"{camera.focal_length_mm:g} mm" if camera.focal_length_mm else "",
    ]
    return " · ".join(p for p in parts if p)


def when(moment: datetime | None) -> str:
    """``"15 January 2024, 14:03"``."""
    if moment is None:
        return ""
    return f"{moment.day} {moment:%B %Y, %H:%M}"


def size_text(count: int) -> str:
    """``"3.2 MB"``: decimal units, three significant digits."""
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{count} B" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def media_origins(services: Services) -> list[str]:
    """Where media URLs may point besides this origin and the CDN (which the policy always
    allows): the public base URL, when one makes them absolute."""
    base = services.settings.public_base_url
    return [base] if base else []


COMMENTS_SHOWN = 30  # a page of comments on the image's page; "More comments" for the next


@router.get("/images/{image_id}", response_class=HTMLResponse)
async def read_image_page(
    image_id: str, request: Request, comments_after: str | None = None
) -> HTMLResponse:
    viewer, _csrf = await page_viewer(request)
    services: Services = app_state(request.app).services
    image = None
    if 0 < len(image_id) <= 64:
        image = await lookup.find_image(services, image_id)
    if (
        image is None
        or not image.visible_to(viewer.id if viewer else None)
        or await blocks.hides_image(services, viewer, image)
    ):
        # Deleted, private to someone else, hidden by a block, or never existed: the same
        # answer for each, so that the page does not tell which.
        return await render(request, "image.html", {"image": None}, status_code=404)
    liked = bool(await likes.liked_among(services, viewer, [image]))
    public = image_public(image, viewer, services.media_urls, liked=liked)
    hold = await actions.hold_for_owner(services, viewer, image)
    try:
        shown = await comments.comments_of_shown_image(
            services, image, COMMENTS_SHOWN, comments_after
        )
    except InvalidInput:  # a cursor made by hand: the first comments instead
        shown = await comments.comments_of_shown_image(services, image, COMMENTS_SHOWN, None)
    return await render(
        request,
        "image.html",
        {
            "image": public,
            "is_owner": viewer is not None and viewer.id == image.owner_id,
            "picture": picture_of(public),
            "alt": image_alt(public),
            "camera": camera_line(public.camera),
            "taken_at": when(public.taken_at),
            "uploaded_at": when(public.created_at) + " UTC",
            "original_size": size_text(public.original.bytes) if public.original else "",
            "max_caption_chars": services.settings.max_caption_chars,
            "max_alt_text_chars": MAX_ALT_TEXT_CHARS,
            "trash_days": f"{services.settings.trash_retention_days:g}",
            "comments": [(c, comments.may_delete(c, image, viewer)) for c in shown.items],
            "more_comments": shown.next_cursor,
            "max_comment_chars": MAX_COMMENT_CHARS,
            "hidden_reason": hold.reason if hold else None,
            "report_reasons": [reason.value for reason in ReportReason],
        },
        img_sources=media_origins(services),
    )
