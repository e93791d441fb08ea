"""Live status of your own images, as Server-Sent Events."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from shutterbox.entrypoints.api.deps import CurrentUser, ServicesDep, StateDep
from shutterbox.entrypoints.api.routers.notifications import notification_json
from shutterbox.entrypoints.api.schemas import ErrorBody
from shutterbox.entrypoints.http.middleware.stream_closing import StreamCloser
from shutterbox.services.context import Services
from shutterbox.services.images import events
from shutterbox.services.social.live import NewNotification

router = APIRouter(prefix="/api/v1", tags=["images"])

RETRY_MILLISECONDS = 2000
_STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
_DESCRIPTION = """\
`text/event-stream`: an `image` event whenever one of your images changes status
(`processing` → `ready` or `failed`, or back to `processing` when it is retried), with
`data: {"id", "status", "failure_reason", "thumb_url"}`. Right after connecting, one such
event for each of your images that is processing or changed in the last few minutes.
A `notification` event for each new notification of yours (as `GET /api/v1/notifications`
lists them), with `data: {"notification": {...}, "unread": N}`.
Idle streams get a `: keep-alive` comment every few seconds; `retry: 2000`.
"""


def _event(event: events.ImageStatus | NewNotification, number: int) -> str:
    if isinstance(event, NewNotification):
        kind = "notification"
        value = {"notification": notification_json(event.notification), "unread": event.unread}
    else:
        kind, value = "image", event.as_json()
    data = json.dumps(value, separators=(",", ":"))
    return f"event: {kind}\nid: {number}\ndata: {data}\n\n"


async def _stream(services: Services, owner_id: int, streams: StreamCloser) -> AsyncIterator[str]:
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    keepalive = services.settings.events_keepalive_seconds
    sent = time.monotonic()
    number = 0
    async for changed in events.watch(services, owner_id, streams.closing):
        for event in changed:
            number += 1
            yield _event(event, number)
        if changed:
            sent = time.monotonic()
        elif time.monotonic() - sent >= keepalive:
            yield ": keep-alive\n\n"
            sent = time.monotonic()


@router.get(
    "/events",
    response_class=StreamingResponse,
    description=_DESCRIPTION,
    responses={
        200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}},
        401: {"model": ErrorBody},
    },
)
async def stream_events(
    state: StateDep, services: ServicesDep, user: CurrentUser
) -> StreamingResponse:
    """Live status of your images (Server-Sent Events, for `EventSource`)."""
    return StreamingResponse(
        _stream(services, user.id, state.stream_closer),
        media_type="text/event-stream",
        headers=_STREAM_HEADERS,
    )
