"""Liking, commenting and notifications on the pages, as plain HTML forms (they work without
JavaScript): each post needs the session's CSRF token from its form and must come from a page
of this origin, then redirects (303) back to where it was sent from. What cannot be done is a
message page with the API's status (404, 403, 422, 429) and its reason.

The notifications page (``/notifications``) lists them newest first, in words, with a link
to the photo each is about; the header shows the unread count on every page."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from shutterbox.domain.errors import ShutterboxError, Unauthorized
from shutterbox.domain.social import Notification, NotificationKind
from shutterbox.domain.users import User
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.entrypoints.http.middleware import same_origin
from shutterbox.entrypoints.http.routing import Router
from shutterbox.entrypoints.web.auth_pages import CROSS_SITE, FormField
from shutterbox.entrypoints.web.rendering import page_viewer, render
from shutterbox.services.context import Services
from shutterbox.services.people import sessions
from shutterbox.services.social import comments, likes, notifications

router = Router(include_in_schema=False)

NOTIFICATIONS_PER_PAGE = 30
_WORDS = {
    NotificationKind.FOLLOW: "started following you",
    NotificationKind.LIKE: "liked your photo",
    NotificationKind.COMMENT: "commented on your photo",
    NotificationKind.PROCESSING_FAILED: "One of your photos could not be processed",
}


@dataclass(frozen=True)
class NotificationLine:
    """A notification as the page says it."""

    actor: str | None
    words: str
    link: str | None
    created_at: str
    read: bool


def line_of(found: Notification) -> NotificationLine:
    link = f"/images/{found.image_id}" if found.image_id else None
    if found.kind == NotificationKind.FOLLOW and found.actor:
        link = f"/users/{found.actor}"
    return NotificationLine(
        actor=found.actor,
        words=_WORDS[found.kind],
        link=link,
        created_at=f"{found.created_at:%d %B %Y, %H:%M} UTC",
        read=found.read,
    )


def _services(request: Request) -> Services:
    services: Services = app_state(request.app).services
    return services


async def _poster(request: Request, csrf_token: str) -> User:
    """The logged-in user who sent this form from this site; else an error to show."""
    if not same_origin.same_origin(request):
        raise _Refused(CROSS_SITE)
    viewer, _csrf = await page_viewer(request)
    token = request.cookies.get(sessions.SESSION_COOKIE)
    if viewer is None or token is None:
        raise Unauthorized("Log in first, then try again.")
    if not sessions.csrf_matches(_services(request), token, csrf_token):
        raise _Refused("The form was out of date. Reload the page and try again.")
    return viewer


class _Refused(ShutterboxError):
    status = 403
    code = "forbidden"


async def _failed(request: Request, heading: str, error: ShutterboxError) -> HTMLResponse:
    return await render(
        request,
        "message.html",
        {"heading": heading, "message": error.message},
        status_code=error.status,
    )


def _back(to: str) -> RedirectResponse:
    return RedirectResponse(to, status_code=303, headers={"Cache-Control": "no-store"})


@router.post("/images/{image_id}/like", response_class=HTMLResponse)
async def like_from_page(
    image_id: str, request: Request, csrf_token: FormField = "", liked: FormField = "true"
) -> Response:
    """``liked=true`` likes the photo, ``liked=false`` takes the like back."""
    try:
        user = await _poster(request, csrf_token)
        if liked == "false":
            await likes.unlike(_services(request), user, image_id)
        else:
            await likes.like(_services(request), user, image_id)
    except ShutterboxError as error:
        return await _failed(request, "Not done", error)
    return _back(f"/images/{image_id}#likes")


@router.post("/images/{image_id}/comments", response_class=HTMLResponse)
async def comment_from_page(
    image_id: str, request: Request, csrf_token: FormField = "", text: FormField = ""
) -> Response:
    try:
        user = await _poster(request, csrf_token)
        comment = await comments.add_comment(_services(request), user, image_id, text)
    except ShutterboxError as error:
        return await _failed(request, "Comment not posted", error)
    return _back(f"/images/{image_id}#comment-{comment.id}")


@router.post("/comments/{comment_id}/delete", response_class=HTMLResponse)
async def delete_comment_from_page(
    comment_id: str, request: Request, csrf_token: FormField = "", image_id: FormField = ""
) -> Response:
    try:
        user = await _poster(request, csrf_token)
        await comments.delete_comment(_services(request), user, comment_id)
    except ShutterboxError as error:
        return await _failed(request, "Comment not deleted", error)
    return _back(f"/images/{image_id}#comments" if image_id.isalnum() else "/")


@router.get("/notifications", response_class=HTMLResponse)
async def notifications_page(request: Request, cursor: str | None = None) -> Response:
    viewer, _csrf = await page_viewer(request)
    if viewer is None:
        return _back("/login?next=/notifications")
    try:
        page = await notifications.notifications_page(
            _services(request), viewer, NOTIFICATIONS_PER_PAGE, cursor
        )
    except ShutterboxError as error:
        return await _failed(request, "No such page", error)
    return await render(
        request,
        "notifications.html",
        {
            "active": "notifications",
            "lines": [line_of(n) for n in page.items],
            "next_cursor": page.next_cursor,
        },
    )


@router.post("/notifications/read", response_class=HTMLResponse)
async def read_notifications_from_page(request: Request, csrf_token: FormField = "") -> Response:
    try:
        user = await _poster(request, csrf_token)
        await notifications.mark_read(_services(request), user, None)
    except ShutterboxError as error:
        return await _failed(request, "Not marked read", error)
    return _back("/notifications")
