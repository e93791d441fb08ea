"""Images, their variants and the rules about them. No framework imports."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from shutterbox.domain.storage import StorageClass


class Status(StrEnum):
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


@dataclass(frozen=True)
class VariantSpec:
    name: str
    max_side: int
    label: str = ""  # what pages call it


# The one definition of the variants every upload gets besides its original.
# Largest first: variants cascade from the biggest one so the file is decoded once.
VARIANT_SPECS: tuple[VariantSpec, ...] = (
    VariantSpec("full", 2048, "Full size"),
    VariantSpec("medium", 1080, "Medium"),
    VariantSpec("thumb", 320, "Thumbnail"),
)
# Smallest first: the order they are listed in (the cost model, the lab, the CLI).
VARIANTS_BY_SIZE = tuple(sorted(VARIANT_SPECS, key=lambda spec: spec.max_side))
VARIANT_NAMES = tuple(spec.name for spec in VARIANTS_BY_SIZE)


def variant_specs_for(
    longest_side: int, specs: tuple[VariantSpec, ...] = VARIANT_SPECS
) -> tuple[VariantSpec, ...]:
    """The variants made of a picture whose longest side is ``longest_side``, largest first.
    Variants only shrink, so a size the picture already fits in one step down would be a
    second copy of the same pixels: it is not made (a 900 px picture gets a ``medium`` and a
    ``thumb``, no ``full``). The smallest is always made."""
    ordered = sorted(specs, key=lambda spec: spec.max_side, reverse=True)
    smaller: list[VariantSpec | None] = [*ordered[1:], None]
    return tuple(
        spec
        for spec, next_down in zip(ordered, smaller, strict=True)
        if next_down is None or longest_side > next_down.max_side
    )


def formats_for(formats: tuple[str, ...], frames: int) -> tuple[str, ...]:
    """The formats an image's variants are made in: an animation gets no AVIF (libvips
    writes a multi-frame AVIF as separate still images, which browsers show as a still, and
    a ``<picture>`` would then prefer that still over the animated WebP)."""
    if frames > 1:
        return tuple(fmt for fmt in formats if fmt != "avif")
    return formats


def animation_problem(
    width: int, height: int, frames: int, *, max_frames: int, max_pixels: int
) -> str | None:
    """Why an animation of ``frames`` frames of ``width`` x ``height`` cannot be processed
    (each frame is decoded, resized and encoded: memory and time grow with all of them), or
    None when it can."""
    if frames > max_frames:
        return (
            f"the animation has {frames} frames, more than the limit of {max_frames} frames: "
            "upload a shorter one"
        )
    total = width * height * frames
    if total > max_pixels:
        return (
            f"the animation is {width} x {height} pixels x {frames} frames "
            f"({total / 1e6:.3g} megapixels), larger than the limit of {max_pixels / 1e6:g} "
            "megapixels for an animation: upload a smaller or shorter one"
        )
    return None


@dataclass(slots=True)  # not frozen: a page builds a hundred of them
class Variant:
    name: str
    key: str
    media_type: str
    width: int
    height: int
    bytes: int
    sha256: str
    format: str = "jpeg"


FORMAT_EXTENSIONS = {"jpeg": "jpg", "webp": "webp", "avif": "avif"}
MAX_ALT_TEXT_CHARS = 1000


@dataclass
class Image:
    id: str
    owner_id: int
    owner_username: str
    status: Status
    visibility: Visibility
    created_at: datetime
    original_key: str
    original_media_type: str
    original_bytes: int
    original_sha256: str
    caption: str = ""
    alt_text: str = ""  # describes the picture for people who cannot see it
    tags: list[str] = field(default_factory=list)
    location_name: str | None = None
    lat: float | None = None
    lon: float | None = None
    width: int | None = None
    height: int | None = None
    failure_reason: str | None = None
    taken_at: datetime | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    lens: str | None = None
    exposure_time: str | None = None
    f_number: float | None = None
    iso: int | None = None
    focal_length_mm: float | None = None
    blurhash: str | None = None
    dominant_color: str | None = None
    frames: int = 1  # an animation's frames, kept in its WebP variants (1: a still picture)
    processed_at: datetime | None = None
    deleted_at: datetime | None = None
    original_storage_class: StorageClass = StorageClass.STANDARD
    original_restore_requested_at: datetime | None = None
    original_restored_until: datetime | None = None
    like_count: int = 0  # kept on the row with every like and comment (ports/social.py)
    comment_count: int = 0
    # The row's version, raised by the database on every change (None: not from a database
    # that keeps one); what is kept by (id, version) is current. Bookkeeping, not content:
    # two images with the same fields are equal whatever their versions.
    version: int | None = field(default=None, compare=False)
    variants: dict[str, Variant] = field(default_factory=dict)  # the JPEGs, by name
    alternates: dict[str, dict[str, Variant]] = field(default_factory=dict)  # format → name →

    def variant(self, name: str, fmt: str = "jpeg") -> Variant | None:
        if fmt == "jpeg":
            return self.variants.get(name)
        return self.alternates.get(fmt, {}).get(name)

    @property
    def animated(self) -> bool:
        return self.frames > 1

    def sized_variants(self) -> dict[str, Variant]:
        """Every variant name, smallest first, with the JPEG variant that serves it: its own,
        or for a size the picture is too small to need (``variant_specs_for``) the largest
        smaller one, so that ``full`` is always the biggest picture there is. Names stored
        but no longer specified keep their own."""
        stored = self.variants
        shown: dict[str, Variant] = {}
        serving: Variant | None = None
        for name in VARIANT_NAMES:
            serving = stored.get(name, serving)
            if serving is not None:
                shown[name] = serving
        for name, variant in stored.items():
            shown.setdefault(name, variant)
        return dict(sorted(shown.items(), key=lambda item: item[1].width))

    def all_variants(self) -> list[Variant]:
        return [*self.variants.values(), *(v for f in self.alternates.values() for v in f.values())]

    def original_readable(self, now: datetime) -> bool:
        """Whether the original's bytes can be read now (archived ones need a restore first)."""
        if not self.original_storage_class.is_archive:
            return True
        return self.original_restored_until is not None and self.original_restored_until > now

    def shown_in_lists(self) -> bool:
        """Whether its owner's lists show it: ready and not deleted."""
        return self.status == Status.READY and self.deleted_at is None

    def shown_in_public_lists(self) -> bool:
        return self.shown_in_lists() and self.visibility == Visibility.PUBLIC

    def shown_in_home_of(self, user_id: int) -> bool:
        """Whether ``user_id``'s home may show it (given that its timeline holds it)."""
        return self.shown_in_lists() and (
            self.visibility == Visibility.PUBLIC or self.owner_id == user_id
        )

    def visible_to(self, user_id: int | None) -> bool:
        if self.deleted_at is not None:
            return False
        return self.visibility == Visibility.PUBLIC or user_id == self.owner_id


def new_image_id() -> str:
    """16 lowercase base32 characters (80 random bits)."""
    return base64.b32encode(secrets.token_bytes(10)).decode().lower()


def _date_path(created_at: datetime) -> str:
    return created_at.strftime("%Y/%m/%d")


def original_key(image_id: str, created_at: datetime, extension: str) -> str:
    return f"originals/{_date_path(created_at)}/{image_id}.{extension}"


def is_original_key(key: str) -> bool:
    """Whether a blob key is an original's (the bytes a user uploaded, kept twice with a
    replica; everything else can be made again from them)."""
    return key.startswith("originals/")


def variant_key(image_id: str, created_at: datetime, variant: str, extension: str = "jpg") -> str:
    return f"variants/{_date_path(created_at)}/{image_id}-{variant}.{extension}"


def fit_within(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Size of ``width x height`` scaled down (never up) to fit a ``max_side`` square."""
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def normalise_tags(raw: str | list[str] | None, max_tags: int) -> list[str]:
    """Tags from a comma/space separated string: lowercase, no '#', unique, in order."""
    if raw is None:
        return []
    parts = raw if isinstance(raw, list) else raw.replace(",", " ").split()
    tags: list[str] = []
    for part in parts:
        tag = part.strip().lstrip("#").lower()
        if not tag:
            continue
        if len(tag) > 50 or not all(c.isalnum() or c in "_-" for c in tag):
            # quote at most the start of the offending tag: the message goes back to people
            shown = part if len(part) <= 60 else part[:50] + "..."
            raise ValueError(f"tag {shown!r} must be 1-50 letters, digits, '_' or '-'")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > max_tags:
        raise ValueError(f"at most {max_tags} tags are allowed, got {len(tags)}")
    return tags
