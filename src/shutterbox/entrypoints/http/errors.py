"""How errors become answers: domain errors with their status and code, a dependency that
cannot be reached as a 503 the client may retry, invalid input as a 422 that names the
fields."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from obstore.exceptions import BaseError as ObjectStoreError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shutterbox.domain.errors import DuplicateUpload, RateLimited, ShutterboxError, Unavailable
from shutterbox.entrypoints.api.routers import tus
from shutterbox.entrypoints.http.middleware.rate_limiting import rate_limited_headers


async def domain_error(request: Request, exc: ShutterboxError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    if isinstance(exc, RateLimited):
        headers = rate_limited_headers(exc)
    elif isinstance(exc, Unavailable):
        headers = {"Retry-After": str(exc.retry_after)}
    if request.scope["path"].startswith(tus.PREFIX):  # every tus answer names the protocol
        headers |= {"Tus-Resumable": tus.VERSION, "Tus-Version": tus.VERSION}
    body = {"detail": exc.message, "code": exc.code}
    if isinstance(exc, DuplicateUpload):  # where the image these bytes already made is
        body["image_id"] = exc.image_id
        headers["Location"] = f"/api/v1/images/{exc.image_id}"
    return JSONResponse(body, exc.status, headers or None)


# A database or blob store that cannot be reached is a 503 the client may retry, not a 500:
# nothing was committed (the row is written last). Only I/O and connection errors are mapped;
# anything else is a bug and stays a 500.


async def dependency_unreachable(request: Request, exc: Exception) -> JSONResponse:
    return await domain_error(request, _unavailable(exc))


async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
    if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
        return await domain_error(request, _unavailable(exc))
    raise exc


async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    problems: list[str] = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        problems.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    body: dict[str, Any] = {"detail": "; ".join(problems), "code": "invalid_input"}
    return JSONResponse(body, 422)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ShutterboxError, domain_error)  # type: ignore[arg-type]
    for unreachable in (OSError, ObjectStoreError, PoolTimeout):
        app.add_exception_handler(unreachable, dependency_unreachable)
    app.add_exception_handler(DBAPIError, database_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]


def _unavailable(exc: Exception) -> Unavailable:
    """The answer for a dependency that failed with ``exc``, without leaking its details."""
    if isinstance(exc, ObjectStoreError) or (
        isinstance(exc, OSError) and not isinstance(exc, ConnectionError | TimeoutError)
    ):
        what = "the storage cannot be written or read"
    else:
        what = "a service this server depends on cannot be reached"
    return Unavailable(f"temporarily unavailable: {what}; try again shortly")
