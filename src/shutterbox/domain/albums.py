"""Albums and share links: what they are and the rules of their fields.

An album is an owner's ordered selection of their own images. Its entries are ordered by a
gapped integer ``position``: appending takes the last position plus ``POSITION_GAP``, moving
an image between two others takes the midpoint of their positions, so a move writes one row.
Only when two neighbours have no integer left between them (after some twenty moves into the
same gap) is the album renumbered, once, with the gaps restored.

A share link opens an album or one image to whoever holds its token (an unguessable string of
which only the SHA-256 is kept), until it expires or is revoked, optionally behind a password,
optionally without the place and camera details of what it shows.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime

from shutterbox.domain.images import Visibility

MAX_TITLE_CHARS = 200
MAX_DESCRIPTION_CHARS = 2000
MAX_SHARE_PASSWORD_CHARS = 200
POSITION_GAP = 1 << 20


@dataclass(frozen=True)
class Album:
    id: str
    owner_id: int
    owner_username: str
    title: str
    description: str
    visibility: Visibility
    cover_image_id: str | None
    created_at: datetime
    updated_at: datetime

    def visible_to(self, user_id: int | None) -> bool:
        return self.visibility == Visibility.PUBLIC or user_id == self.owner_id


@dataclass(frozen=True)
class Share:
    id: str
    owner_id: int
    token_sha256: str
    album_id: str | None
    image_id: str | None
    expires_at: datetime | None
    password_hash: str | None
    hide_details: bool
    created_at: datetime
    revoked_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


def new_id() -> str:
    """16 lowercase base32 characters (80 random bits), like an image's id."""
    return base64.b32encode(secrets.token_bytes(10)).decode().lower()


def new_share_token() -> str:
    """The secret of a share link: 32 random bytes (256 bits), URL-safe."""
    return secrets.token_urlsafe(32)


def check_title(title: str) -> str:
    cleaned = title.strip()
    if not cleaned:
        raise ValueError("an album needs a title")
    if len(cleaned) > MAX_TITLE_CHARS:
        raise ValueError(f"an album's title is at most {MAX_TITLE_CHARS} characters")
    return cleaned


def check_description(description: str) -> str:
    cleaned = description.strip()
    if len(cleaned) > MAX_DESCRIPTION_CHARS:
        raise ValueError(f"an album's description is at most {MAX_DESCRIPTION_CHARS} characters")
    return cleaned


def position_between(before: int | None, after: int | None) -> int | None:
    """A position strictly between two neighbours' (None: the start or the end of the album);
    None when there is no integer left between them (the album must be renumbered)."""
    if before is None and after is None:
        return POSITION_GAP
    if after is None:
        assert before is not None
        return before + POSITION_GAP
    if before is None:
        return after - POSITION_GAP
    if after - before < 2:
        return None
    return (before + after) // 2


def renumbered(count: int) -> list[int]:
    """Fresh positions for ``count`` entries in order, a full gap apart."""
    return [POSITION_GAP * (n + 1) for n in range(count)]
