"""Signed, expiring URLs: an HMAC-SHA256 over the method, the path and the expiry time."""

from __future__ import annotations

import hashlib
import hmac


def signature(secret: bytes, method: str, path: str, expires: int) -> str:
    message = f"{method.upper()}\n{path}\n{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def verify(secret: bytes, method: str, path: str, expires: int, given: str, now: float) -> bool:
    """True when ``given`` signs exactly this method, path and expiry, and it has not passed."""
    if now >= expires:
        return False
    return hmac.compare_digest(signature(secret, method, path, expires), given)
