"""Counting the media bytes the origin sends: an ASGI ``send`` wrapper that feeds the
process's ``EgressMeter`` (``shutterbox.services.billing.egress``), and the route class that
puts it around the media answers."""

from __future__ import annotations

from fastapi.routing import APIRoute
from starlette.types import Message, Receive, Scope, Send

from shutterbox.entrypoints.api.local_files import FILE_BYTES_HEADER
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.services.billing.egress import EgressMeter


def metered(meter: EgressMeter, scope: Scope, send: Send) -> Send:
    """Wrap an ASGI ``send`` so that the body of a 200 or 206 answer is counted as it goes
    out (a 304, a redirect or an error sends no media bytes); a GET that answers 200 or 206
    counts as one request."""
    counting = False
    content_length = 0

    async def send_and_count(message: Message) -> None:
        nonlocal counting, content_length
        kind = message["type"]
        if kind == "http.response.start":
            counting = message["status"] in (200, 206)
            file_bytes = None
            for name, value in message.get("headers", ()):
                if name.lower() == b"content-length":
                    content_length = int(value)
                elif name.lower() == FILE_BYTES_HEADER.encode():
                    file_bytes = int(value)
            await send(message)
            if counting and scope.get("method") == "GET":
                meter.add(0, 1)
            # nginx sends the file (X-Accel-Redirect): its size counts (for a Range request
            # too, as an upper bound: only nginx knows the part it sends).
            if counting and file_bytes is not None:
                counting = False
                if scope.get("method") == "GET":
                    meter.add(file_bytes)
            return
        await send(message)
        if not counting:
            return
        if kind == "http.response.body":
            meter.add(len(message.get("body", b"")))
        elif kind == "http.response.pathsend":  # the server sends the whole file itself
            meter.add(content_length)

    return send_and_count


class MeteredRoute(APIRoute):
    """A route whose answers' body bytes count into the application's egress meter."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        meter = app_state(scope["app"]).egress_meter
        await super().handle(scope, receive, metered(meter, scope, send))
