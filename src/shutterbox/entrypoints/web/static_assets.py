"""The static files of the pages (scripts, stylesheet, icon) and their cache headers.

``static_url`` links a file with a content fingerprint (``?v=<sha256 prefix>``), and the
``AssetFiles`` mount serves a URL carrying the current fingerprint as immutable for a year;
any other URL (no ``v``, or an old one) is revalidated after a few minutes. The scripts are ES
modules that import each other by relative URL (``./lib/api.js``, without a fingerprint): a
script asked for without its current fingerprint is revalidated on every use (a cheap 304),
so that a page never runs a new module beside an old copy of one it imports.
"""

from __future__ import annotations

import hashlib
import os
import time
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/static"

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=300, must-revalidate"
REVALIDATE_MODULE = "public, no-cache"


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


# A page links several files: each file's fingerprint is looked at again (its stat) at most
# this often, not for every link of every page.
RECHECK_SECONDS = 1.0
_known: dict[str, tuple[float, str]] = {}  # name: (when looked at, fingerprint)


def static_url(name: str, root_path: str = "") -> str:
    """The URL of a file under ``static/``, fingerprinted so that it can be cached for a year."""
    now = time.monotonic()
    known = _known.get(name)
    if known is None or now - known[0] > RECHECK_SECONDS:
        known = (now, fingerprint(STATIC_DIR / name))
        _known[name] = known
    return f"{root_path}{STATIC_PREFIX}/{name}?v={known[1]}"


class AssetFiles(StaticFiles):
    """Static files with cache headers: a URL carrying the file's current fingerprint is
    immutable for a year; any other URL (no ``v``, or an old one) is revalidated after a
    few minutes, or on every use for a script (modules import each other unfingerprinted)."""

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
        if asked == current:
            response.headers["Cache-Control"] = IMMUTABLE
        elif os.fspath(full_path).endswith(".js"):
            response.headers["Cache-Control"] = REVALIDATE_MODULE
        else:
            response.headers["Cache-Control"] = REVALIDATE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def static_files() -> AssetFiles:
    """The app mounts this at ``/static``."""
    return AssetFiles(directory=STATIC_DIR)
