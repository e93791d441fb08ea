"""The JSON of albums and share links."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from shutterbox.domain.albums import (
    MAX_DESCRIPTION_CHARS,
    MAX_SHARE_PASSWORD_CHARS,
    MAX_TITLE_CHARS,
)
from shutterbox.entrypoints.api.schemas import ImagePublic, Timestamp

VisibilityName = Literal["public", "private"]
_ID = Field(min_length=1, max_length=64)


class AlbumCreate(BaseModel):
    title: str = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    description: str = Field(default="", max_length=MAX_DESCRIPTION_CHARS)
    visibility: VisibilityName = "public"


class AlbumUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=MAX_TITLE_CHARS)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)
    visibility: VisibilityName | None = None
    cover_image_id: str | None = Field(
        default=None,
        max_length=64,
        description="One of the album's images; null: no cover. Left out: unchanged.",
    )


class AlbumPublic(BaseModel):
    id: str
    owner: str
    title: str
    description: str
    visibility: VisibilityName
    cover: ImagePublic | None = Field(description="The cover, when you may see it.")
    created_at: Timestamp
    updated_at: Timestamp


class AlbumPage(BaseModel):
    items: list[AlbumPublic]
    next_cursor: str | None = None


class AlbumOrder(BaseModel):
    """Either the whole order (``image_ids``), or one move (``move`` before ``before``; no
    ``before``: to the end)."""

    image_ids: list[str] | None = Field(default=None, max_length=10_000)
    move: str | None = Field(default=None, max_length=64)
    before: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _one_form(self) -> AlbumOrder:
        if (self.image_ids is None) == (self.move is None):
            raise ValueError("give either image_ids (the whole order) or move (and before)")
        if self.image_ids is not None and self.before is not None:
            raise ValueError("before goes with move, not with image_ids")
        return self


class ShareCreate(BaseModel):
    album_id: str | None = Field(default=None, min_length=1, max_length=64)
    image_id: str | None = Field(default=None, min_length=1, max_length=64)
    expires_at: datetime | None = Field(default=None, description="Omitted: never expires.")
    password: str | None = Field(default=None, min_length=1, max_length=MAX_SHARE_PASSWORD_CHARS)
    hide_details: bool = Field(
        default=False, description="Show no place (name, coordinates) and no camera details."
    )

    @model_validator(mode="after")
    def _one_target(self) -> ShareCreate:
        if (self.album_id is None) == (self.image_id is None):
            raise ValueError("give either album_id or image_id")
        return self


class SharePublic(BaseModel):
    id: str
    album_id: str | None
    image_id: str | None
    expires_at: Timestamp | None
    expired: bool
    has_password: bool
    hide_details: bool
    created_at: Timestamp


class ShareCreated(SharePublic):
    token: str = Field(description="The link's secret: shown this once, never again.")
    url: str = Field(description="The page that shows what is shared, for anyone.")


class SharePage(BaseModel):
    items: list[SharePublic]
    next_cursor: str | None = None


class SharedAlbum(BaseModel):
    id: str
    owner: str
    title: str
    description: str


class SharedContent(BaseModel):
    """What a link shows: one image, or an album and a page of its images."""

    kind: Literal["album", "image"]
    hide_details: bool
    expires_at: Timestamp | None
    album: SharedAlbum | None = None
    image: ImagePublic | None = None
    images: list[ImagePublic] | None = None
    next_cursor: str | None = None


class ShareUnlock(BaseModel):
    password: str = Field(min_length=1, max_length=MAX_SHARE_PASSWORD_CHARS)
