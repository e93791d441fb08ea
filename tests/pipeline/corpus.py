"""A corpus of pictures made on the fly, each with what a correct viewer would show.

Every picture is small (at most 1200 px a side) and built with real encoders: Pillow,
libvips (through pyvips) and pillow-heif. Most show four flat quadrants whose colours are
known, so one look at a decoded variant tells whether it is upright, unmirrored, colour
managed and flattened. Pictures also carry metadata (EXIF with a GPS position, XMP, IPTC,
ICC profiles) that must never reach a variant.

Builders are looked up by id, so test ids are known at collection time and the (slower)
encoding happens only when a test module asks for its pictures.
"""

from __future__ import annotations

import functools
import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import pillow_heif
import pyvips
from PIL import Image, TiffImagePlugin

RGB = tuple[int, int, int]
Quadrants = tuple[RGB, RGB, RGB, RGB]  # top-left, top-right, bottom-left, bottom-right

# Moderate colours: inside the gamut of libvips' CMYK profile too, so a CMYK picture
# round-trips to within about 2.5 CIEDE2000 of them.
RED: RGB = (200, 50, 50)
GREEN: RGB = (70, 160, 70)
BLUE: RGB = (60, 80, 160)
YELLOW: RGB = (230, 200, 80)
WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)
COLOURS: Quadrants = (RED, GREEN, BLUE, YELLOW)
GREYS: Quadrants = ((30, 30, 30), (100, 100, 100), (170, 170, 170), (235, 235, 235))
# a transparent bottom-right quadrant (black underneath) must come out white
WITH_HOLE: Quadrants = (RED, GREEN, BLUE, WHITE)
SECOND_FRAME: RGB = (200, 40, 200)

ACCEPTED = "accepted: JPEG, PNG, GIF, WEBP, AVIF, HEIC, TIFF"

XMP = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
    b'xmp:CreatorTool="corpus"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)


@dataclass(frozen=True)
class Sample:
    """A picture to upload and what a correct viewer shows of it."""

    id: str
    data: bytes
    filename: str
    width: int  # as displayed (after any orientation)
    height: int
    quadrants: Quadrants  # sRGB colour of each quadrant as displayed

    def __repr__(self) -> str:  # keep assertion output short
        return f"Sample({self.id!r}, {len(self.data)} bytes, {self.width}x{self.height})"


# --- pixels ---------------------------------------------------------------------------


def quadrant_picture(width: int, height: int, colours: Quadrants = COLOURS) -> Image.Image:
    image = Image.new("RGB", (width, height))
    half_w, half_h = width // 2, height // 2
    boxes = [
        (0, 0, half_w, half_h),
        (half_w, 0, width, half_h),
        (0, half_h, half_w, height),
        (half_w, half_h, width, height),
    ]
    for box, colour in zip(boxes, colours, strict=True):
        image.paste(colour, box)
    return image


def with_hole(width: int, height: int) -> Image.Image:
    """RGBA quadrants whose bottom-right quadrant is fully transparent black."""
    image = quadrant_picture(width, height, (RED, GREEN, BLUE, BLACK)).convert("RGBA")
    alpha = Image.new("L", (width, height), 255)
    alpha.paste(0, (width // 2, height // 2, width, height))
    image.putalpha(alpha)
    return image


def grainy(image: Image.Image, seed: int = 1) -> Image.Image:
    """The picture with fine noise on top: realistic amounts of compressed data."""
    noise = Image.frombytes(
        "L", image.size, random.Random(seed).randbytes(image.width * image.height)
    ).convert(image.mode)
    return Image.blend(image, noise, 0.2)


def to_vips(image: Image.Image) -> pyvips.Image:
    bands = len(image.getbands())
    vips = pyvips.Image.new_from_memory(image.tobytes(), image.width, image.height, bands, "uchar")
    return vips.copy(interpretation="b-w" if bands < 3 else "srgb")


def with_blob(image: pyvips.Image, name: str, data: bytes) -> pyvips.Image:
    image = image.copy()
    image.set_type(pyvips.GValue.blob_type, name, data)
    return image


def profile(name: str) -> bytes:
    """One of libvips' built-in ICC profiles ("srgb", "p3", "cmyk")."""
    probe = (pyvips.Image.black(2, 2) + 128).cast("uchar").bandjoin([128, 128])
    return bytes(probe.copy(interpretation="srgb").icc_transform(name).get("icc-profile-data"))


# --- metadata -------------------------------------------------------------------------


def exif(
    *,
    orientation: int | None = None,
    camera: bool = True,
    gps: bool = True,
    details: bool = False,
) -> Image.Exif:
    tags = Image.Exif()
    if orientation is not None:
        tags[0x0112] = orientation
    if camera:
        tags[0x010F], tags[0x0110] = "Fujifilm", "X-T5"
    if details:
        ifd = tags.get_ifd(0x8769)
        ifd[0x9003] = "2023:07:14 18:05:09"  # DateTimeOriginal
        ifd[0x829A] = TiffImagePlugin.IFDRational(1, 125)  # ExposureTime
        ifd[0x829D] = TiffImagePlugin.IFDRational(28, 10)  # FNumber
        ifd[0x8827] = 200  # ISOSpeedRatings
        ifd[0x920A] = TiffImagePlugin.IFDRational(35, 1)  # FocalLength
        ifd[0xA434] = "XF35mmF1.4 R"  # LensModel
    if gps:
        ifd = tags.get_ifd(0x8825)
        ifd[1], ifd[2], ifd[3], ifd[4] = "N", (52.0, 31.0, 12.0), "E", (13.0, 24.0, 36.0)
    return tags


def iptc_segment(caption: bytes = b"a caption from the corpus") -> bytes:
    """An APP13 segment (Photoshop IRB) holding one IPTC caption dataset."""
    dataset = b"\x1c\x02\x78" + struct.pack(">H", len(caption)) + caption
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(dataset)) + dataset
    resource += b"\x00" * (len(dataset) % 2)
    payload = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def jpeg_segments(data: bytes) -> list[tuple[int, int, bytes]]:
    """(offset, marker, payload) of every segment up to and including the start of scan."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    segments: list[tuple[int, int, bytes]] = []
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError(f"no marker at {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        segments.append((pos, marker, data[pos + 4 : pos + 2 + length]))
        if marker == 0xDA:
            break
        pos += 2 + length
    return segments


def insert_segment(jpeg: bytes, segment: bytes) -> bytes:
    """Insert a marker segment after the file's APPn segments."""
    pos = 2
    while jpeg[pos] == 0xFF and 0xE0 <= jpeg[pos + 1] <= 0xEF:
        (length,) = struct.unpack(">H", jpeg[pos + 2 : pos + 4])
        pos += 2 + length
    return jpeg[:pos] + segment + jpeg[pos:]


# --- encoders -------------------------------------------------------------------------


def pillow_bytes(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def heic_bytes(image: Image.Image, quality: int = 90, **info: object) -> bytes:
    image = image.copy()
    image.info.update(info)
    out = io.BytesIO()
    pillow_heif.from_pillow(image).save(out, quality=quality)
    return out.getvalue()


def gif_animation(frames: list[Image.Image]) -> bytes:
    palettised = [f.convert("P", palette=Image.Palette.ADAPTIVE, colors=8) for f in frames]
    return pillow_bytes(
        palettised[0], "GIF", save_all=True, append_images=palettised[1:], duration=200, loop=0
    )


# --- the kinds of input (part 1) ------------------------------------------------------


def _sample(
    kind: str, data: bytes, ext: str, size: tuple[int, int], quadrants: Quadrants = COLOURS
) -> Sample:
    return Sample(kind, data, f"{kind}.{ext}", size[0], size[1], quadrants)


def _jpeg_baseline() -> Sample:
    size = (1200, 800)
    data = pillow_bytes(
        quadrant_picture(*size),
        "JPEG",
        quality=92,
        exif=exif().tobytes(),
        xmp=XMP,
        comment=b"a comment from the corpus",
    )
    return _sample("jpeg-baseline", insert_segment(data, iptc_segment()), "jpg", size)


def _jpeg_progressive() -> Sample:
    size = (640, 960)
    data = pillow_bytes(
        quadrant_picture(*size), "JPEG", quality=92, progressive=True, exif=exif().tobytes()
    )
    return _sample("jpeg-progressive", data, "jpg", size)


def _jpeg_grey() -> Sample:
    size = (480, 320)
    data = pillow_bytes(quadrant_picture(*size, GREYS).convert("L"), "JPEG", quality=92)
    return _sample("jpeg-grey", data, "jpg", size, GREYS)


def _jpeg_cmyk() -> Sample:
    size = (480, 320)
    cmyk = to_vips(quadrant_picture(*size)).icc_transform("cmyk")
    data = with_blob(cmyk, "xmp-data", XMP).jpegsave_buffer(Q=92)  # keeps the CMYK profile
    return _sample("jpeg-cmyk-icc", bytes(data), "jpg", size)


def _jpeg_p3() -> Sample:
    size = (480, 320)
    data = to_vips(quadrant_picture(*size)).icc_transform("p3").jpegsave_buffer(Q=92)
    return _sample("jpeg-display-p3", bytes(data), "jpg", size)


def _jpeg_srgb_icc() -> Sample:
    size = (480, 320)
    data = pillow_bytes(quadrant_picture(*size), "JPEG", quality=92, icc_profile=profile("srgb"))
    return _sample("jpeg-srgb-icc", data, "jpg", size)


def _png_rgba() -> Sample:
    size = (480, 320)
    data = pillow_bytes(with_hole(*size), "PNG", exif=exif().tobytes())
    return _sample("png-rgba", data, "png", size, WITH_HOLE)


def _png_palette() -> Sample:
    size = (480, 320)
    image = quadrant_picture(*size).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    return _sample("png-palette", pillow_bytes(image, "PNG"), "png", size)


def _png_palette_transparent() -> Sample:
    size = (480, 320)
    image = quadrant_picture(*size, (RED, GREEN, BLUE, BLACK))
    image = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    hole = image.getpixel((size[0] - 1, size[1] - 1))
    data = pillow_bytes(image, "PNG", transparency=hole)
    return _sample("png-palette-trns", data, "png", size, WITH_HOLE)


def _png_rgb16() -> Sample:
    size = (480, 320)
    data = with_blob(_deep(quadrant_picture(*size)), "xmp-data", XMP).pngsave_buffer()
    return _sample("png-rgb16", bytes(data), "png", size)


def _png_grey8() -> Sample:
    size = (480, 320)
    data = pillow_bytes(quadrant_picture(*size, GREYS).convert("L"), "PNG")
    return _sample("png-grey8", data, "png", size, GREYS)


def _png_grey16() -> Sample:
    size = (320, 480)
    grey = to_vips(quadrant_picture(*size, GREYS).convert("L"))
    deep = (grey.cast("ushort") * 257).cast("ushort").copy(interpretation="grey16")
    return _sample("png-grey16", bytes(deep.pngsave_buffer()), "png", size, GREYS)


def _png_grey_alpha() -> Sample:
    size = (480, 320)
    grey = quadrant_picture(*size, (*GREYS[:3], BLACK)).convert("L")
    alpha = Image.new("L", size, 255)
    alpha.paste(0, (size[0] // 2, size[1] // 2, *size))
    grey.putalpha(alpha)
    return _sample("png-grey-alpha", pillow_bytes(grey, "PNG"), "png", size, (*GREYS[:3], WHITE))


def _webp_lossy() -> Sample:
    size = (480, 320)
    data = pillow_bytes(quadrant_picture(*size), "WEBP", quality=90, exif=exif().tobytes(), xmp=XMP)
    return _sample("webp-lossy", data, "webp", size)


def _webp_alpha() -> Sample:
    size = (480, 320)
    data = pillow_bytes(with_hole(*size), "WEBP", quality=90, lossless=False)
    return _sample("webp-alpha", data, "webp", size, WITH_HOLE)


def _webp_animated() -> Sample:
    size = (480, 320)
    second = Image.new("RGB", size, SECOND_FRAME)
    data = pillow_bytes(
        quadrant_picture(*size),
        "WEBP",
        quality=90,
        save_all=True,
        append_images=[second],
        duration=200,
        loop=0,
    )
    return _sample("webp-animated", data, "webp", size)


def _gif_animated() -> Sample:
    size = (480, 320)
    frames = [quadrant_picture(*size), Image.new("RGB", size, SECOND_FRAME)]
    return _sample("gif-animated", gif_animation(frames), "gif", size)


def _avif() -> Sample:
    size = (480, 320)
    image = with_blob(to_vips(quadrant_picture(*size)), "xmp-data", XMP)
    image = with_blob(image, "exif-data", exif().tobytes())
    return _sample("avif", bytes(image.heifsave_buffer(compression="av1", Q=90)), "avif", size)


def _deep(image: Image.Image) -> pyvips.Image:
    """The picture at 16 bits per sample (the same colours)."""
    return (to_vips(image).cast("ushort") * 257).cast("ushort").copy(interpretation="rgb16")


def _avif_10bit() -> Sample:
    size = (480, 320)
    data = _deep(quadrant_picture(*size)).heifsave_buffer(compression="av1", Q=90, bitdepth=10)
    return _sample("avif-10bit", bytes(data), "avif", size)


def _heic() -> Sample:
    size = (480, 320)
    data = heic_bytes(quadrant_picture(*size), exif=exif().tobytes(), xmp=XMP)
    return _sample("heic", data, "heic", size)


def _heic_10bit() -> Sample:
    size = (480, 320)
    deep = _deep(quadrant_picture(*size))
    heif = pillow_heif.from_bytes(mode="RGB;16", size=size, data=deep.write_to_memory())
    out = io.BytesIO()
    heif.save(out, quality=90)  # 16-bit input is coded at 10 bits
    return _sample("heic-10bit", out.getvalue(), "heic", size)


def _heic_rgba() -> Sample:
    size = (480, 320)
    return _sample("heic-rgba", heic_bytes(with_hole(*size)), "heic", size, WITH_HOLE)


def _heic_p3() -> Sample:
    size = (480, 320)
    p3 = to_vips(quadrant_picture(*size)).icc_transform("p3")
    pixels = Image.frombytes("RGB", size, p3.write_to_memory())
    return _sample("heic-display-p3", heic_bytes(pixels, icc_profile=profile("p3")), "heic", size)


def _tiff_rgb() -> Sample:
    size = (480, 320)
    image = with_blob(to_vips(quadrant_picture(*size)), "xmp-data", XMP)
    return _sample("tiff-rgb", bytes(image.tiffsave_buffer(compression="lzw")), "tiff", size)


def _tiff_rgb16() -> Sample:
    size = (480, 320)
    data = _deep(quadrant_picture(*size)).tiffsave_buffer(compression="deflate")
    return _sample("tiff-rgb16", bytes(data), "tiff", size)


KINDS: dict[str, Callable[[], Sample]] = {
    "jpeg-baseline": _jpeg_baseline,
    "jpeg-progressive": _jpeg_progressive,
    "jpeg-grey": _jpeg_grey,
    "jpeg-cmyk-icc": _jpeg_cmyk,
    "jpeg-display-p3": _jpeg_p3,
    "jpeg-srgb-icc": _jpeg_srgb_icc,
    "png-rgba": _png_rgba,
    "png-palette": _png_palette,
    "png-palette-trns": _png_palette_transparent,
    "png-rgb16": _png_rgb16,
    "png-grey8": _png_grey8,
    "png-grey16": _png_grey16,
    "png-grey-alpha": _png_grey_alpha,
    "webp-lossy": _webp_lossy,
    "webp-alpha": _webp_alpha,
    "webp-animated": _webp_animated,
    "gif-animated": _gif_animated,
    "avif": _avif,
    "avif-10bit": _avif_10bit,
    "heic": _heic,
    "heic-10bit": _heic_10bit,
    "heic-rgba": _heic_rgba,
    "heic-display-p3": _heic_p3,
    "tiff-rgb": _tiff_rgb,
    "tiff-rgb16": _tiff_rgb16,
}


# --- EXIF orientation (part 2) --------------------------------------------------------

# How to store a picture so that a viewer applying orientation ``n`` shows it as drawn:
# the inverse of what the tag asks a viewer to do (PIL.ImageOps.exif_transpose's table).
STORE_FOR_ORIENTATION: dict[int, Image.Transpose | None] = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}
ORIENTED_SIZE = (480, 320)  # as displayed: landscape, so a missed rotation shows in the size


def oriented(orientation: int, container: str = "jpeg") -> Sample:
    """The quadrant picture stored transformed, tagged with ``orientation``."""
    displayed = quadrant_picture(*ORIENTED_SIZE)
    method = STORE_FOR_ORIENTATION[orientation]
    stored = displayed if method is None else displayed.transpose(method)
    tags = exif(orientation=orientation)
    if container == "jpeg":
        data = pillow_bytes(stored, "JPEG", quality=92, exif=tags.tobytes())
        ext = "jpg"
    elif container == "png":
        data, ext = pillow_bytes(stored, "PNG", exif=tags.tobytes()), "png"
    elif container == "webp":
        data, ext = pillow_bytes(stored, "WEBP", quality=90, exif=tags.tobytes()), "webp"
    elif container in ("tiff", "avif"):
        image = to_vips(stored).copy()
        image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
        if container == "tiff":
            data, ext = bytes(image.tiffsave_buffer(compression="lzw")), "tiff"
        else:
            data, ext = bytes(image.heifsave_buffer(compression="av1", Q=90)), "avif"
    else:
        raise ValueError(container)
    return Sample(
        f"{container}-orientation-{orientation}",
        data,
        f"oriented-{orientation}.{ext}",
        *ORIENTED_SIZE,
        COLOURS,
    )


# --- colour charts (part 3) -----------------------------------------------------------

PATCH = 150
# Saturated colours: where Display P3 and sRGB numbers differ most. The greys check that
# neutral stays neutral (no cast from a wrong white point).
CHART_COLOURS: tuple[RGB, ...] = (
    (255, 0, 0),
    (0, 255, 0),
    (0, 0, 255),
    (255, 255, 0),
    (0, 255, 255),
    (255, 0, 255),
    (250, 130, 20),
    (40, 150, 90),
    (120, 60, 170),
    (128, 128, 128),
    (230, 230, 230),
    (40, 40, 40),
)
CHART_COLUMNS = 4


def chart_picture(colours: tuple[RGB, ...] = CHART_COLOURS) -> Image.Image:
    rows = -(-len(colours) // CHART_COLUMNS)
    image = Image.new("RGB", (CHART_COLUMNS * PATCH, rows * PATCH))
    for i, colour in enumerate(colours):
        x, y = (i % CHART_COLUMNS) * PATCH, (i // CHART_COLUMNS) * PATCH
        image.paste(colour, (x, y, x + PATCH, y + PATCH))
    return image


def patch_centres() -> list[tuple[float, float]]:
    """Centre of each chart patch, as fractions of the picture's width and height."""
    rows = -(-len(CHART_COLOURS) // CHART_COLUMNS)
    return [
        ((i % CHART_COLUMNS + 0.5) / CHART_COLUMNS, (i // CHART_COLUMNS + 0.5) / rows)
        for i in range(len(CHART_COLOURS))
    ]


def chart_p3_jpeg() -> bytes:
    """The chart converted to Display P3 (numbers change, appearance does not)."""
    return bytes(to_vips(chart_picture()).icc_transform("p3").jpegsave_buffer(Q=95))


def chart_cmyk_jpeg() -> bytes:
    """The chart separated to CMYK with libvips' CMYK profile, which the file embeds."""
    return bytes(to_vips(chart_picture()).icc_transform("cmyk").jpegsave_buffer(Q=95))


def chart_p3_heic() -> bytes:
    p3 = to_vips(chart_picture()).icc_transform("p3")
    pixels = Image.frombytes("RGB", (p3.width, p3.height), p3.write_to_memory())
    return heic_bytes(pixels, quality=95, icc_profile=profile("p3"))


# --- photo details (part 5) -----------------------------------------------------------

MAIN_COLOUR: RGB = (30, 140, 160)
ACCENT: RGB = (240, 150, 40)
DETAILS_SIZE = (800, 600)


def details_picture() -> Image.Image:
    """Mostly teal (three quarters, on top), with an orange band below."""
    width, height = DETAILS_SIZE
    image = Image.new("RGB", DETAILS_SIZE, MAIN_COLOUR)
    image.paste(ACCENT, (0, height * 3 // 4, width, height))
    return image


def photo_with_details(container: str = "jpeg") -> bytes:
    """The picture with EXIF camera details (and a GPS position) in the given container."""
    picture, tags = details_picture(), exif(details=True).tobytes()
    if container == "jpeg":
        return pillow_bytes(picture, "JPEG", quality=90, exif=tags)
    if container == "png":
        return pillow_bytes(picture, "PNG", exif=tags)
    if container == "webp":
        return pillow_bytes(picture, "WEBP", quality=90, exif=tags)
    if container == "heic":
        return heic_bytes(picture, exif=tags)
    if container == "avif":
        image = with_blob(to_vips(picture), "exif-data", tags)
        return bytes(image.heifsave_buffer(compression="av1", Q=90))
    raise ValueError(container)


# --- files that are not pictures, and damaged pictures (part 4) -----------------------


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("photo.jpg", pillow_bytes(quadrant_picture(64, 48), "JPEG"))
    return out.getvalue()


def _psd() -> bytes:
    # signature, version 1, 6 reserved, 3 channels, 48 x 64, depth 8, RGB
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 48, 64, 8, 3)
    return header + b"\x00" * 4 * 3 + struct.pack(">H", 0) + b"\x80" * (48 * 64 * 3)


def _mp4() -> bytes:
    ftyp = struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 512) + b"isomiso2"
    return ftyp + struct.pack(">I", 8) + b"free" + struct.pack(">I", 16) + b"mdat" + b"\0" * 8


NOT_PICTURES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "svg": (
        "drawing.svg",
        lambda: (
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
            b'<rect width="10" height="10" fill="red"/></svg>'
        ),
    ),
    "svg-with-xml-declaration": (
        "drawing.jpg",
        lambda: b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
    ),
    "pdf": ("document.pdf", lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"),
    "psd": ("layers.psd", _psd),
    "zip-named-jpg": ("holiday.jpg", _zip),
    "plain-text": ("notes.jpg", lambda: b"just some words, not a picture\n" * 20),
    "mp4-video": ("clip.heic", _mp4),
}


def _noisy_picture(size: tuple[int, int] = (480, 320)) -> Image.Image:
    return grainy(quadrant_picture(*size))


@functools.cache
def complete(fmt: str) -> bytes:
    """A complete file of each accepted format, with enough data to be worth cutting."""
    picture = _noisy_picture()
    if fmt == "jpeg":
        return pillow_bytes(picture, "JPEG", quality=90)
    if fmt == "png":
        return pillow_bytes(picture, "PNG")
    if fmt == "gif":
        return gif_animation([picture, Image.new("RGB", picture.size, SECOND_FRAME)])
    if fmt == "webp":
        return pillow_bytes(picture, "WEBP", quality=90)
    if fmt == "avif":
        avif = to_vips(picture).heifsave_buffer(compression="av1", Q=90, effort=0)
        return bytes(avif)
    if fmt == "heic":
        return heic_bytes(picture)
    if fmt == "tiff":
        return bytes(to_vips(picture).tiffsave_buffer(compression="lzw"))
    raise ValueError(fmt)


def _box(data: bytes, kind: bytes) -> tuple[int, int]:
    """(start, size) of the first ISOBMFF box of this type (found by its name)."""
    pos = data.find(kind) - 4
    if pos < 0:
        raise ValueError(f"no {kind!r} box")
    return pos, struct.unpack(">I", data[pos : pos + 4])[0]


def _overwrite(data: bytes, start: int, replacement: bytes) -> bytes:
    return data[:start] + replacement + data[start + len(replacement) :]


def _garbage(length: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(length)


def _corrupt(fmt: str, data: bytes) -> bytes:
    """Damage that no decoder can read past (checked against Pillow by the tests).

    Not random bit flips in compressed data: lossy codecs decode those into different
    pixels without any error, by design, so no server could refuse them reliably.
    """
    if fmt == "jpeg":
        # every Huffman table's code counts set to 255: "bogus Huffman table"
        out = bytearray(data)
        for offset, marker, _ in jpeg_segments(data):
            if marker == 0xC4:
                out[offset + 5 : offset + 5 + 16] = b"\xff" * 16
        return bytes(out)
    if fmt == "png":
        # the compressed pixel data replaced by bytes that are not a zlib stream, with
        # correct chunk checksums: only the pixels are broken
        start = data.index(b"IDAT") - 4
        (length,) = struct.unpack(">I", data[start : start + 4])
        body = b"\x00" * length
        chunk = struct.pack(">I", length) + b"IDAT" + body
        chunk += struct.pack(">I", zlib.crc32(b"IDAT" + body))
        return data[:start] + chunk + data[start + 12 + length :]
    if fmt == "gif":
        # LZW minimum code size of the first frame set to 15 (at most 11 is valid)
        return _overwrite(data, _gif_first_lzw_code_size(data), b"\x0f")
    if fmt == "webp":
        # the VP8 frame's start code (9d 01 2a) and dimensions clobbered
        start = data.index(b"\x9d\x01\x2a")
        return _overwrite(data, start, b"\x00" * 7)
    if fmt in ("avif", "heic"):
        # the coded picture data (the mdat box's payload) replaced with random bytes
        start, size = _box(data, b"mdat")
        return _overwrite(data, start + 8, _garbage(size - 8, seed=7))
    if fmt == "tiff":
        # the first strip's offset pointed far beyond the end of the file
        return _tiff_strip_offset(data, 0x7FFFFF00)
    raise ValueError(fmt)


def _gif_first_lzw_code_size(data: bytes) -> int:
    """Offset of the first frame's LZW minimum code size byte."""
    pos = 13
    if data[10] & 0x80:  # global colour table
        pos += 3 * 2 ** ((data[10] & 7) + 1)
    while data[pos] == 0x21:  # extensions: label, then sub-blocks up to a zero length
        pos += 2
        while data[pos]:
            pos += data[pos] + 1
        pos += 1
    if data[pos] != 0x2C:
        raise ValueError("no image descriptor")
    packed = data[pos + 9]
    pos += 10
    if packed & 0x80:  # local colour table
        pos += 3 * 2 ** ((packed & 7) + 1)
    return pos


def _tiff_strip_offset(data: bytes, offset: int) -> bytes:
    """The file with its first strip's offset (a LONG) replaced."""
    endian = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack(endian + "I", data[4:8])
    (count,) = struct.unpack(endian + "H", data[ifd : ifd + 2])
    for i in range(count):
        entry = ifd + 2 + 12 * i
        tag, kind, n, value = struct.unpack(endian + "HHII", data[entry : entry + 12])
        if tag == 273 and kind == 4:  # StripOffsets, LONG
            where = entry + 8 if n == 1 else value
            return _overwrite(data, where, struct.pack(endian + "I", offset))
    raise ValueError("no StripOffsets of type LONG")


ACCEPTED_FORMATS = ("jpeg", "png", "gif", "webp", "avif", "heic", "tiff")
DAMAGES = ("truncated", "corrupt")


def damaged(fmt: str, damage: str) -> bytes:
    whole = complete(fmt)
    if damage == "truncated":
        return whole[: len(whole) * 6 // 10]
    return _corrupt(fmt, whole)
