"""The web pages' session: a cookie on this origin, with a CSRF token for writes."""

from __future__ import annotations

from fastapi import Request, Response, status
from pydantic import BaseModel, Field

from shutterbox.domain.errors import Forbidden, Unauthorized
from shutterbox.entrypoints.api.deps import ServicesDep
from shutterbox.entrypoints.api.schemas import ErrorBody
from shutterbox.entrypoints.http.middleware import rate_limiting, same_origin
from shutterbox.entrypoints.http.routing import Router
from shutterbox.services.people import sessions

router = Router(prefix="/api/v1", tags=["users"])


class SessionCreate(BaseModel):
    username: str = Field(max_length=100)
    password: str = Field(max_length=1024)


class SessionPublic(BaseModel):
    username: str
    csrf_token: str = Field(
        description="Send it in the X-CSRF-Token header with every request that changes "
        "something (any method but GET, HEAD and OPTIONS)."
    )


@router.post(
    "/session",
    response_model=SessionPublic,
    responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 429: {"model": ErrorBody}},
)
async def create_session(
    body: SessionCreate, request: Request, response: Response, services: ServicesDep
) -> SessionPublic:
    """Log in for the web pages: sets the HttpOnly session cookie and answers the session's
    CSRF token. API clients use `POST /api/v1/auth/token` instead."""
    if same_origin.cross_site(request):
        raise Forbidden("logging in from another site is not allowed")
    await rate_limiting.hit_login(request, body.username)
    session = await sessions.log_in(services, body.username, body.password)
    await rate_limiting.login_succeeded(request, body.username)
    same_origin.set_cookie(response, session, same_origin.secure_cookies(request))
    return SessionPublic(username=session.user.username, csrf_token=session.csrf_token)


@router.get("/session", response_model=SessionPublic, responses={401: {"model": ErrorBody}})
async def read_session(request: Request, services: ServicesDep) -> SessionPublic:
    """Who the session cookie belongs to, and its CSRF token."""
    user, csrf_token = await sessions.viewer(services, request.cookies)
    if user is None or csrf_token is None:
        raise Unauthorized("no session: log in first")
    return SessionPublic(username=user.username, csrf_token=csrf_token)


@router.delete(
    "/session",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={403: {"model": ErrorBody}},
)
async def delete_session(request: Request, services: ServicesDep) -> Response:
    """Log out: revokes the session (needs its X-CSRF-Token) and clears the cookie. Without a
    live session there is nothing to revoke and the cookie is cleared all the same."""
    token = request.cookies.get(sessions.SESSION_COOKIE)
    if token and await sessions.user_for_session(services, token) is not None:
        sessions.check_csrf(services, token, request.headers.get(sessions.CSRF_HEADER))
        await sessions.log_out(services, token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    same_origin.clear_cookie(response, same_origin.secure_cookies(request))
    return response
