"""Live status of your own images, as Server-Sent Events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from shutterbox.entrypoints.api.deps import CurrentUser, ServicesDep, StateDep
from shutterbox.entrypoints.api.routers.notifications import notification_json
from shutterbox.entrypoints.api.schemas import ErrorBody
from shutterbox.entrypoints.http.middleware.stream_closing import StreamCloser
from shutterbox.entrypoints.http.routing import Router
from shutterbox.services.context import Services
from shutterbox.services.images import events
from shutterbox.services.images.event_hub import EventHub, StreamSlot
from shutterbox.services.social.live import NewNotification

router = Router(prefix="/api/v1", tags=["images"])

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
A user may hold a few streams at once (`SHUTTERBOX_EVENTS_STREAMS_PER_USER` per API process);
one more answers 429 `too_many_streams`.
"""


def _event(event: events.ImageStatus | NewNotification, number: int) -> str:
    if isinstance(event, NewNotification):
        kind = "notification"
        value = {"notification": notification_json(event.notification), "unread": event.unread}
    else:
        kind, value = "image", event.as_json()
    data = json.dumps(value, separators=(",", ":"))
    return f"event: {kind}\nid: {number}\ndata: {data}\n\n"


async def _stream(
    services: Services, slot: StreamSlot, streams: StreamCloser
) -> AsyncIterator[str]:
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    keepalive = services.settings.events_keepalive_seconds
    number = 0
    async for changed in events.watch(services, slot, streams.closing, keepalive):
        if not changed:
            yield ": keep-alive\n\n"
        for event in changed:
            number += 1
            yield _event(event, number)


class _EventStreamResponse(StreamingResponse):
    """Frees the stream's slot however the response ends: finished, the client gone, or
    never started at all."""

    def __init__(self, content: AsyncIterator[str], hub: EventHub, slot: StreamSlot) -> None:
        super().__init__(content, media_type="text/event-stream", headers=_STREAM_HEADERS)
        self.hub, self.slot = hub, slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.hub.release(self.slot)


@router.get(
    "/events",
    response_class=StreamingResponse,
    description=_DESCRIPTION,
    responses={
        200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}},
        401: {"model": ErrorBody},
        429: {"model": ErrorBody, "description": "Too many streams open for this account."},
    },
)
async def stream_events(
    state: StateDep, services: ServicesDep, user: CurrentUser
) -> StreamingResponse:
    """Live status of your images (Server-Sent Events, for `EventSource`)."""
    hub = services.event_hub
    slot = hub.open(user.id)  # 429 past the cap
    return _EventStreamResponse(_stream(services, slot, state.stream_closer), hub, slot)
