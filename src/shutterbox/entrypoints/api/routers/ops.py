"""Health, readiness and metrics for operators."""

from __future__ import annotations

import contextlib

from fastapi import Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from shutterbox.entrypoints.api.deps import ServicesDep
from shutterbox.entrypoints.api.schemas import Health
from shutterbox.entrypoints.http.routing import Router
from shutterbox.services import metrics

router = Router(tags=["operations"])


@router.get("/healthz", response_model=Health)
async def read_health() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
async def read_readiness(services: ServicesDep) -> Response:
    """The database, the blob store and the job queue can all be reached; and the state of
    each dependency's circuit breaker (closed, half-open, open). Each check is a call through
    its breaker: while one is open its check fails at once, and after the cool-down the
    check may be the trial call that closes it again."""
    checks: dict[str, str] = {}
    try:
        await services.metadata.ping()
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await services.store.check()
        checks["store"] = "ok"
    except Exception as exc:
        checks["store"] = f"error: {type(exc).__name__}"
    try:
        await services.queue.check()
        checks["queue"] = "ok"
    except Exception as exc:
        checks["queue"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    breakers = {name: b.state.label for name, b in services.breakers.items()}
    body = Health(status="ok" if ok else "unavailable", checks=checks, breakers=breakers)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get("/metrics", response_class=Response)
async def read_metrics(services: ServicesDep) -> Response:
    """Prometheus text format."""
    with contextlib.suppress(Exception):
        metrics.QUEUE_DEPTH.set(await services.queue.depth())
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
