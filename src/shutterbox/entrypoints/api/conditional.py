"""HTTP validators (RFC 9110 section 13): when a cached copy is still good (304)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime


def http_date(moment: datetime) -> str:
    return format_datetime(moment.replace(tzinfo=UTC, microsecond=0), usegmt=True)


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def not_modified(headers: Mapping[str, str], etag: str, last_modified: datetime) -> bool:
    """True when a GET/HEAD with these request headers should be answered with 304."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        # weak comparison, as If-None-Match requires
        return any(_opaque(t) == _opaque(etag) for t in if_none_match.split(","))
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified.replace(tzinfo=UTC, microsecond=0) <= since
    return False


def parse_single_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """(start, end-exclusive) for a satisfiable single byte range, None to send the whole
    body, or "unsatisfiable" for a 416."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    spec = header[len("bytes=") :].strip()
    first, _, last = spec.partition("-")
    try:
        if first == "":
            suffix = int(last)
            if suffix <= 0:
                return "unsatisfiable"
            return max(0, size - suffix), size
        start = int(first)
        end = int(last) + 1 if last else size
    except ValueError:
        return None
    if start >= size or end <= start:
        return "unsatisfiable"
    return start, min(end, size)
