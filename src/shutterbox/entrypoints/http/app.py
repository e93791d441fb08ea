"""The FastAPI application factory: the lifespan, the error answers, the API routers, the
pages, the static files and the middleware, put together."""

from __future__ import annotations

from fastapi import FastAPI

from shutterbox import __version__
from shutterbox.config import Settings
from shutterbox.entrypoints.api.routers import (
    albums,
    blocks,
    cost,
    events,
    export,
    feed,
    images,
    media,
    moderation,
    notifications,
    ops,
    reactions,
    search,
    session,
    shares,
    social,
    trash,
    tus,
    uploads,
    users,
)
from shutterbox.entrypoints.http.errors import install_error_handlers
from shutterbox.entrypoints.http.lifespan import lifespan
from shutterbox.entrypoints.http.middleware.request_metrics import RequestMetrics
from shutterbox.entrypoints.web import (
    album_pages,
    auth_pages,
    feed_fragments,
    feed_pages,
    image_pages,
    lab_page,
    moderation_pages,
    search_pages,
    share_pages,
    social_pages,
    static_assets,
    upload_pages,
)


def create_app(
    settings: Settings | None = None, *, workers: int | None = None, migrate: bool = True
) -> FastAPI:
    """The application for ``settings`` (default: from the environment), with ``workers``
    background workers in-process (default: ``settings.workers``; 0: none). ``migrate``
    false: the schema is already at the latest version (another process saw to it)."""
    settings = settings or Settings()
    worker_count = settings.workers if workers is None else workers
    app = FastAPI(
        title="shutterbox",
        version=__version__,
        description="Self-hostable image sharing: durable uploads, background variants, "
        "cache-friendly delivery.",
        lifespan=lifespan(settings, worker_count, migrate=migrate),
    )
    install_error_handlers(app)
    routers = (  # routes are matched in this order: the most requested first
        feed.router,
        media.router,
        users.router,
        export.router,
        session.router,
        images.router,
        uploads.router,
        tus.router,
        ops.router,
        trash.router,
        cost.router,
        events.router,
        search.router,
        reactions.router,
        notifications.router,
        social.router,  # after users: /api/v1/users/me is not a profile ("me" is no username)
        albums.router,
        shares.router,
        moderation.router,
        blocks.router,
    )
    for router in routers:
        app.include_router(router)
    app.include_router(lab_page.router)
    app.include_router(upload_pages.router)
    app.include_router(image_pages.router)
    app.include_router(auth_pages.router)
    app.include_router(feed_pages.router)
    app.include_router(feed_fragments.router)
    app.include_router(search_pages.router)
    app.include_router(album_pages.router)
    app.include_router(share_pages.router)
    app.include_router(social_pages.router)
    app.include_router(moderation_pages.router)
    app.mount(static_assets.STATIC_PREFIX, static_assets.static_files(), name="static")
    app.add_middleware(RequestMetrics)
    return app


def create_api_process_app() -> FastAPI:
    """One of several API processes that ``shutterbox serve --api-processes N`` starts: settings
    from the environment, no workers (a worker process of its own runs the jobs), and the
    schema already migrated by the parent."""
    return create_app(Settings(), workers=0, migrate=False)
