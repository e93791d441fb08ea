"""The FastAPI application factory."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from obstore.exceptions import BaseError as ObjectStoreError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shutterbox import __version__
from shutterbox.bootstrap import bootstrap
from shutterbox.config import Settings
from shutterbox.domain.errors import RateLimited, ShutterboxError, Unavailable
from shutterbox.entrypoints.api.routers import (
    cost,
    events,
    feed,
    images,
    media,
    ops,
    session,
    social,
    trash,
    uploads,
    users,
)
from shutterbox.entrypoints.web import (
    auth_pages,
    feed_fragments,
    feed_pages,
    image_pages,
    lab_page,
    static_assets,
    upload_pages,
)
from shutterbox.entrypoints.worker import WorkerPool
from shutterbox.services import metrics
from shutterbox.services.billing.egress import EgressFlusher, EgressMeter
from shutterbox.services.images.events import StreamCloser


class RequestMetrics:
    """Request latency by route template (not by raw path, which would explode the labels)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            metrics.REQUEST_SECONDS.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - started
            )


def create_app(settings: Settings | None = None, *, workers: int | None = None) -> FastAPI:
    settings = settings or Settings()
    worker_count = settings.workers if workers is None else workers

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await bootstrap(settings)
        app.state.services = services
        # Open event streams end on the exit signal: the server waits for them before it
        # runs this shutdown.
        app.state.event_streams = event_streams = StreamCloser()
        event_streams.install()
        app.state.egress_meter = EgressMeter()  # media bytes sent, flushed every few seconds
        egress_flusher = EgressFlusher(app.state.egress_meter, services.metadata)
        egress_flusher.start()
        pool = WorkerPool(services, worker_count) if worker_count > 0 else None
        if pool:
            pool.start()
        try:
            yield
        finally:
            event_streams.close()
            if pool:
                await pool.stop()
            await egress_flusher.stop()
            await services.close()

    app = FastAPI(
        title="shutterbox",
        version=__version__,
        description="Self-hostable image sharing: durable uploads, background variants, "
        "cache-friendly delivery.",
        lifespan=lifespan,
    )

    @app.exception_handler(ShutterboxError)
    async def domain_error(_request: Request, exc: ShutterboxError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, RateLimited | Unavailable):
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse({"detail": exc.message, "code": exc.code}, exc.status, headers)

    # A database or blob store that cannot be reached is a 503 the client may retry, not a
    # 500: nothing was committed (the row is written last). Only I/O and connection errors
    # are mapped; anything else is a bug and stays a 500.
    @app.exception_handler(OSError)
    @app.exception_handler(ObjectStoreError)
    @app.exception_handler(PoolTimeout)
    async def dependency_unreachable(request: Request, exc: Exception) -> JSONResponse:
        return await domain_error(request, _unavailable(exc))

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
            return await domain_error(request, _unavailable(exc))
        raise exc

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems: list[str] = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
            problems.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
        body: dict[str, Any] = {"detail": "; ".join(problems), "code": "invalid_input"}
        return JSONResponse(body, 422)

    routers = (
        users.router,
        session.router,
        images.router,
        uploads.router,
        feed.router,
        media.router,
        ops.router,
        trash.router,
        cost.router,
        events.router,
        social.router,  # after users: /api/v1/users/me is not a profile ("me" is no username)
    )
    for router in routers:
        app.include_router(router)
    app.include_router(lab_page.router)
    app.include_router(upload_pages.router)
    app.include_router(image_pages.router)
    app.include_router(auth_pages.router)
    app.include_router(feed_pages.router)
    app.include_router(feed_fragments.router)
    app.mount(static_assets.STATIC_PREFIX, static_assets.static_files(), name="static")
    app.add_middleware(RequestMetrics)
    return app


def _unavailable(exc: Exception) -> Unavailable:
    """The answer for a dependency that failed with ``exc``, without leaking its details."""
    if isinstance(exc, ObjectStoreError) or (
        isinstance(exc, OSError) and not isinstance(exc, ConnectionError | TimeoutError)
    ):
        what = "the storage cannot be written or read"
    else:
        what = "a service this server depends on cannot be reached"
    return Unavailable(f"temporarily unavailable: {what}; try again shortly")
