"""Cookie sessions for the web pages, on the same origin as the API.

A session is an API token (the ``api_tokens`` table, with the token lifetime) carried in an
HttpOnly, SameSite=Lax cookie instead of an ``Authorization`` header. Because a browser
sends the cookie with every request to this origin, a request that changes something and was
authenticated by the cookie must also carry the session's CSRF token in the
``X-CSRF-Token`` header: an HMAC-SHA256 of the session token under the secret key, which a
page of this origin is given and another site cannot read or compute. Form posts that start
or end a session (logging in, registering, logging out) are checked with ``same_origin``.

The cookie itself and where a request comes from are HTTP:
``shutterbox.entrypoints.http.middleware.same_origin``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from shutterbox.clock import utcnow
from shutterbox.domain.errors import Forbidden
from shutterbox.domain.users import User
from shutterbox.services.context import Services
from shutterbox.services.people import accounts
from shutterbox.services.people.accounts import _token_digest

SESSION_COOKIE = "shutterbox_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Tokens are 43 characters; anything much longer is not one of ours and is not looked up.
_MAX_TOKEN_CHARS = 200


class CsrfRejected(Forbidden):
    code = "csrf"

    def __init__(self) -> None:
        super().__init__(
            f"missing or invalid CSRF token: send the {CSRF_HEADER} header from the page"
        )


@dataclass(frozen=True)
class Session:
    token: str
    csrf_token: str
    user: User
    max_age_seconds: int


def _max_age(services: Services) -> int:
    return int(timedelta(days=services.settings.token_ttl_days).total_seconds())


def _csrf(key: bytes, session_token: str) -> str:
    return hmac.new(key, session_token.encode(), hashlib.sha256).hexdigest()


def csrf_token(services: Services, session_token: str) -> str:
    """The CSRF token of a session: the same for the session's whole life."""
    return _csrf(services.secret_key, session_token)


def csrf_matches(services: Services, session_token: str, given: str | None) -> bool:
    """Whether ``given`` is this session's CSRF token (compared in constant time). Tokens made
    with a previous secret key still match, so that rotating the key does not break the pages
    that are open."""
    if not given:
        return False
    previous = services.settings.previous_secret_keys.split(",")
    keys = [services.secret_key, *(k.strip().encode() for k in previous if k.strip())]
    given_bytes = given.encode()
    matches = [hmac.compare_digest(_csrf(key, session_token).encode(), given_bytes) for key in keys]
    return any(matches)


def check_csrf(services: Services, session_token: str, given: str | None) -> None:
    if not csrf_matches(services, session_token, given):
        raise CsrfRejected()


def _session(services: Services, token: str, user: User) -> Session:
    return Session(token, csrf_token(services, token), user, _max_age(services))


async def log_in(services: Services, username: str, password: str) -> Session:
    """Check the password (as the token endpoint does) and start a session.

    Raises ``Unauthorized`` ("wrong username or password") when they do not match.
    """
    token = await accounts.issue_token(
        services.metadata, username, password, services.settings.token_ttl_days
    )
    user = await accounts.user_for_token(services.metadata, token)
    assert user is not None  # just issued
    return _session(services, token, user)


async def start_for(services: Services, user: User) -> Session:
    """A session for a user whose identity is already established (e.g. just registered)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    async with services.metadata.write() as tx:
        expires_at = now + timedelta(seconds=_max_age(services))
        await tx.users.add_token(_token_digest(token), user.id, now, expires_at)
    return _session(services, token, user)


async def user_for_session(services: Services, session_token: str | None) -> User | None:
    """The user of a live session token; None for a missing, malformed, expired or revoked one."""
    if not session_token or len(session_token) > _MAX_TOKEN_CHARS:
        return None
    return await accounts.user_for_token(services.metadata, session_token)


async def viewer(
    services: Services, request_cookies: Mapping[str, str]
) -> tuple[User | None, str | None]:
    """The user and CSRF token for a request's cookies: ``(None, None)`` when there is no
    session cookie or it is malformed, expired or revoked (never raises for a bad cookie)."""
    token = request_cookies.get(SESSION_COOKIE)
    user = await user_for_session(services, token)
    if user is None or token is None:
        return None, None
    return user, csrf_token(services, token)


async def log_out(services: Services, session_token: str) -> None:
    """Revoke the session's token: the cookie no longer logs anyone in, wherever it is kept."""
    if session_token and len(session_token) <= _MAX_TOKEN_CHARS:
        await accounts.revoke_token(services.metadata, session_token)
