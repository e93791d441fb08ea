"""Where a request comes from, and the session cookie the web pages log in with.

``same_origin`` guards the form posts that start or end a session (logging in, registering,
logging out); ``cross_site`` refuses a cookie login that another site asked for. The CSRF
token of cookie-authenticated writes is checked in the dependencies
(``shutterbox.entrypoints.api.deps``) with ``shutterbox.services.people.sessions``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import HTTPConnection
from starlette.responses import Response

from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.services.people.sessions import SESSION_COOKIE, Session

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _public_base_url(request: HTTPConnection) -> str:
    return app_state(request.app).services.settings.public_base_url


# --- the cookie ---------------------------------------------------------------------------


def secure_cookies(request: HTTPConnection) -> bool:
    """Whether cookies must be marked Secure: the request came over https, or the public base
    URL is https (the origin sits behind a TLS-terminating proxy)."""
    return request.url.scheme == "https" or _public_base_url(request).lower().startswith("https")


def set_cookie(response: Response, session: Session, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=session.max_age_seconds,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def clear_cookie(response: Response, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")


# --- where a request comes from -----------------------------------------------------------


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a URL, or None when it has none (e.g. ``null``)."""
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port that is not a number, a malformed IPv6 address
        return None
    if scheme not in _DEFAULT_PORTS or not host or port is None:
        return None
    return scheme, host, port


def same_origin(request: HTTPConnection) -> bool:
    """Whether a request was sent by a page of this origin: its ``Origin`` header (or else its
    ``Referer``) names the request's own scheme and host, or the public base URL's origin.

    False when the request carries neither header: use it for form posts from the pages
    (logging in, registering, logging out), which browsers always send with one of them.
    """
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed:
        return False
    origin = _origin(claimed)
    if origin is None:
        return False
    own = {_origin(str(request.base_url))}
    public_base = _public_base_url(request)
    if public_base:
        own.add(_origin(public_base))
    return origin in own


def cross_site(request: HTTPConnection) -> bool:
    """Whether a request says it comes from another site (an ``Origin`` or ``Referer`` that is
    not this origin). Requests that name no origin at all (API clients) are not cross-site."""
    if not (request.headers.get("origin") or request.headers.get("referer")):
        return False
    return not same_origin(request)
