"""Search: images by the words of their details, best first, and people by the start of their
username. What may be searched for and how hits are ranked: ``domain/search.py``.

Who sees what is the lists' rule: ready, undeleted images, public ones to everyone and
private ones to their owner alone (an admin too sees only public ones in lists). Images that
are processing or failed are in no list, so in no search. People come on the first page
only (at most ``USERS_SHOWN``); the images are paged by an opaque cursor, the last hit's
(score, created time, id) with a fingerprint of the query, so that a cursor given with
another query is refused rather than misread."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from shutterbox.domain.errors import InvalidInput
from shutterbox.domain.images import Image
from shutterbox.domain.search import SearchPosition, SearchQuery, parse_query, username_prefix
from shutterbox.domain.users import User
from shutterbox.services.context import Services
from shutterbox.services.people import blocks

USERS_SHOWN = 10


@dataclass
class SearchPage:
    images: list[Image]
    usernames: list[str]
    next_cursor: str | None


def _fingerprint(query: SearchQuery) -> str:
    return hashlib.sha256(query.fingerprint.encode()).hexdigest()[:12]


def encode_search_cursor(query: SearchQuery, position: SearchPosition) -> str:
    raw = json.dumps(
        [_fingerprint(query), position.score, position.created_at.isoformat(), position.image_id],
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_search_cursor(cursor: str | None, query: SearchQuery) -> SearchPosition | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        fingerprint, score, at, image_id = json.loads(raw)
        moment = datetime.fromisoformat(at)
        if not isinstance(score, int) or not isinstance(image_id, str):
            raise ValueError("not a position")
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, OverflowError) as exc:
        raise InvalidInput("the cursor is not one this API handed out") from exc
    if fingerprint != _fingerprint(query):
        raise InvalidInput("the cursor belongs to another search: start again without it")
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return SearchPosition(score, moment, image_id)


async def search(
    services: Services, raw_query: str, viewer: User | None, limit: int, cursor: str | None
) -> SearchPage:
    try:
        query = parse_query(raw_query)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    after = decode_search_cursor(cursor, query)
    prefix = username_prefix(raw_query) if after is None else None
    async with services.metadata.quick_read() as tx:
        hits = await tx.search.images(
            query, viewer_id=viewer.id if viewer else None, after=after, limit=limit + 1
        )
        usernames = await tx.search.usernames(prefix, limit=USERS_SHOWN) if prefix else []
        hidden = await blocks.hidden_owners(tx, viewer) if hits else set()
    more = len(hits) > limit
    hits = hits[:limit]
    next_cursor = encode_search_cursor(query, hits[-1].position) if more and hits else None
    shown = blocks.without_owners([hit.image for hit in hits], hidden, lambda i: i.owner_id)
    return SearchPage(shown, usernames, next_cursor)
