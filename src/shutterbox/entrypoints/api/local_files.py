"""Answering with a file of the local blob store.

Under uvicorn the API process reads the file itself: uvicorn offers no sendfile to an ASGI
app, and Starlette's ``FileResponse`` stats, opens and reads the file in worker threads, one
thread hop per step and per 64 KiB chunk. Media files are small and immutable, so a
whole-file GET of one up to ``WHOLE_FILE_BYTES`` is read in a single hop and sent as one
body; a HEAD, a Range request or a bigger file goes through ``FileResponse``, which handles
ranges and streams.

Behind nginx (``SHUTTERBOX_MEDIA_ACCEL_REDIRECT``) the process reads nothing: once the
router has made every access check, it answers with an empty body and an
``X-Accel-Redirect`` naming the file, and nginx sends the file with sendfile, Range and HEAD
included (deploy/nginx/shutterbox.conf, location ``/_shutterbox_files``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from shutterbox.domain.errors import NotFound

WHOLE_FILE_BYTES = 1024 * 1024
# The size of the file nginx will send for an X-Accel-Redirect answer, for the egress meter
# (the answer itself has no body). nginx does not pass it on to the client.
FILE_BYTES_HEADER = "x-shutterbox-file-bytes"


def _read_whole(path: Path) -> bytes | None:
    """The file's bytes, or None when it is bigger than ``WHOLE_FILE_BYTES``."""
    with open(path, "rb") as file:
        if os.fstat(file.fileno()).st_size > WHOLE_FILE_BYTES:
            return None
        return file.read()


async def local_file_response(
    path: Path,
    media_type: str,
    headers: Mapping[str, str],
    request: Request,
    accel_prefix: str = "",
) -> Response:
    if accel_prefix:
        return await accel_redirect_response(path, media_type, headers, accel_prefix)
    if request.method == "GET" and "range" not in request.headers:
        try:
            body = await anyio.to_thread.run_sync(_read_whole, path)
        except FileNotFoundError as missing:
            raise NotFound("the file is missing from the store") from missing
        if body is not None:
            return Response(body, media_type=media_type, headers=dict(headers))
    return FileResponse(path, media_type=media_type, headers=headers)


def accel_redirect_uri(path: Path, prefix: str) -> str:
    """The internal URI nginx serves ``path`` under: the prefix, then the absolute path,
    percent-encoded (nginx decodes it and refuses any ``..``)."""
    return prefix.rstrip("/") + quote(str(path.absolute()), safe="/")


async def accel_redirect_response(
    path: Path, media_type: str, headers: Mapping[str, str], prefix: str
) -> Response:
    """An empty answer that tells nginx to send ``path`` itself. nginx keeps the answer's
    Content-Type and Cache-Control; the location in deploy/nginx copies the ETag,
    Last-Modified, Vary and nosniff headers onto the file's answer."""
    try:
        size = (await anyio.to_thread.run_sync(os.stat, path)).st_size
    except FileNotFoundError as missing:
        raise NotFound("the file is missing from the store") from missing
    return Response(
        b"",
        media_type=media_type,
        headers={
            **headers,
            "x-accel-redirect": accel_redirect_uri(path, prefix),
            FILE_BYTES_HEADER: str(size),
        },
    )
