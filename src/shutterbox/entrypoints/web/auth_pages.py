"""Registering, logging in and logging out, as HTML forms.

A successful login or registration starts a cookie session (``services.sessions``) and
redirects (303) to ``next`` when that is a path on this site, else to the feed. The form posts
are refused (403) unless the browser says they come from a page of this origin, so that
another site cannot log a visitor in or out; logging out also needs the session's CSRF token
from the form. A wrong password, a taken name or an unacceptable one shows the form again
with the reason (401, 409, 400).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from shutterbox.domain.errors import Conflict, InvalidInput, RateLimited, Unauthorized
from shutterbox.domain.users import MIN_PASSWORD_CHARS
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.entrypoints.http.middleware import rate_limiting, same_origin
from shutterbox.entrypoints.http.routing import Router
from shutterbox.entrypoints.web.rendering import render
from shutterbox.services.context import Services
from shutterbox.services.people import accounts, sessions

router = Router(include_in_schema=False)

CROSS_SITE = (
    "This form was sent from another site, so it was not accepted. "
    "Open this page on shutterbox itself and try again."
)
FormField = Annotated[str, Form()]


def safe_next(raw: str | None) -> str:
    """Where to go after logging in: a path on this site (``/users/bob?x=1``), else ``/``.

    Refuses absolute URLs, scheme-relative ones (``//evil.example``), backslashes (which some
    browsers treat as slashes) and control characters.
    """
    if not raw or len(raw) > 1000 or not raw.startswith("/") or raw.startswith("//"):
        return "/"
    if "\\" in raw or any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return "/"
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return "/"
    return raw


def _services(request: Request) -> Services:
    services: Services = app_state(request.app).services
    return services


def _redirect(to: str) -> RedirectResponse:
    return RedirectResponse(to, status_code=303, headers={"Cache-Control": "no-store"})


async def _form(
    request: Request,
    template: str,
    *,
    next_path: str,
    username: str = "",
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "next_path": next_path,
        "next_query": "" if next_path == "/" else "?next=" + quote(next_path, safe="/"),
        "username": username,
        "error": error,
        "min_password_chars": MIN_PASSWORD_CHARS,
    }
    return await render(request, template, context, status_code=status_code)


@dataclass(frozen=True)
class _FormAgain:
    """A login or registration form shown again after a post, with the reason it failed."""

    request: Request
    template: str
    next_path: str
    username: str

    async def __call__(
        self, error: str, status_code: int, *, keep_username: bool = True
    ) -> HTMLResponse:
        return await _form(
            self.request,
            self.template,
            next_path=self.next_path,
            username=self.username if keep_username else "",
            error=error,
            status_code=status_code,
        )


def _logged_in(request: Request, session: sessions.Session, next_path: str) -> Response:
    response = _redirect(next_path)
    same_origin.set_cookie(response, session, same_origin.secure_cookies(request))
    return response


# --- logging in ---------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
async def read_login(request: Request, next: str | None = None) -> HTMLResponse:
    return await _form(request, "login.html", next_path=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
async def log_in(
    request: Request,
    username: FormField = "",
    password: FormField = "",
    next: FormField = "",
) -> Response:
    again = _FormAgain(request, "login.html", safe_next(next), username)
    if not same_origin.same_origin(request):
        return await again(CROSS_SITE, 403, keep_username=False)
    if not username.strip() or not password:
        return await again("Enter your username and password.", 400)
    try:
        await rate_limiting.hit_login(request, username)
    except RateLimited as exc:
        page = await again(
            f"Too many failed attempts. Try again in {exc.retry_after} seconds.", 429
        )
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    try:
        session = await sessions.log_in(_services(request), username, password)
    except Unauthorized:
        return await again("Wrong username or password.", 401)
    await rate_limiting.login_succeeded(request, username)
    return _logged_in(request, session, again.next_path)


# --- registering --------------------------------------------------------------------------


@router.get("/register", response_class=HTMLResponse)
async def read_register(request: Request, next: str | None = None) -> HTMLResponse:
    return await _form(request, "register.html", next_path=safe_next(next))


@router.post("/register", response_class=HTMLResponse)
async def register(
    request: Request,
    username: FormField = "",
    password: FormField = "",
    next: FormField = "",
) -> Response:
    again = _FormAgain(request, "register.html", safe_next(next), username)
    if not same_origin.same_origin(request):
        return await again(CROSS_SITE, 403, keep_username=False)
    services = _services(request)
    try:
        user = await accounts.register(services.metadata, username, password)
    except InvalidInput as exc:
        return await again(exc.message[:1].upper() + exc.message[1:] + ".", 400)
    except Conflict:
        return await again("That username is taken: choose another one.", 409)
    session = await sessions.start_for(services, user)
    return _logged_in(request, session, again.next_path)


# --- logging out --------------------------------------------------------------------------


@router.post("/logout", response_class=HTMLResponse)
async def log_out(request: Request, csrf_token: FormField = "") -> Response:
    services = _services(request)
    token = request.cookies.get(sessions.SESSION_COOKIE)
    if not same_origin.same_origin(request):
        return await render(
            request,
            "message.html",
            {"heading": "Not logged out", "message": CROSS_SITE},
            status_code=403,
        )
    if token and (await sessions.user_for_session(services, token)) is not None:
        if not sessions.csrf_matches(services, token, csrf_token):
            return await render(
                request,
                "message.html",
                {
                    "heading": "Not logged out",
                    "message": "The form was out of date. Reload the page and log out again.",
                },
                status_code=403,
            )
        await sessions.log_out(services, token)
    response = _redirect("/")
    same_origin.clear_cookie(response, same_origin.secure_cookies(request))
    return response
