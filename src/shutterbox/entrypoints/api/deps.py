"""FastAPI dependencies as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from shutterbox.domain.errors import Forbidden, Unauthorized
from shutterbox.domain.users import User
from shutterbox.entrypoints.http.lifespan import AppState, app_state
from shutterbox.services.context import Services
from shutterbox.services.people import accounts, sessions

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/token")
_session_cookie = APIKeyCookie(
    name=sessions.SESSION_COOKIE,
    auto_error=False,
    description="The web pages' session (POST /api/v1/session); requests that change "
    "something must also send its CSRF token in the X-CSRF-Token header.",
)


# Dependencies are ``async def`` even when they never wait: FastAPI runs a plain ``def`` in a
# worker thread, a thread hop per request for a dictionary look-up.
async def get_state(request: Request) -> AppState:
    """The running application's state."""
    return app_state(request.app)


async def get_services(request: Request) -> Services:
    return app_state(request.app).services


StateDep = Annotated[AppState, Depends(get_state)]
ServicesDep = Annotated[Services, Depends(get_services)]


async def optional_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session_token: Annotated[str | None, Depends(_session_cookie)],
) -> User | None:
    """The bearer token's user (an invalid token: 401), or else the session cookie's (an
    invalid or expired cookie: anonymous). A cookie-authenticated request that changes
    something must carry the session's CSRF token (403 without it). Never reads the body.
    (The services come from the request, not from a dependency: one fewer to solve on every
    authenticated request.)"""
    services = app_state(request.app).services
    if credentials is not None:
        user = await accounts.user_for_token(services.metadata, credentials.credentials)
        if user is None:
            raise Unauthorized("the token is invalid, expired or revoked")
        return user
    user = await sessions.user_for_session(services, session_token)
    if user is None or session_token is None:
        return None
    if request.method not in sessions.SAFE_METHODS:
        sessions.check_csrf(services, session_token, request.headers.get(sessions.CSRF_HEADER))
    return user


async def request_user(request: Request) -> User | None:
    """``optional_user`` called by hand, for a route that needs to know who asks only
    sometimes (the media route: never for a public variant)."""
    credentials = await _bearer(request)
    return await optional_user(request, credentials, await _session_cookie(request))


async def required_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise Unauthorized(
            "log in first: send 'Authorization: Bearer <token>', or log in on the web pages"
        )
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(required_user)]


async def admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise Forbidden(
            "this needs an admin account (shutterbox users create NAME --admin makes one)"
        )
    return user


AdminUser = Annotated[User, Depends(admin_user)]
