"""The page renderer: the Jinja2 environment, who is looking at a page, and ``render``.

Every page extends ``base.html`` and goes out with the headers of ``csp.page_headers``;
``fragment`` renders a piece of a page (e.g. a run of image cards) with the same headers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from shutterbox import __version__
from shutterbox.config import Settings
from shutterbox.domain.users import User
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.entrypoints.web.csp import page_headers
from shutterbox.entrypoints.web.static_assets import static_url
from shutterbox.services.people import sessions
from shutterbox.services.social import notifications

TEMPLATES_DIR = Path(__file__).parent / "templates"

# (key, href, label); "home" is shown only to a logged-in viewer.
NAV_ITEMS = (
    ("feed", "/", "Feed"),
    ("home", "/home", "Home"),
    ("upload", "/upload", "Upload"),
    ("lab", "/lab", "Lab"),
)


@jinja2.pass_context
def _static_url(context: Mapping[str, Any], name: str) -> str:
    request: Request = context["request"]
    return static_url(name, request.scope.get("root_path", ""))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        auto_reload=False,  # the templates are the installed package's: no stat per page
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(static_url=_static_url, nav_items=NAV_ITEMS, version=__version__)
    return env


templates = Jinja2Templates(env=_environment())


def _settings(request: Request) -> Settings:
    settings: Settings = app_state(request.app).services.settings
    return settings


async def page_viewer(request: Request) -> tuple[User | None, str | None]:
    """Who is looking at a page (from the session cookie), and their session's CSRF token.

    Looked up once per request (a page handler and ``render`` may both ask)."""
    known: tuple[User | None, str | None] | None = getattr(request.state, "page_viewer", None)
    if known is None:
        known = await sessions.viewer(app_state(request.app).services, request.cookies)
        request.state.page_viewer = known
    return known


async def _unread(request: Request, viewer: User | None) -> str:
    """The header's count of unread notifications ("" for none, "99+" for many)."""
    if viewer is None:
        return ""
    count = await notifications.unread_count(app_state(request.app).services, viewer)
    if count >= notifications.UNREAD_COUNTED:
        return f"{notifications.UNREAD_COUNTED - 1}+"
    return str(count) if count else ""


async def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    img_sources: Iterable[str] = (),
) -> HTMLResponse:
    """Render a page that extends ``base.html``, with the security headers.

    ``context["active"]`` names the navigation item to mark as the current page. Every page
    also gets ``viewer`` (the logged-in ``User`` or None) and ``csrf_token`` (their session's,
    or None), which the layout uses for the account menu and ``<meta name="csrf-token">``;
    a page may pass its own (e.g. a handler that has just logged someone out).
    """
    viewer, csrf_token = await page_viewer(request)
    values: dict[str, Any] = {
        "active": "",
        "viewer": viewer,
        "csrf_token": csrf_token,
        "unread_notifications": await _unread(request, viewer),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, template, values, status_code=status_code)
    response.headers.update(page_headers(_settings(request), img_sources))
    return response


def fragment(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    headers: Mapping[str, str] | None = None,
    img_sources: Iterable[str] = (),
) -> HTMLResponse:
    """Render a piece of a page (a template that does not extend ``base.html``), for a script
    to insert; with the same security headers as a page, plus ``headers``."""
    response = templates.TemplateResponse(request, template, dict(context))
    response.headers.update(page_headers(_settings(request), img_sources))
    response.headers.update(headers or {})
    return response
