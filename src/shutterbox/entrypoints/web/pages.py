"""HTML pages: the shared layout, the cost lab, and the static files they load.

Pages are rendered with Jinja2 (``render``), always with the security headers of
``page_headers``: a Content-Security-Policy that allows scripts and styles only from this
origin (no inline script, no inline event handlers), no framing, ``nosniff`` and a strict
referrer policy. Scripts and the stylesheet are linked through ``static_url``, which adds a
content fingerprint (``?v=<sha256 prefix>``) so that they can be cached for a year.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import QueryParams
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import Scope

from shutterbox import __version__
from shutterbox.config import Settings
from shutterbox.domain import cost
from shutterbox.domain.images import VARIANTS_BY_SIZE
from shutterbox.domain.users import User
from shutterbox.services.people import sessions

WEB_DIR = Path(__file__).parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
STATIC_PREFIX = "/static"

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=300, must-revalidate"

# (key, href, label); "home" is shown only to a logged-in viewer.
NAV_ITEMS = (
    ("feed", "/", "Feed"),
    ("home", "/home", "Home"),
    ("upload", "/upload", "Upload"),
    ("lab", "/lab", "Lab"),
)


# --- static files -------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _fingerprint(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def fingerprint(path: str | os.PathLike[str]) -> str:
    """The content fingerprint of a file (recomputed only when its size or mtime changes)."""
    stat = os.stat(path)
    return _fingerprint(os.fspath(path), stat.st_mtime_ns, stat.st_size)


def static_url(name: str, root_path: str = "") -> str:
    """The URL of a file under ``static/``, fingerprinted so that it can be cached for a year."""
    return f"{root_path}{STATIC_PREFIX}/{name}?v={fingerprint(STATIC_DIR / name)}"


class AssetFiles(StaticFiles):
    """Static files with cache headers: a URL carrying the file's current fingerprint is
    immutable for a year; any other URL (no ``v``, or an old one) is revalidated after a
    few minutes."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [""])[0]
        current = _fingerprint(os.fspath(full_path), stat_result.st_mtime_ns, stat_result.st_size)
        response.headers["Cache-Control"] = IMMUTABLE if asked == current else REVALIDATE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def static_files() -> AssetFiles:
    """The app mounts this at ``/static``."""
    return AssetFiles(directory=STATIC_DIR)


# --- security headers ---------------------------------------------------------------------


def _origin(url: str) -> str | None:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(cdn_base_url: str = "", img_sources: Iterable[str] = ()) -> str:
    """The policy of every page: everything from this origin only, no inline script or
    style, images also from ``data:``/``blob:`` URLs and the CDN, never framed.

    ``img_sources`` adds image origins, e.g. an object store that media requests redirect to.
    """
    images = ["'self'", "data:", "blob:"]
    for source in (cdn_base_url, *img_sources):
        origin = _origin(source) if source else None
        if origin:
            images.append(origin)
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": " ".join(dict.fromkeys(images)),
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def page_headers(settings: Settings, img_sources: Iterable[str] = ()) -> dict[str, str]:
    """Headers for every HTML response."""
    return {
        "Content-Security-Policy": content_security_policy(settings.cdn_base_url, img_sources),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cache-Control": "private, no-cache",
    }


# --- templates ----------------------------------------------------------------------------


@jinja2.pass_context
def _static_url(context: Mapping[str, Any], name: str) -> str:
    request: Request = context["request"]
    return static_url(name, request.scope.get("root_path", ""))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(static_url=_static_url, nav_items=NAV_ITEMS, version=__version__)
    return env


templates = Jinja2Templates(env=_environment())


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.services.settings
    return settings


async def page_viewer(request: Request) -> tuple[User | None, str | None]:
    """Who is looking at a page (from the session cookie), and their session's CSRF token.

    Looked up once per request (a page handler and ``render`` may both ask)."""
    known: tuple[User | None, str | None] | None = getattr(request.state, "page_viewer", None)
    if known is None:
        known = await sessions.viewer(request.app.state.services, request.cookies)
        request.state.page_viewer = known
    return known


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
        **(context or {}),
    }
    response = templates.TemplateResponse(request, template, values, status_code=status_code)
    response.headers.update(page_headers(_settings(request), img_sources))
    return response


# --- the cost lab -------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    detail: str
    short: str = ""
    size: str = ""


# The packaged sheet's typical sizes (the seed's), shown until the estimate brings the price
# sheet's own; the API does all the arithmetic.
SEED_SHEET = cost.load_price_sheet()


def _kb_text(kb: float) -> str:
    return f"{kb / 1000:g} MB" if kb >= 1000 else f"{kb:g} KB"


LAB_VARIANTS = tuple(
    Choice(
        spec.name,
        spec.label,
        f"{spec.max_side} px",
        size=_kb_text(SEED_SHEET.size(f"{spec.name}_kb")),
    )
    for spec in VARIANTS_BY_SIZE
)
ORIGINAL = Choice(
    "original", "Original", "as uploaded", size=_kb_text(SEED_SHEET.size("original_kb"))
)
LAB_STORAGE_CLASSES = (
    Choice("STANDARD", "Standard", "Read in milliseconds; no minimum duration", "Standard"),
    Choice(
        "STANDARD_IA",
        "Standard-IA",
        "Read in milliseconds; 30-day minimum, a fee per GB read",
        "Standard-IA",
    ),
    Choice(
        "GLACIER_IR",
        "Glacier Instant Retrieval",
        "Read in milliseconds; 90-day minimum, a fee per GB read",
        "Glacier IR",
    ),
    Choice(
        "GLACIER",
        "Glacier Flexible Retrieval",
        "Restored before a read: minutes to hours; 90-day minimum",
        "Glacier",
    ),
    Choice(
        "DEEP_ARCHIVE",
        "Glacier Deep Archive",
        "Restored before a read: up to 12 hours; 180-day minimum",
        "Deep Archive",
    ),
)
LAB_FIELDS = (
    "daily_uploads",
    "variants",
    "originals_class",
    "cdn",
    "cdn_hit_rate",
    "views_per_upload",
)


def _number(raw: str | None, default: float, low: float, high: float) -> float:
    try:
        value = float(raw) if raw is not None else default
    except ValueError:
        return default
    return value if low <= value <= high else default


@dataclass(frozen=True)
class LabInputs:
    """The lab's inputs as the form shows them; the seed's scenario by default.

    Read from the page's query string (the same parameters as ``GET /api/v1/cost/estimate``),
    so that a scenario can be linked to; anything unreadable falls back to the default.
    """

    daily_uploads: int = cost.DEFAULT_INPUTS.daily_uploads
    variants: tuple[str, ...] = cost.DEFAULT_INPUTS.variants
    originals_class: str = cost.DEFAULT_INPUTS.originals_class.value
    cdn: bool = cost.DEFAULT_INPUTS.cdn
    cdn_hit_rate: float = SEED_SHEET.size("cdn_hit_rate")
    views_per_upload: float = SEED_SHEET.size("views_per_upload")

    @classmethod
    def from_query(cls, query: QueryParams) -> LabInputs:
        default = cls()
        if not any(name in query for name in LAB_FIELDS):
            return default
        names = {v.value for v in LAB_VARIANTS}
        asked = [part.strip() for raw in query.getlist("variants") for part in raw.split(",")]
        classes = {c.value for c in LAB_STORAGE_CLASSES}
        originals_class = query.get("originals_class", default.originals_class).upper()
        return cls(
            daily_uploads=int(
                _number(query.get("daily_uploads"), default.daily_uploads, 0, 1_000_000_000)
            ),
            variants=tuple(v.value for v in LAB_VARIANTS if v.value in names & set(asked)),
            originals_class=originals_class if originals_class in classes else "STANDARD",
            # A submitted form leaves an unticked checkbox out: absent means off.
            cdn=query.get("cdn", "false").lower() in ("true", "1", "on", "yes"),
            cdn_hit_rate=_number(query.get("cdn_hit_rate"), default.cdn_hit_rate, 0, 1),
            views_per_upload=_number(
                query.get("views_per_upload"), default.views_per_upload, 0, 1_000_000
            ),
        )


router = APIRouter(include_in_schema=False)


@router.get("/lab", response_class=HTMLResponse)
async def read_lab(request: Request) -> HTMLResponse:
    """The cost lab: the seed's calculator, computed by ``GET /api/v1/cost/estimate``."""
    return await render(
        request,
        "lab.html",
        {
            "active": "lab",
            "inputs": LabInputs.from_query(request.query_params),
            "variants": LAB_VARIANTS,
            "original": ORIGINAL,
            "storage_classes": LAB_STORAGE_CLASSES,
        },
    )
