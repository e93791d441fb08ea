"""The cookie that keeps a share link unlocked after its password was given: one per link,
sent only to that link's page and JSON (``/s/{token}``, ``/api/v1/shared/{token}``)."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.responses import Response

from shutterbox.domain.albums import Share
from shutterbox.entrypoints.http.middleware.same_origin import secure_cookies
from shutterbox.services.albums import shared_view
from shutterbox.services.context import Services


def link_paths(token: str) -> tuple[str, str]:
    return f"/s/{token}", f"/api/v1/shared/{token}"


def set_unlocked(
    response: Response, request: HTTPConnection, services: Services, share: Share, token: str
) -> None:
    if share.password_hash is None:
        return
    value, max_age = shared_view.unlock_value(services, share)
    for path in link_paths(token):
        response.set_cookie(
            shared_view.unlock_cookie_name(share),
            value,
            max_age=max_age,
            path=path,
            secure=secure_cookies(request),
            httponly=True,
            samesite="lax",
        )
