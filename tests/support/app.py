"""Reaching into an app a `TestClient` runs: its services, on its own event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from shutterbox.entrypoints.http.lifespan import app_state


def with_services(client: TestClient, function: Callable[..., Any], *args: Any) -> Any:
    """``function(services, *args)`` run on the application's event loop (the portal of a
    started client), with the services its lifespan built."""
    services = app_state(client.app).services
    assert client.portal is not None
    return client.portal.call(function, services, *args)
