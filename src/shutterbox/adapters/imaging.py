"""Everything that touches pixels. The only module that imports pyvips.

Untrusted files: loaders libvips marks untrusted are blocked, decoding fails on the first
error (a truncated file is refused instead of coming out half grey), the pixel count is
checked from the header before anything is decoded, and the caller runs this in a
sandboxed child process with a memory and a time limit (``imaging_sandbox``).
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyvips

from shutterbox.adapters.exif_fields import PhotoMetadata, gps_position, photo_metadata
from shutterbox.adapters.pixels import placeholders, refusal_reason
from shutterbox.domain.errors import ImageRejected
from shutterbox.domain.images import (
    VariantSpec,
    animation_problem,
    formats_for,
    variant_specs_for,
)

JPEG_QUALITY = 82
# WebP encoder effort (libwebp's "method"), chosen per size on measurements of photos:
# effort 4 (libwebp's default) for the sizes feeds show, which are cheap to encode; above it
# each step costs far more time than it saves bytes. For the 2048 px variant, opened only on
# an image's own page, effort 2 encodes about twice as fast for 1.5-4 % more bytes at the
# same quality setting (docs/benchmarks.md).
WEBP_QUALITY = 80
WEBP_EFFORT = 4
WEBP_EFFORT_LARGE = 2
WEBP_LARGE_SIDE = 1600
# AVIF (AV1 in HEIF) at a low encoder effort: AV1 encoding is slow, and the variants are
# made while the uploader waits for them.
AVIF_QUALITY = 50
AVIF_EFFORT = 2
ANIMATED_LOADERS = ("gifload", "webpload")
MEDIA_TYPES = {"jpeg": "image/jpeg", "webp": "image/webp", "avif": "image/avif"}


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
    gps: tuple[float, float] | None = None

    @property
    def animated(self) -> bool:
        """GIF and WebP frames are an animation; a multi-page TIFF's or HEIF's pages are
        not (their first is the picture)."""
        return self.pages > 1 and self.loader.startswith(ANIMATED_LOADERS)

    @property
    def pixels(self) -> int:
        return self.width * self.height * max(1, self.pages)


@dataclass(frozen=True)
class EncodedVariant:
    name: str
    format: str
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
    metadata: PhotoMetadata
    blurhash: str
    dominant_color: str
    frames: int = 1  # of an animation, kept in its WebP variants


def _reason(error: pyvips.Error) -> str:
    return refusal_reason(f"{error.message} {error.detail}")


def _field_reader(image: pyvips.Image) -> Any:
    def read(field: str) -> str | None:
        if not image.get_typeof(field):
            return None
        value = image.get(field)
        return value if isinstance(value, str) else str(value)

    return read


def _open_header(path: Path) -> pyvips.Image:
    return pyvips.Image.new_from_file(str(path), access="sequential", fail_on="error")


def read_header(path: Path) -> ImageHeader:
    """Dimensions (and any GPS position) from the file's header, without decoding pixels."""
    try:
        image = _open_header(path)
        pages = image.get("n-pages") if image.get_typeof("n-pages") else 1
        return ImageHeader(
            loader=image.get("vips-loader"),
            width=image.width,
            height=image.height,
            pages=pages,
            gps=gps_position(_field_reader(image)),
        )
    except pyvips.Error as error:
        raise ImageRejected(_reason(error)) from error


def _is_hevc(header: pyvips.Image) -> bool:
    return bool(header.get_typeof("heif-compression") and header.get("heif-compression") == "hevc")


def _decode_hevc(path: Path, largest: int) -> pyvips.Image:
    """HEIC (HEVC-coded HEIF, as iPhones write) through pillow-heif, which bundles a decoder
    that the libvips wheel leaves out. libheif applies the file's rotation and mirroring."""
    import pillow_heif

    try:
        heif = pillow_heif.open_heif(str(path), convert_hdr_to_8bit=True)
        frame = heif[heif.primary_index]
        mode = frame.mode
        if mode not in ("RGB", "RGBA"):
            raise ImageRejected("the HEIC picture uses a pixel format that is not supported")
        bands = len(mode)
        width, height = frame.size
        row = width * bands
        raw = memoryview(frame.data)
        if frame.stride != row:  # rows padded: pack them
            raw = memoryview(
                b"".join(raw[y * frame.stride : y * frame.stride + row] for y in range(height))
            )
        image = pyvips.Image.new_from_memory(bytes(raw), width, height, bands, "uchar")
        image = image.copy(interpretation="srgb")
        icc: Any = frame.info.get("icc_profile") or heif.info.get("icc_profile")
    except ImageRejected:
        raise
    except Exception as error:  # any decoder error here is about the file's bytes
        raise ImageRejected("the HEIC file is damaged and could not be decoded") from error
    image = image.thumbnail_image(largest, height=largest, size="down", no_rotate=True)
    if icc:
        image = image.copy()
        image.set_type(pyvips.GValue.blob_type, "icc-profile-data", bytes(icc))
        image = image.icc_transform("srgb", embedded=True, intent="perceptual")
    return image


def _jpeg_shrink(header: pyvips.Image, largest: int) -> int:
    """The largest DCT-domain shrink (1, 2, 4 or 8) that keeps the longest side at least
    ``largest``. libvips' thumbnail only shrinks a JPEG on load from 4x down, so a 24 MP
    photo would otherwise be decoded at full size to make a 2048 px variant."""
    longest = max(header.width, header.height)
    shrink = 1
    while shrink < 8 and longest // (shrink * 2) >= largest:
        shrink *= 2
    return shrink


def _decode_to_largest(path: Path, header: pyvips.Image, largest: int) -> pyvips.Image:
    if _is_hevc(header):
        return _decode_hevc(path, largest)
    options: dict[str, object] = {"height": largest, "size": "down"}
    if header.get_typeof("icc-profile-data"):
        # Colour-manage through the embedded profile (Display P3, Adobe RGB, CMYK ...).
        # Without one the pixels are taken as sRGB already, and CMYK is converted with
        # libvips' built-in profile: a transform there would only cost time.
        options["output_profile"] = "srgb"
    if header.get("vips-loader") == "jpegload" and (shrink := _jpeg_shrink(header, largest)) > 1:
        loaded = pyvips.Image.new_from_file(
            str(path), shrink=shrink, access="sequential", fail_on="error"
        )
        # thumbnail_image applies the EXIF orientation (all eight values)
        return loaded.thumbnail_image(largest, **options)
    # thumbnail: shrink-on-load, EXIF orientation applied (all eight values), first frame only
    return pyvips.Image.thumbnail(str(path), largest, fail_on=_fail_on(header), **options)


def _fail_on(header: pyvips.Image) -> str:
    """How bad a decoding problem must be to refuse the picture. libvips' GIF loader reports
    corrupt frame data ("Invalid frame data") only as a warning and then returns garbage
    pixels: for GIF a warning is damage. Elsewhere warnings are about metadata, not pixels."""
    loader = str(header.get("vips-loader")) if header.get_typeof("vips-loader") else ""
    return "warning" if loader.startswith("gifload") else "error"


def _to_display_srgb(image: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB: three bands, or four when the picture has an alpha channel that is not
    opaque everywhere (WebP and AVIF keep it; JPEG is flattened at encoding). An
    animation's frames stay stacked, one under the other (``page-height``)."""
    if image.interpretation != "srgb":
        image = image.colourspace("srgb")
    alpha = image.extract_band(image.bands - 1) if image.hasalpha() else None
    if image.format != "uchar":
        image = image.cast("uchar")
        alpha = alpha.cast("uchar") if alpha is not None else None
    colour = image.extract_band(0) if image.bands < 3 else image.extract_band(0, n=3)
    if colour.bands == 1:
        colour = colour.bandjoin([colour, colour])
    if alpha is not None:
        colour = colour.bandjoin(alpha)
    return colour.copy(interpretation="srgb")


def _opaque_dropped(image: pyvips.Image) -> pyvips.Image:
    """``image`` (in memory) without its alpha band if every pixel is opaque: an alpha plane
    that says nothing still costs bytes in an AVIF."""
    if image.bands == 4 and image.extract_band(3).min() >= 255:
        return image.extract_band(0, n=3).copy(interpretation="srgb")
    return image


def _frame_height(image: pyvips.Image) -> int:
    if image.get_typeof("page-height"):
        page_height = int(image.get("page-height"))
        if 0 < page_height < image.height and image.height % page_height == 0:
            return page_height
    return int(image.height)


def _still(image: pyvips.Image) -> pyvips.Image:
    """The first frame of an animation (the picture itself for a still)."""
    height = _frame_height(image)
    return image if height == image.height else image.crop(0, 0, image.width, height)


def _flattened(image: pyvips.Image) -> pyvips.Image:
    """Onto white: what a JPEG (no alpha) shows of a transparent picture."""
    if image.bands == 4:
        return image.flatten(background=[255, 255, 255]).cast("uchar").copy(interpretation="srgb")
    return image


def _encode(image: pyvips.Image, fmt: str, jpeg_quality: int) -> bytes:
    if fmt == "jpeg":
        data = _flattened(_still(image)).jpegsave_buffer(
            Q=jpeg_quality, keep="none", optimize_coding=True, interlace=True
        )
    elif fmt == "webp":  # an animation is written whole: its page-height, delays and loop
        large = max(image.width, _frame_height(image)) > WEBP_LARGE_SIDE
        effort = WEBP_EFFORT_LARGE if large else WEBP_EFFORT
        data = image.webpsave_buffer(Q=WEBP_QUALITY, effort=effort, keep="none")
    elif fmt == "avif":
        data = _still(image).heifsave_buffer(
            compression="av1", Q=AVIF_QUALITY, effort=AVIF_EFFORT, keep="none"
        )
    else:
        raise ValueError(f"unknown variant format {fmt!r}")
    return bytes(data)


def _placeholders(image: pyvips.Image) -> tuple[str, str]:
    """A blurhash and the dominant colour, from a 32-pixel copy of the (first) picture."""
    small = _flattened(_still(image)).thumbnail_image(32, height=32, size="down", no_rotate=True)
    return placeholders(small.write_to_memory(), small.width, small.height)


@dataclass(frozen=True)
class AnimationLimits:
    """How big an animation may be to be kept animated (``domain.images.animation_problem``)."""

    max_frames: int
    max_pixels: int


def make_variants(
    path: Path,
    specs: tuple[VariantSpec, ...],
    *,
    formats: tuple[str, ...] = ("jpeg",),
    jpeg_quality: int = JPEG_QUALITY,
    max_pixels: int | None = None,
    animation: AnimationLimits | None = None,
) -> ProcessedImage:
    """Decode once (shrink-on-load to the largest spec), upright it, convert it to sRGB,
    then cascade the smaller variants from the largest; a size the picture is too small to
    need is not made (``variant_specs_for``). Variants carry no metadata. An animated GIF or
    WebP is decoded frame by frame within the ``animation`` limits (refused beyond them):
    its WebP variants are animated, its JPEGs show the first frame and it gets no AVIF."""
    try:
        header = _open_header(path)
        pages = header.get("n-pages") if header.get_typeof("n-pages") else 1
        if max_pixels is not None and header.width * header.height * pages > max_pixels:
            raise ImageRejected(
                f"the picture is larger than the limit of {max_pixels / 1e6:g} megapixels"
            )
        frames = pages if pages > 1 and _animated_loader(header) else 1
        if frames > 1 and animation is not None:
            problem = animation_problem(
                header.width,
                header.height,
                frames,
                max_frames=animation.max_frames,
                max_pixels=animation.max_pixels,
            )
            if problem is not None:
                raise ImageRejected(problem)
        metadata = photo_metadata(_field_reader(header))
        largest = specs[0].max_side
        if frames > 1:
            decoded = _decode_animation(path, header, largest)
        else:
            decoded = _decode_to_largest(path, header, largest)
        current = _opaque_dropped(_to_display_srgb(decoded).copy_memory())
        upright = _upright_size(header)
        sized: list[tuple[VariantSpec, pyvips.Image]] = []
        for spec in variant_specs_for(max(current.width, _frame_height(current)), specs):
            if max(current.width, _frame_height(current)) > spec.max_side:
                current = current.thumbnail_image(
                    spec.max_side, height=spec.max_side, size="down", no_rotate=True
                ).copy_memory()
            sized.append((spec, current))
        chosen = formats_for(formats, frames)
        # The sizes are in memory now; encoding them is independent work, and libvips
        # releases the GIL, so the encoders and the placeholders run side by side.
        with ThreadPoolExecutor(max_workers=len(sized) * len(chosen) + 1) as pool:
            placeholders = pool.submit(_placeholders, current)
            jobs = [
                (spec, image, fmt, pool.submit(_encode, image, fmt, jpeg_quality))
                for spec, image in sized
                for fmt in chosen
            ]
            encoded = [
                EncodedVariant(
                    name=spec.name,
                    format=fmt,
                    data=(data := job.result()),
                    width=image.width,
                    height=_frame_height(image),
                    media_type=MEDIA_TYPES[fmt],
                    sha256=hashlib.sha256(data).hexdigest(),
                )
                for spec, image, fmt, job in jobs
            ]
            placeholder, dominant = placeholders.result()
    except pyvips.Error as error:
        raise ImageRejected(_reason(error)) from error
    return ProcessedImage(
        width=upright[0],
        height=upright[1],
        variants=encoded,
        metadata=metadata,
        blurhash=placeholder,
        dominant_color=dominant,
        frames=frames,
    )


def _animated_loader(header: pyvips.Image) -> bool:
    """Whether the file's loader reads animations (``ImageHeader.animated``)."""
    loader = str(header.get("vips-loader")) if header.get_typeof("vips-loader") else ""
    return loader.startswith(ANIMATED_LOADERS)


def _decode_animation(path: Path, header: pyvips.Image, largest: int) -> pyvips.Image:
    """Every frame, stacked, each shrunk to fit ``largest`` (libvips' thumbnail resizes the
    frames of a stack one by one), with its delays: those of 10 ms or less shown at 100 ms,
    as browsers show such GIF frames."""
    image = pyvips.Image.new_from_file(
        str(path), n=-1, access="sequential", fail_on=_fail_on(header)
    )
    options: dict[str, object] = {"height": largest, "size": "down", "no_rotate": True}
    if header.get_typeof("icc-profile-data"):
        options["output_profile"] = "srgb"
    image = image.thumbnail_image(largest, **options)
    if image.get_typeof("delay"):
        delays = [delay if delay > 10 else 100 for delay in image.get("delay")]
        image = image.copy()
        image.set_type(pyvips.GValue.array_int_type, "delay", delays)
    return image


def _upright_size(header: pyvips.Image) -> tuple[int, int]:
    """The original's size as displayed, after its orientation is applied."""
    if _is_hevc(header):  # libheif reports the size after the file's own transformations
        return header.width, header.height
    orientation = header.get("orientation") if header.get_typeof("orientation") else 1
    if orientation in (5, 6, 7, 8):
        return header.height, header.width
    return header.width, header.height
