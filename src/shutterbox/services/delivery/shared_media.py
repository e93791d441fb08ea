"""The media URLs of what a share link shows: signed, expiring, and naming the link, so that
they work only while the link does.

A private image seen through a link gets ``/media/...?share=<link id>&expires=&signature=``:
the signature covers the path and the link's id, the expiry never passes the link's own, and
the media route checks on every request that the link is neither revoked nor expired and still
shows the image. Such a URL has a query string, so the edge passes it to the origin and never
stores it (``deploy/varnish``); the browser keeps it privately for a minute at most. A
revoked link's media stop at once, and a link never makes an image's usual URLs public."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

from shutterbox.domain import signing
from shutterbox.domain.albums import Share
from shutterbox.services.delivery.media_urls import MediaUrls

# How long a browser may keep a file seen through a link (never an edge: it is private).
SHARED_MAX_AGE_SECONDS = 60


def _signed_path(path: str, share_id: str) -> str:
    return f"{path}?share={share_id}"


def _timestamp(moment: datetime) -> float:
    return moment.replace(tzinfo=UTC).timestamp() if moment.tzinfo is None else moment.timestamp()


def shared_url(urls: MediaUrls, share: Share, path: str, now: float | None = None) -> str:
    """``path`` signed for ``share``: expiring with the signed URL lifetime (rounded up, so a
    page reloaded a moment later gets the same URL), never after the link expires."""
    now = time.time() if now is None else now
    step = max(1, urls.signed_ttl // 4)
    expires = math.ceil((now + urls.signed_ttl) / step) * step
    if share.expires_at is not None:
        expires = min(expires, math.floor(_timestamp(share.expires_at)))
    signature = signing.signature(urls.keys[0], "GET", _signed_path(path, share.id), expires)
    query = urlencode({"share": share.id, "expires": expires, "signature": signature})
    return f"{urls.origin_base}{path}?{query}"


def verify(
    urls: MediaUrls,
    path: str,
    share_id: str,
    expires: int,
    signature: str,
    now: float | None = None,
) -> bool:
    now = time.time() if now is None else now
    signed = _signed_path(path, share_id)
    return any(signing.verify(k, "GET", signed, expires, signature, now) for k in urls.keys)
