"""The application's lifespan and the typed state it keeps while the application runs.

Startup wires the services (``bootstrap``), chains the exit-signal handler that ends open
event streams, starts the egress flusher and, when asked for, the in-process worker pool;
shutdown undoes each in turn. Everything that reads the state does so through ``app_state``
(the dependencies in ``shutterbox.entrypoints.api.deps``, the pages, the middleware), never
through untyped attributes of ``app.state``.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from shutterbox.bootstrap import bootstrap
from shutterbox.config import Settings
from shutterbox.entrypoints.http.middleware.stream_closing import StreamCloser
from shutterbox.entrypoints.worker import WorkerPool
from shutterbox.services.billing.egress import EgressFlusher, EgressMeter
from shutterbox.services.context import Services
from shutterbox.services.people.limits import RateLimiter

_STATE = "shutterbox"  # the one attribute of ``app.state`` this application sets


@dataclass
class AppState:
    """What a running application holds: the services (with the rate limiter and this
    process's egress meter), the stream closer, the egress flusher and the worker pool, if
    any."""

    services: Services
    stream_closer: StreamCloser = field(default_factory=StreamCloser)
    egress_flusher: EgressFlusher | None = None
    workers: WorkerPool | None = None

    @property
    def rate_limiter(self) -> RateLimiter:
        return self.services.rate_limiter

    @property
    def egress_meter(self) -> EgressMeter:
        return self.services.egress_meter


def app_state(app: Any) -> AppState:
    """The state of a running application (``request.app``, ``scope["app"]``)."""
    state = getattr(app.state, _STATE, None)
    if not isinstance(state, AppState):
        raise RuntimeError(
            "the application has not started: run it under its lifespan "
            "(a server, or `with TestClient(app)`)"
        )
    return state


Lifespan = Callable[[Any], AbstractAsyncContextManager[None]]


def lifespan(settings: Settings, worker_count: int, *, migrate: bool = True) -> Lifespan:
    """The lifespan of an application serving ``settings``, with ``worker_count`` workers
    in-process (0: none); ``migrate`` brings the schema up to date first."""

    @asynccontextmanager
    async def run(app: Any) -> AsyncIterator[None]:
        services = await bootstrap(settings, migrate=migrate)
        state = AppState(services)
        setattr(app.state, _STATE, state)
        # Open event streams end on the exit signal: the server waits for them before it
        # runs this shutdown.
        state.stream_closer.install()
        # Media bytes sent, flushed every few seconds.
        state.egress_flusher = EgressFlusher(services.egress_meter, services.metadata)
        state.egress_flusher.start()
        if worker_count > 0:
            state.workers = WorkerPool(services, worker_count)
            state.workers.start()
        # What start-up built lives as long as the process: out of the collector's sight, so
        # that its passes over the young objects each request makes stay short.
        gc.freeze()
        try:
            yield
        finally:
            state.stream_closer.close()
            if state.workers:
                await state.workers.stop()
            await state.egress_flusher.stop()
            await services.close()

    return run
