"""Answering with a file of the local blob store.

Starlette's ``FileResponse`` stats, opens and reads the file in worker threads, one thread
hop per step and per 64 KiB chunk (uvicorn offers no sendfile to an ASGI app). Media files
are small and immutable, so a whole-file GET of one up to ``WHOLE_FILE_BYTES`` is read in a
single hop and sent as one body; a HEAD, a Range request or a bigger file goes through
``FileResponse``, which handles ranges and streams."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from shutterbox.domain.errors import NotFound

WHOLE_FILE_BYTES = 1024 * 1024


def _read_whole(path: Path) -> bytes | None:
    """The file's bytes, or None when it is bigger than ``WHOLE_FILE_BYTES``."""
    with open(path, "rb") as file:
        if os.fstat(file.fileno()).st_size > WHOLE_FILE_BYTES:
            return None
        return file.read()


async def local_file_response(
    path: Path, media_type: str, headers: Mapping[str, str], request: Request
) -> Response:
    if request.method == "GET" and "range" not in request.headers:
        try:
            body = await anyio.to_thread.run_sync(_read_whole, path)
        except FileNotFoundError as missing:
            raise NotFound("the file is missing from the store") from missing
        if body is not None:
            return Response(body, media_type=media_type, headers=dict(headers))
    return FileResponse(path, media_type=media_type, headers=headers)
