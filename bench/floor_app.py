"""The framework floor for an upload: the least a Starlette app under uvicorn can do to accept
a multipart photo durably. It streams the file part to a new file (python-multipart's
parser, SHA-256 as the bytes arrive), fsyncs it, renames it into place, fsyncs the directory
and answers 201 with the checksum. No authentication, no database, no checks.

`bench/upload_latency.py` runs it as ``uvicorn bench.floor_app:app`` with the directory in
``FLOOR_DIR``, beside `shutterbox serve`, and compares the two.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import anyio
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

DIRECTORY = Path(os.environ.get("FLOOR_DIR", "floor-uploads"))


class _File:
    """The file part's bytes into a temporary file, hashed as they come."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle = open(path, "xb")  # noqa: SIM115 - closed in finish()
        self.hash = hashlib.sha256()
        self.in_file = False

    def on_headers_finished(self) -> None:
        self.in_file = True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.in_file:
            chunk = data[start:end]
            self.handle.write(chunk)
            self.hash.update(chunk)

    def on_part_end(self) -> None:
        self.in_file = False

    def finish(self, final: Path) -> None:
        """Durable: fsync, rename into place, fsync the directory (run in a thread)."""
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        os.rename(self.path, final)
        fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


async def upload(request: Request) -> JSONResponse:
    _, options = parse_options_header(request.headers["content-type"])
    name = uuid.uuid4().hex
    part = _File(DIRECTORY / f".{name}.tmp")
    parser = MultipartParser(
        options[b"boundary"],
        {
            "on_headers_finished": part.on_headers_finished,
            "on_part_data": part.on_part_data,
            "on_part_end": part.on_part_end,
        },
    )
    async for chunk in request.stream():
        parser.write(chunk)
    parser.finalize()
    await anyio.to_thread.run_sync(part.finish, DIRECTORY / f"{name}.jpg")
    return JSONResponse({"id": name, "sha256": part.hash.hexdigest()}, status_code=201)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


DIRECTORY.mkdir(parents=True, exist_ok=True)
app = Starlette(
    routes=[Route("/api/v1/images", upload, methods=["POST"]), Route("/healthz", healthz)]
)
