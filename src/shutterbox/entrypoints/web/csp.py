"""The security headers of every HTML response: a strict Content-Security-Policy (scripts and
styles from this origin only, no inline script or event handler), no framing, ``nosniff`` and
a same-origin referrer policy."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from shutterbox.config import Settings


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
