"""Where an image's bytes are served from: immutable paths, through the CDN when public,
signed and expiring when private."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from shutterbox.domain import signing
from shutterbox.domain.images import Image, Visibility

EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/avif": "avif",
    "image/heic": "heic",
    "image/tiff": "tiff",
}
HASH_CHARS = 16


def media_path(image_id: str, name: str, sha256: str, media_type: str) -> str:
    """Immutable: the path changes whenever the bytes do."""
    return f"/media/{image_id}/{name}-{sha256[:HASH_CHARS]}.{EXTENSIONS.get(media_type, 'bin')}"


def negotiated_path(image_id: str, name: str, sha256: str) -> str:
    """The variant in whichever format the client's Accept prefers (named by its JPEG)."""
    return f"/media/{image_id}/{name}-{sha256[:HASH_CHARS]}"


def image_media_paths(image: Image) -> list[str]:
    """Every path an image's bytes are served under (what an edge may hold)."""
    paths = [media_path(image.id, v.name, v.sha256, v.media_type) for v in image.all_variants()]
    paths += [negotiated_path(image.id, n, v.sha256) for n, v in image.variants.items()]
    paths.append(media_path(image.id, "original", image.original_sha256, image.original_media_type))
    return paths


@dataclass(frozen=True)
class MediaUrls:
    origin_base: str
    cdn_base: str
    keys: tuple[bytes, ...]  # the first signs; all verify (rotation)
    signed_ttl: int

    def for_file(self, image: Image, name: str, sha256: str, media_type: str | None = None) -> str:
        """``media_type`` None: the negotiating URL."""
        if media_type is None:
            path = negotiated_path(image.id, name, sha256)
        else:
            path = media_path(image.id, name, sha256, media_type)
        if image.visibility == Visibility.PUBLIC and name != "original":
            return (self.cdn_base or self.origin_base) + path
        return self.origin_base + self.signed(path)

    def signed(self, path: str, now: float | None = None) -> str:
        """``path`` with an expiry and a signature. The expiry is rounded up to a quarter of
        the lifetime, so a page reloaded a moment later gets the same URL (and the browser's
        cached copy)."""
        now = time.time() if now is None else now
        step = max(1, self.signed_ttl // 4)
        expires = math.ceil((now + self.signed_ttl) / step) * step
        sig = signing.signature(self.keys[0], "GET", path, expires)
        return f"{path}?{urlencode({'expires': expires, 'signature': sig})}"

    def verify(self, path: str, expires: int, signature: str, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return any(signing.verify(k, "GET", path, expires, signature, now) for k in self.keys)
