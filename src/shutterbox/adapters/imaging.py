"""Everything that touches pixels. The only module that imports pyvips.

Untrusted files: loaders libvips marks untrusted are blocked, decoding fails on the first
error (a truncated file is refused instead of coming out half grey), the pixel count is
checked from the header before anything is decoded, and the caller runs this in a
sandboxed child process with a memory and a time limit (``imaging_sandbox``).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blurhash
import pyvips

from shutterbox.adapters.exif_fields import PhotoMetadata, gps_position, photo_metadata
from shutterbox.domain.errors import ImageRejected
from shutterbox.domain.images import VariantSpec

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
            "not enough data",
        )
    ):
        return "the file is cut off: upload the complete picture again"
    memory_words = (
        "out of memory",
        "insufficient memory",
        "unable to allocate",
        "memory allocation",
        "cannot allocate",
    )
    if any(w in text for w in memory_words):
        return "the picture needs more memory to process than this server allows"
    if "not a known file format" in text or "is not a known" in text:
        # The bytes were already recognised as an accepted format, so the file is broken.
        return "the file is damaged or cut off and could not be read as a picture"
    return "the file is damaged and could not be read as a picture"


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
    """8-bit, three-band sRGB, no alpha (flattened onto white): what every variant holds."""
    if image.interpretation != "srgb":
        image = image.colourspace("srgb")
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    if image.format != "uchar":
        image = image.cast("uchar")
    if image.bands == 1:
        image = image.bandjoin([image, image])
    if image.bands > 3:
        image = image.extract_band(0, n=3)
    return image.copy(interpretation="srgb")


def _encode(image: pyvips.Image, fmt: str, jpeg_quality: int) -> bytes:
    if fmt == "jpeg":
        data = image.jpegsave_buffer(
            Q=jpeg_quality, keep="none", optimize_coding=True, interlace=True
        )
    elif fmt == "webp":
        large = max(image.width, image.height) > WEBP_LARGE_SIDE
        effort = WEBP_EFFORT_LARGE if large else WEBP_EFFORT
        data = image.webpsave_buffer(Q=WEBP_QUALITY, effort=effort, keep="none")
    elif fmt == "avif":
        data = image.heifsave_buffer(
            compression="av1", Q=AVIF_QUALITY, effort=AVIF_EFFORT, keep="none"
        )
    else:
        raise ValueError(f"unknown variant format {fmt!r}")
    return bytes(data)


def _placeholders(image: pyvips.Image) -> tuple[str, str]:
    """A blurhash (4x3 components) and the dominant colour, from a 32-pixel copy."""
    small = image.thumbnail_image(32, height=32, size="down", no_rotate=True)
    raw = small.write_to_memory()
    width, height = small.width, small.height
    pixels = [tuple(raw[i : i + 3]) for i in range(0, width * height * 3, 3)]
    rows = [[list(pixels[y * width + x]) for x in range(width)] for y in range(height)]
    placeholder = blurhash.encode(rows, components_x=4, components_y=3)
    buckets = Counter((r >> 5, g >> 5, b >> 5) for r, g, b in pixels)
    top = buckets.most_common(1)[0][0]
    members = [p for p in pixels if (p[0] >> 5, p[1] >> 5, p[2] >> 5) == top]
    mean = [round(sum(p[i] for p in members) / len(members)) for i in range(3)]
    return placeholder, "#{:02x}{:02x}{:02x}".format(*mean)


def make_variants(
    path: Path,
    specs: tuple[VariantSpec, ...],
    *,
    formats: tuple[str, ...] = ("jpeg",),
    jpeg_quality: int = JPEG_QUALITY,
    max_pixels: int | None = None,
) -> ProcessedImage:
    """Decode once (shrink-on-load to the largest spec), upright it, convert it to sRGB,
    then cascade the smaller variants from the largest. Variants carry no metadata."""
    try:
        header = _open_header(path)
        pages = header.get("n-pages") if header.get_typeof("n-pages") else 1
        if max_pixels is not None and header.width * header.height * pages > max_pixels:
            raise ImageRejected(
                f"the picture is larger than the limit of {max_pixels / 1e6:g} megapixels"
            )
        metadata = photo_metadata(_field_reader(header))
        largest = specs[0].max_side
        current = _to_display_srgb(_decode_to_largest(path, header, largest)).copy_memory()
        upright = _upright_size(header)
        sized: list[tuple[VariantSpec, pyvips.Image]] = []
        for spec in specs:
            if max(current.width, current.height) > spec.max_side:
                current = current.thumbnail_image(
                    spec.max_side, height=spec.max_side, size="down", no_rotate=True
                ).copy_memory()
            sized.append((spec, current))
        # The sizes are in memory now; encoding them is independent work, and libvips
        # releases the GIL, so the encoders and the placeholders run side by side.
        with ThreadPoolExecutor(max_workers=len(sized) * len(formats) + 1) as pool:
            placeholders = pool.submit(_placeholders, current)
            jobs = [
                (spec, image, fmt, pool.submit(_encode, image, fmt, jpeg_quality))
                for spec, image in sized
                for fmt in formats
            ]
            encoded = [
                EncodedVariant(
                    name=spec.name,
                    format=fmt,
                    data=(data := job.result()),
                    width=image.width,
                    height=image.height,
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
    )


def _upright_size(header: pyvips.Image) -> tuple[int, int]:
    """The original's size as displayed, after its orientation is applied."""
    if _is_hevc(header):  # libheif reports the size after the file's own transformations
        return header.width, header.height
    orientation = header.get("orientation") if header.get_typeof("orientation") else 1
    if orientation in (5, 6, 7, 8):
        return header.height, header.width
    return header.width, header.height
