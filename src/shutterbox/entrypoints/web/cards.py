"""An image card: what ``_image_card.html`` shows of one image in a grid.

``card`` turns the API's ``ImagePublic`` into a ``Card`` (so a card's URLs are the API's);
every grid of the site, first page or next ones (``feed_fragments``), renders it with the same
template.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from shutterbox.entrypoints.api.schemas import ImagePublic, VariantPublic

EAGER_CARDS = 4  # the first cards load at once (they are in view); the rest lazily

# The width a card's image is shown at, for the browser to pick a variant from the srcset;
# it follows the grid of app.css (1 column, 2 from 36rem, 3 from 56rem, at most 72rem wide).
CARD_SIZES = (
    "(min-width: 72rem) 23rem, "
    "(min-width: 56rem) calc((100vw - 4rem) / 3), "
    "(min-width: 36rem) calc((100vw - 3rem) / 2), "
    "calc(100vw - 2rem)"
)
# <source> elements for the formats a browser may not decode, best first; JPEG is the <img>.
PICTURE_FORMATS = (("avif", "image/avif"), ("webp", "image/webp"))
# An animation's still (its JPEG) for those who asked their system for less motion.
REDUCED_MOTION = "(prefers-reduced-motion: reduce)"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Source:
    """A ``<source>`` of a ``<picture>``: a format, or a media query (``media``)."""

    type: str
    srcset: str
    media: str = ""


@dataclass(frozen=True)
class Card:
    """What ``_image_card.html`` shows of an image."""

    id: str
    href: str
    owner: str
    owner_href: str
    caption: str
    alt: str
    tags: list[tuple[str, str]]  # (tag, its page)
    created_at: str  # ISO 8601, UTC
    created_label: str  # "3 May 2025"
    private: bool
    width: int | None
    height: int | None
    src: str
    srcset: str
    sources: list[Source]
    blurhash: str
    color: str
    eager: bool
    sizes: str = CARD_SIZES


def rfc3339(moment: datetime) -> str:
    """A moment as the API writes it: UTC, to the second, with a Z."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat() + "Z"


def image_alt(image: ImagePublic) -> str:
    """Alt text: the owner's description, else the caption, else whose photo it is."""
    return image.alt_text.strip() or image.caption.strip() or f"Photo by {image.owner}"


def date_label(at: datetime) -> str:
    return f"{at.day} {MONTHS[at.month - 1]} {at.year}"


def srcset(variants: Iterable[VariantPublic], fmt: str) -> str:
    """The ``srcset`` of the variants made in ``fmt``, each width once: a size the picture is
    too small to need has the URL and width of the next smaller one."""
    by_width: dict[int, str] = {}
    for v in variants:
        if fmt in v.formats:
            by_width.setdefault(v.width, f"{v.formats[fmt]} {v.width}w")
    return ", ".join(by_width.values())


def picture_sources(image: ImagePublic) -> list[Source]:
    """The ``<source>`` elements of an image's ``<picture>``, in the order a browser tries
    them: for an animation, its still first for those who want less motion, then the
    animated WebP (an animation has no AVIF); for a still, AVIF then WebP."""
    variants = list(image.variants.values())
    sources = [Source(mime, srcset(variants, fmt)) for fmt, mime in PICTURE_FORMATS]
    if image.animated:
        sources.insert(0, Source("image/jpeg", srcset(variants, "jpeg"), REDUCED_MOTION))
    return [source for source in sources if source.srcset]


def card(image: ImagePublic, index: int = 0) -> Card:
    variants = image.variants  # smallest first
    shown = variants.get("medium") or (list(variants.values())[-1] if variants else None)
    jpeg_src = (shown.formats.get("jpeg") or shown.url) if shown else ""
    width = shown.width if shown else image.width
    height = shown.height if shown else image.height
    created = image.created_at
    return Card(
        id=image.id,
        href=f"/images/{quote(image.id, safe='')}",
        owner=image.owner,
        owner_href=f"/users/{quote(image.owner, safe='')}",
        caption=image.caption,
        alt=image_alt(image),
        tags=[(tag, f"/tags/{quote(tag, safe='')}") for tag in image.tags],
        created_at=rfc3339(created),
        created_label=date_label(created),
        private=image.visibility != "public",
        width=width,
        height=height,
        src=jpeg_src,
        srcset=srcset(variants.values(), "jpeg"),
        sources=picture_sources(image),
        blurhash=image.blurhash or "",
        color=image.dominant_color or "",
        eager=index < EAGER_CARDS,
    )
