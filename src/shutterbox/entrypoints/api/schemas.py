"""The JSON the API speaks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shutterbox.domain.images import Visibility


def _in_utc(moment: datetime) -> datetime:
    """The database keeps naive UTC; the API says so (``...Z``)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


Timestamp = Annotated[datetime, AfterValidator(_in_utc)]
"""A moment in UTC, written with its zone (RFC 3339)."""


class ErrorBody(BaseModel):
    detail: str = Field(description="What was wrong, in words a person understands.")
    code: str = Field(description="A stable machine-readable error code.")
    image_id: str | None = Field(
        default=None,
        description="With `duplicate_upload`: the image these bytes already made (also in "
        "`Location`).",
    )


class UserCreate(BaseModel):
    username: str = Field(description="3-30 characters: a-z, 0-9 or '_'.")
    password: str = Field(description="At least 8 characters.")


class UserPublic(BaseModel):
    id: int
    username: str
    created_at: Timestamp


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class VariantPublic(BaseModel):
    """One size of the picture. A size the picture is too small to need is not made: its
    name then has the URLs and width of the largest smaller one (list each width once in a
    ``srcset``)."""

    url: str = Field(description="Negotiates the format on Accept (Vary: Accept).")
    formats: dict[str, str] = Field(
        default_factory=dict,
        description="An explicit URL per format (jpeg, webp, avif), for <picture> and srcset.",
    )
    width: int
    height: int
    bytes: int
    content_type: str


class OriginalPublic(BaseModel):
    url: str
    bytes: int
    content_type: str
    sha256: str
    storage_class: str = Field(
        description="STANDARD, STANDARD_IA, GLACIER_IR, GLACIER or DEEP_ARCHIVE"
    )
    downloadable: bool = Field(
        description="False while archived and not restored: fetching the URL starts a restore (202)"
    )
    restored_until: Timestamp | None = Field(
        default=None, description="Until when a restored archived original can be downloaded"
    )


class Location(BaseModel):
    name: str | None = None
    lat: float | None = None
    lon: float | None = None


class Camera(BaseModel):
    make: str | None = None
    model: str | None = None
    lens: str | None = None
    exposure_time: str | None = Field(default=None, description='e.g. "1/125" seconds')
    f_number: float | None = None
    iso: int | None = None
    focal_length_mm: float | None = None


class ImagePublic(BaseModel):
    id: str
    owner: str
    status: str = Field(description="processing, ready or failed")
    failure_reason: str | None = None
    visibility: str
    caption: str
    alt_text: str = Field(description="Describes the picture for people who cannot see it.")
    tags: list[str]
    location: Location | None = None
    width: int | None = None
    height: int | None = None
    taken_at: datetime | None = Field(
        default=None,
        description="When the camera took it, in its own local time (EXIF has no zone).",
    )
    camera: Camera | None = None
    blurhash: str | None = Field(default=None, description="A placeholder to show while loading.")
    dominant_color: str | None = Field(default=None, description='e.g. "#c86432"')
    animated: bool = Field(
        default=False,
        description="An animated GIF or WebP: its `webp` variants move, its `jpeg` ones show "
        "the first frame (for `prefers-reduced-motion`), and it has no `avif` ones.",
    )
    created_at: Timestamp
    processed_at: Timestamp | None = None
    variants: dict[str, VariantPublic] = Field(default_factory=dict)
    original: OriginalPublic | None = Field(default=None, description="Only shown to the owner.")
    likes: int = Field(default=0, description="How many people like it.")
    comments: int = Field(default=0, description="How many comments it has.")
    liked_by_me: bool = Field(
        default=False, description="Whether you like it; false when you are not logged in."
    )


class ProcessingEstimate(BaseModel):
    """Sent with an upload when the queue is busy: the original is safe, its variants wait."""

    queued_ahead: int = Field(description="Jobs of new uploads waiting before this one.")
    expected_seconds: int | None = Field(
        description="About how long until it is ready, from how fast images became ready "
        "in the last minute; null when none did (no worker is running)."
    )


class UploadedImage(ImagePublic):
    processing_estimate: ProcessingEstimate | None = Field(
        default=None, description="Only when the queue is busy (SHUTTERBOX_QUEUE_BUSY_DEPTH)."
    )


class ImagePage(BaseModel):
    items: list[ImagePublic]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page."
    )


class ImagePatch(BaseModel):
    """The fields to change: a field left out (or null) stays as it is, except `location`,
    which null clears."""

    model_config = ConfigDict(extra="forbid")

    caption: str | None = Field(default=None, description="The new caption.")
    tags: list[str] | str | None = Field(
        default=None,
        description="The new tags, replacing all: a list, or one comma or space separated "
        'string (`[]` or `""` removes them all).',
    )
    alt_text: str | None = Field(
        default=None, description="Describes the picture for people who cannot see it."
    )
    location: Location | None = Field(
        default=None, description="The new location, replacing the whole of it; null clears it."
    )
    visibility: Visibility | None = Field(
        default=None, description="public or private; changing it purges the edge caches."
    )


class Health(BaseModel):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)
    breakers: dict[str, str] = Field(default_factory=dict)  # dependency -> closed, open, ...
