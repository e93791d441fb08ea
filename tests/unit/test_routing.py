"""Routers turn a request away at once when no route of theirs can take its path, and take
every request they took before."""

from __future__ import annotations

from typing import Any

from starlette.routing import Match

from shutterbox.entrypoints.http.routing import Router


def _router() -> Router:
    router = Router(prefix="/api/v1/images")

    @router.get("/{image_id}")
    async def one(image_id: str) -> dict[str, str]:
        return {"id": image_id}

    @router.get("/{image_id}/comments")
    async def comments(image_id: str) -> list[str]:
        return []

    return router


def _scope(path: str, **extra: Any) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": path, "root_path": "", **extra}


def test_the_prefix_is_what_every_route_starts_with_up_to_a_parameter():
    router = _router()
    assert router.literal_prefix() == "/api/v1/images/"

    @router.get("/")
    async def listing() -> list[str]:
        return []

    assert router.literal_prefix() == "/api/v1/images/"  # made again for the new route
    assert Router().literal_prefix() == ""


def test_a_path_outside_the_prefix_is_turned_away_and_one_inside_is_matched_as_before():
    router = _router()
    assert router.matches(_scope("/api/v1/users/ann")) == (Match.NONE, {})
    assert router.matches(_scope("/images/abc")) == (Match.NONE, {})
    # inside the prefix: FastAPI's own matching (an included router answers through it)
    outside = router.matches(_scope("/api/v1/users/ann"))
    inside = router.matches(_scope("/api/v1/images/abc"))
    assert outside[0] == Match.NONE and inside == super(Router, router).matches(
        _scope("/api/v1/images/abc")
    )


def test_a_mounted_app_is_matched_as_fastapi_does():
    router = _router()
    mounted = _scope("/shutterbox/elsewhere", root_path="/shutterbox")
    assert router.matches(mounted) == super(Router, router).matches(mounted)
