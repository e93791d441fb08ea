"""Everything that touches pixels. The only module that imports pyvips."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyvips

from shutterbox.domain.errors import ImageRejected
from shutterbox.domain.images import VariantSpec


def configure_vips(*, cache_max_operations: int = 0) -> None:
    """Refuse loaders libvips marks untrusted (e.g. those built on ImageMagick) and keep the
    operation cache small: every job is a new image, so caching only costs memory."""
    pyvips.block_untrusted_set(True)
    pyvips.cache_set_max(cache_max_operations)


@dataclass(frozen=True)
class ImageHeader:
    loader: str
    width: int
    height: int
    pages: int

    @property
    def pixels(self) -> int:
        return self.width * self.height * max(1, self.pages)


@dataclass(frozen=True)
class EncodedVariant:
    name: str
    data: bytes
    width: int
    height: int
    media_type: str
    sha256: str


@dataclass(frozen=True)
class ProcessedImage:
    width: int
    height: int
    variants: list[EncodedVariant]
    taken_at: datetime | None
    camera_make: str | None
    camera_model: str | None


def _reason(error: pyvips.Error) -> str:
    text = f"{error.message} {error.detail}".lower()
    if any(
        w in text
        for w in (
            "premature end",
            "truncated",
            "unexpected end",
            "out of data",
            "read error",
            "short read",
            "eof",
        )
    ):
        return "the file is cut off: upload the complete picture again"
    if "not a known file format" in text or "is not a known" in text:
        return "the file is not a picture in a supported format"
    return "the file is damaged and could not be read as a picture"


def read_header(path: Path) -> ImageHeader:
    """Dimensions from the file's header, without decoding any pixels."""
    try:
        image = pyvips.Image.new_from_file(str(path), access="sequential", fail_on="error")
        pages = image.get("n-pages") if image.get_typeof("n-pages") else 1
        return ImageHeader(
            loader=image.get("vips-loader"), width=image.width, height=image.height, pages=pages
        )
    except pyvips.Error as error:
        raise ImageRejected(_reason(error)) from error


def _exif_text(image: pyvips.Image, field: str) -> str | None:
    if not image.get_typeof(field):
        return None
    raw = str(image.get(field))
    # libvips renders EXIF strings as "value (value, ASCII, n components, n bytes)"
    value = raw.split(" (", 1)[0].strip().strip("\x00").strip()
    return value[:100] or None


def _exif_datetime(image: pyvips.Image) -> datetime | None:
    for field in ("exif-ifd2-DateTimeOriginal", "exif-ifd0-DateTime"):
        text = _exif_text(image, field)
        if text:
            try:
                return datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
            except ValueError:
                continue
    return None


def _to_display_srgb(image: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB (or 8-bit grey), no alpha: what a JPEG variant can hold."""
    if image.interpretation in ("grey16", "b-w") and image.bands <= 2:
        image = image.colourspace("b-w")
    elif image.interpretation != "srgb":
        image = image.colourspace("srgb")
    if image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
    if image.format != "uchar":
        image = image.cast("uchar")
    return image


def make_variants(path: Path, specs: tuple[VariantSpec, ...], quality: int) -> ProcessedImage:
    """Decode once (shrink-on-load to the largest spec), upright it, convert it to sRGB,
    then cascade the smaller variants from the largest. Variants carry no metadata."""
    try:
        header = pyvips.Image.new_from_file(str(path), access="sequential", fail_on="error")
        taken_at = _exif_datetime(header)
        make = _exif_text(header, "exif-ifd0-Make")
        model = _exif_text(header, "exif-ifd0-Model")

        largest = specs[0].max_side
        options: dict[str, object] = {"height": largest, "size": "down", "fail_on": "error"}
        if header.get_typeof("icc-profile-data"):
            # Colour-manage through the embedded profile (Display P3, Adobe RGB, CMYK ...).
            # Without one the pixels are taken as sRGB already, and CMYK is converted with
            # libvips' built-in profile: a transform there would only cost time.
            options["output_profile"] = "srgb"
        current = pyvips.Image.thumbnail(str(path), largest, **options)
        current = _to_display_srgb(current).copy_memory()
        encoded: list[EncodedVariant] = []
        for spec in specs:
            if max(current.width, current.height) > spec.max_side:
                current = current.thumbnail_image(
                    spec.max_side, height=spec.max_side, size="down", no_rotate=True
                ).copy_memory()
            data = current.jpegsave_buffer(
                Q=quality, keep="none", optimize_coding=True, interlace=True
            )
            encoded.append(
                EncodedVariant(
                    name=spec.name,
                    data=data,
                    width=current.width,
                    height=current.height,
                    media_type="image/jpeg",
                    sha256=hashlib.sha256(data).hexdigest(),
                )
            )
    except pyvips.Error as error:
        raise ImageRejected(_reason(error)) from error
    full_width, full_height = _upright_size(header)
    return ProcessedImage(
        width=full_width,
        height=full_height,
        variants=encoded,
        taken_at=taken_at,
        camera_make=make,
        camera_model=model,
    )


def _upright_size(image: pyvips.Image) -> tuple[int, int]:
    orientation = image.get("orientation") if image.get_typeof("orientation") else 1
    if orientation in (5, 6, 7, 8):
        return image.height, image.width
    return image.width, image.height
