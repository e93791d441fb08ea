"""What a person says about a picture: caption, tags, alt text, place and who may see it.

One set of rules for every way a picture arrives (a multipart form, a direct upload's
completion, an import) and for edits: text is trimmed, tags normalised, lengths and
coordinates checked, and anything wrong is an ``InvalidInput`` with a message for people.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from shutterbox.domain.errors import InvalidInput
from shutterbox.domain.images import MAX_ALT_TEXT_CHARS, Image, Visibility, normalise_tags

MAX_LOCATION_NAME_CHARS = 200
_TRUE = {"1", "true", "on", "yes"}


@dataclass(frozen=True)
class DetailLimits:
    max_caption_chars: int
    max_tags: int


@dataclass
class UploadDetails:
    caption: str = ""
    tags: list[str] = field(default_factory=list)
    alt_text: str = ""
    location_name: str | None = None
    lat: float | None = None
    lon: float | None = None
    visibility: Visibility = Visibility.PUBLIC
    share_location: bool = False  # use the photo's GPS position when no lat/lon is given
    visibility_chosen: bool = False  # given by the client, not the default


def unkept_details(details: UploadDetails, image: Image) -> list[str]:
    """What an upload of bytes that ``image`` already holds asks for and ``image`` does not
    have, in words ("caption", "tags", ...); empty when nothing would be lost by answering
    with ``image`` (no details given, or the same ones, or tags it already has). A detail
    left empty asks for nothing."""
    unkept = []
    if details.caption and details.caption != image.caption:
        unkept.append("caption")
    if set(details.tags) - set(image.tags):
        unkept.append("tags")
    if details.alt_text and details.alt_text != image.alt_text:
        unkept.append("alt text")
    named = details.location_name is not None and details.location_name != image.location_name
    placed = details.lat is not None and (details.lat, details.lon) != (image.lat, image.lon)
    if named or placed:
        unkept.append("place")
    if details.visibility_chosen and details.visibility != image.visibility:
        unkept.append("visibility")
    return unkept


def check_details(details: UploadDetails, max_caption_chars: int) -> None:
    if len(details.caption) > max_caption_chars:
        raise InvalidInput(f"the caption is longer than {max_caption_chars} characters")
    if len(details.alt_text) > MAX_ALT_TEXT_CHARS:
        raise InvalidInput(f"the alt text is longer than {MAX_ALT_TEXT_CHARS} characters")
    if details.location_name is not None and len(details.location_name) > MAX_LOCATION_NAME_CHARS:
        raise InvalidInput(f"the location name is longer than {MAX_LOCATION_NAME_CHARS} characters")
    if (details.lat is None) != (details.lon is None):
        raise InvalidInput("give both lat and lon, or neither")
    if details.lat is not None and details.lon is not None:
        if not (math.isfinite(details.lat) and -90 <= details.lat <= 90):
            raise InvalidInput("lat must be between -90 and 90")
        if not (math.isfinite(details.lon) and -180 <= details.lon <= 180):
            raise InvalidInput("lon must be between -180 and 180")


def tags_from(raw: str | list[str] | None, max_tags: int) -> list[str]:
    """``normalise_tags`` with its complaint as an ``InvalidInput``."""
    try:
        return normalise_tags(raw, max_tags)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def details_from(
    limits: DetailLimits,
    *,
    caption: str = "",
    tags: str | list[str] | None = None,
    alt_text: str = "",
    location: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    visibility: Visibility | None = None,
    share_location: bool = False,
) -> UploadDetails:
    """Checked details from the values a client sent (``visibility`` None: not given, and
    public)."""
    details = UploadDetails(
        caption=caption.strip(),
        tags=tags_from(tags, limits.max_tags),
        alt_text=alt_text.strip(),
        location_name=(location or "").strip() or None,
        lat=lat,
        lon=lon,
        visibility=visibility or Visibility.PUBLIC,
        share_location=share_location,
        visibility_chosen=visibility is not None,
    )
    check_details(details, limits.max_caption_chars)
    return details


def details_from_form(fields: Mapping[str, str], limits: DetailLimits) -> UploadDetails:
    """Checked details from the text fields of a multipart form."""

    def number(name: str) -> float | None:
        raw = fields.get(name, "").strip()
        if not raw:
            return None
        try:
            return float(raw)
        except ValueError as exc:
            raise InvalidInput(f"{name} must be a number") from exc

    tags = tags_from(fields.get("tags"), limits.max_tags)  # checked first, as it always was
    visibility_raw = fields.get("visibility", "").strip().lower()
    try:
        visibility = Visibility(visibility_raw) if visibility_raw else None
    except ValueError as exc:
        raise InvalidInput("visibility must be 'public' or 'private'") from exc
    return details_from(
        limits,
        caption=fields.get("caption", ""),
        tags=tags,
        alt_text=fields.get("alt_text", ""),
        location=fields.get("location"),
        lat=number("lat"),
        lon=number("lon"),
        visibility=visibility,
        share_location=fields.get("share_location", "").strip().lower() in _TRUE,
    )
