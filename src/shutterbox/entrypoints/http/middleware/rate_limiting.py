"""The HTTP side of the rate limits: whom a request counts against (the client's address) and
the headers of the 429 answer. The counting itself is
``shutterbox.services.people.limits.RateLimiter``, built once by ``bootstrap``."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from shutterbox.domain.errors import RateLimited
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.services.people import limits


def client_address(request: HTTPConnection) -> str:
    return request.client.host if request.client else "unknown"


def _limiter(request: HTTPConnection) -> limits.RateLimiter:
    return app_state(request.app).rate_limiter


async def hit_login(request: HTTPConnection, username: str) -> None:
    """Count a login attempt for this username from this address (before checking the
    password); call ``login_succeeded`` afterwards so that only failures use up the limit."""
    await limits.hit_login(_limiter(request), username, client_address(request))


async def login_succeeded(request: HTTPConnection, username: str) -> None:
    await limits.login_succeeded(_limiter(request), username, client_address(request))


async def hit_upload(request: HTTPConnection, user_id: int) -> None:
    await limits.hit_upload(_limiter(request), user_id)


def rate_limited_headers(exc: RateLimited) -> dict[str, str]:
    """The headers of a 429: when the client may try again."""
    return {"Retry-After": str(exc.retry_after)}
