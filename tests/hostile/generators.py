"""Hostile uploads, built in code: decompression bombs, damaged files, polyglots, absurd
EXIF, hostile filenames and malformed multipart bodies. Nothing here is a binary fixture;
every file is made by a real encoder (Pillow, libvips, pillow-heif) and then edited by hand
where the attack lives in the header.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import pillow_heif
import pyvips
from PIL import Image

from tests.imagegen import SVG

# --- small valid pictures to start from ------------------------------------------------


def _picture(width: int = 64, height: int = 48) -> Image.Image:
    image = Image.new("RGB", (width, height), (200, 50, 50))
    image.paste((60, 80, 160), (width // 2, 0, width, height))
    return image


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _vips(image: Image.Image) -> pyvips.Image:
    vips = pyvips.Image.new_from_memory(image.tobytes(), image.width, image.height, 3, "uchar")
    return vips.copy(interpretation="srgb")


def valid(fmt: str, width: int = 64, height: int = 48) -> bytes:
    """A small, valid picture in one of the accepted formats."""
    image = _picture(width, height)
    if fmt == "jpeg":
        return _save(image, "JPEG", quality=90)
    if fmt == "png":
        return _save(image, "PNG")
    if fmt == "gif":
        return _save(image.convert("P", palette=Image.Palette.ADAPTIVE, colors=4), "GIF")
    if fmt == "webp":
        return _save(image, "WEBP", quality=90)
    if fmt == "tiff":
        return bytes(_vips(image).tiffsave_buffer(compression="lzw"))
    if fmt == "avif":
        return bytes(_vips(image).heifsave_buffer(compression="av1", Q=80))
    if fmt == "heic":
        out = io.BytesIO()
        pillow_heif.from_pillow(image).save(out, quality=80)
        return out.getvalue()
    raise ValueError(fmt)


ACCEPTED = ("jpeg", "png", "gif", "webp", "tiff", "avif", "heic")
EXTENSIONS = {"jpeg": "jpg", "png": "png", "gif": "gif", "webp": "webp", "tiff": "tif"}


def extension(fmt: str) -> str:
    return EXTENSIONS.get(fmt, fmt)


# --- decompression bombs: huge declared dimensions, tiny files -------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = struct.pack(">I", zlib.crc32(kind + data))
    return struct.pack(">I", len(data)) + kind + data + crc


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG whose IHDR claims width x height, with a few bytes of (zero) pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def png_real_bomb(side: int = 12_000) -> bytes:
    """A genuine side x side greyscale PNG of zeros: a few hundred KB that inflate to
    side² bytes (144 MB at the default). Every row is present; only its size is hostile."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    packer = zlib.compressobj(9)
    row = b"\x00" * (side + 1)  # filter byte + samples
    parts = [packer.compress(row) for _ in range(side)]
    parts.append(packer.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


def _jpeg_with_size(data: bytes, width: int, height: int, *, progressive: bool = False) -> bytes:
    """The JPEG with its frame header (SOF0/SOF2) rewritten to claim width x height."""
    out = bytearray(data)
    pos = 2
    while pos + 4 <= len(out):
        marker = out[pos + 1]
        (length,) = struct.unpack(">H", out[pos + 2 : pos + 4])
        if marker in (0xC0, 0xC1, 0xC2):
            if progressive:
                out[pos + 1] = 0xC2
            # segment: length(2) precision(1) height(2) width(2)
            out[pos + 5 : pos + 9] = struct.pack(">HH", height, width)
            return bytes(out)
        pos += 2 + length
    raise ValueError("no frame header")


def jpeg_bomb(width: int = 65_500, height: int = 65_500) -> bytes:
    """A 64 x 48 baseline JPEG whose SOF claims width x height."""
    return _jpeg_with_size(valid("jpeg"), width, height)


def jpeg_progressive_bomb(width: int = 65_500, height: int = 65_500) -> bytes:
    """A progressive JPEG whose SOF2 claims width x height. A progressive decoder keeps
    every DCT coefficient of the frame in memory: about 2 bytes per sample, gigabytes here."""
    data = _save(_picture(), "JPEG", quality=90, progressive=True)
    return _jpeg_with_size(data, width, height, progressive=True)


def gif_bomb(width: int = 65_535, height: int = 65_535) -> bytes:
    """A GIF whose logical screen (and first image descriptor) claim width x height."""
    out = bytearray(valid("gif"))
    out[6:10] = struct.pack("<HH", width, height)
    descriptor = out.index(b"\x2c", 13 + 3 * 2 ** ((out[10] & 7) + 1) if out[10] & 0x80 else 13)
    out[descriptor + 5 : descriptor + 9] = struct.pack("<HH", width, height)
    return bytes(out)


def gif_screen_bomb(width: int = 65_535, height: int = 65_535) -> bytes:
    """A GIF whose logical screen claims width x height around a small frame."""
    out = bytearray(valid("gif"))
    out[6:10] = struct.pack("<HH", width, height)
    return bytes(out)


def _tiff(width: int, height: int, strip: bytes) -> bytes:
    """A minimal little-endian RGB TIFF, one uncompressed strip of ``strip``."""
    entries = [
        (256, 4, 1, width),  # ImageWidth (LONG)
        (257, 4, 1, height),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 1),  # Photometric: black is zero
        (273, 4, 1, 0),  # StripOffsets (patched below)
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 4, 1, height),  # RowsPerStrip
        (279, 4, 1, len(strip)),  # StripByteCounts
    ]
    ifd_offset = 8
    data_offset = ifd_offset + 2 + 12 * len(entries) + 4
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        value = data_offset if tag == 273 else value
        packed = struct.pack("<HHI", tag, kind, count)
        packed += struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        ifd += packed
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", ifd_offset) + ifd + strip


def tiff_bomb(width: int = 1_000_000, height: int = 1_000_000) -> bytes:
    """A TIFF claiming width x height with 64 bytes of pixels."""
    return _tiff(width, height, b"\x00" * 64)


def webp_bomb(width: int = 16_384, height: int = 16_384) -> bytes:
    """An extended WebP (VP8X) whose canvas claims width x height around a small frame."""
    data = valid("webp")
    assert data[12:16] == b"VP8 "
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00"
    vp8x += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + vp8x + data[12:]
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _heif_with_size(data: bytes, width: int, height: int) -> bytes:
    """The HEIF/AVIF file with every ``ispe`` (image spatial extent) box claiming
    width x height."""
    out = bytearray(data)
    start = 0
    while (found := out.find(b"ispe", start)) != -1:
        # box: size(4) 'ispe' version/flags(4) width(4) height(4)
        out[found + 8 : found + 16] = struct.pack(">II", width, height)
        start = found + 4
    if start == 0:
        raise ValueError("no ispe box")
    return bytes(out)


def avif_bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    return _heif_with_size(valid("avif"), width, height)


def heic_bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    return _heif_with_size(valid("heic"), width, height)


# --- many animation frames -------------------------------------------------------------


def gif_frames(count: int, screen: tuple[int, int], frame: tuple[int, int] = (4, 4)) -> bytes:
    """A GIF animation of ``count`` frames (frame-sized, alternating colours) on a
    screen-sized logical screen, put together by hand so thousands cost nothing to make."""
    fw, fh = frame
    header = b"GIF89a" + struct.pack("<HHBBB", screen[0], screen[1], 0xF0, 0, 0)
    palette = bytes([200, 50, 50, 60, 80, 160]) + b"\x00" * (3 * 2 - 6)
    header += palette
    header += b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop forever
    frames = []
    for n in range(count):
        colour = n % 2
        pixels = bytes([colour]) * (fw * fh)
        control = b"!\xf9\x04\x00\x02\x00\x00\x00"  # graphic control: 20 ms
        descriptor = b"," + struct.pack("<HHHHB", 0, 0, fw, fh, 0)
        frames.append(control + descriptor + _lzw(pixels))
    return header + b"".join(frames) + b";"


def _lzw(pixels: bytes, min_code_size: int = 2) -> bytes:
    """GIF LZW data for ``pixels`` without compression: a clear code before every few
    literals keeps the code size fixed at min_code_size + 1 bits."""
    clear, end = 1 << min_code_size, (1 << min_code_size) + 1
    width = min_code_size + 1
    codes: list[int] = []
    for i, value in enumerate(pixels):
        if i % ((1 << width) - end - 2) == 0:
            codes.append(clear)
        codes.append(value)
    codes.append(end)
    bits, nbits, out = 0, 0, bytearray()
    for code in codes:
        bits |= code << nbits
        nbits += width
        while nbits >= 8:
            out.append(bits & 0xFF)
            bits >>= 8
            nbits -= 8
    if nbits:
        out.append(bits & 0xFF)
    blocks = b"".join(
        bytes([len(out[i : i + 255])]) + bytes(out[i : i + 255]) for i in range(0, len(out), 255)
    )
    return bytes([min_code_size]) + blocks + b"\x00"


def webp_frames(count: int, canvas: tuple[int, int]) -> bytes:
    """An animated WebP of ``count`` 1 x 1 lossless frames on a canvas-sized canvas."""
    one = _save(Image.new("RGB", (1, 1), (200, 50, 50)), "WEBP", lossless=True)
    vp8l = one[12:]  # the VP8L chunk, header and all
    assert vp8l[:4] == b"VP8L"
    frame = struct.pack("<I", 0)[:3] * 2  # x, y offsets (in units of 2)
    frame += (0).to_bytes(3, "little") * 2  # width-1, height-1
    frame += (20).to_bytes(3, "little") + b"\x00"  # duration, flags
    payload = frame + vp8l
    anmf = b"ANMF" + struct.pack("<I", len(payload)) + payload + b"\x00" * (len(payload) % 2)
    vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([0x02, 0, 0, 0])  # animation flag
    vp8x += (canvas[0] - 1).to_bytes(3, "little") + (canvas[1] - 1).to_bytes(3, "little")
    anim = b"ANIM" + struct.pack("<I", 6) + b"\xff\xff\xff\xff" + struct.pack("<H", 0)
    body = b"WEBP" + vp8x + anim + anmf * count
    return b"RIFF" + struct.pack("<I", len(body)) + body


# --- damaged files ---------------------------------------------------------------------


def cut(data: bytes, where: str) -> bytes:
    """The file cut off: just after its signature, at half, or short of its last bytes."""
    if where == "header":
        return data[:24]
    if where == "half":
        return data[: len(data) // 2]
    if where == "tail":
        return data[:-12]
    raise ValueError(where)


def flipped(data: bytes, span: int = 32) -> bytes:
    """The file with ``span`` bytes in its middle inverted."""
    middle = len(data) // 2
    out = bytearray(data)
    for i in range(middle, min(len(out), middle + span)):
        out[i] ^= 0xFF
    return bytes(out)


CUTS = ("header", "half", "tail")


# --- not pictures, or not only pictures ------------------------------------------------

SVG_WITH_SCRIPT = SVG

HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def gif_html_polyglot() -> bytes:
    """A valid GIF that is also an HTML document with a script (in a comment extension)."""
    data = valid("gif")
    trailer = data.rindex(b";")
    comment = b"!\xfe" + bytes([len(HTML)]) + HTML + b"\x00"
    return data[:trailer] + comment + data[trailer:]


def jpeg_html_polyglot() -> bytes:
    """A valid JPEG that is also an HTML document with a script (in a COM segment)."""
    data = valid("jpeg")
    segment = b"\xff\xfe" + struct.pack(">H", len(HTML) + 2) + HTML
    return data[:2] + segment + data[2:]


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("photo.jpg", valid("jpeg"))
        archive.writestr("index.html", HTML)
    return out.getvalue()


# --- absurd EXIF -----------------------------------------------------------------------


def _ifd_entries(entries: list[tuple[int, int, int, bytes]], at: int, next_ifd: int) -> bytes:
    """A big-endian IFD at offset ``at``: entries are (tag, type, count, 4-byte value)."""
    out = struct.pack(">H", len(entries))
    for tag, kind, count, value in entries:
        out += struct.pack(">HHI", tag, kind, count) + value
    return out + struct.pack(">I", next_ifd)


def _with_exif(tiff: bytes) -> bytes:
    """A small valid JPEG carrying ``tiff`` (a TIFF-structured EXIF block) in APP1."""
    payload = b"Exif\x00\x00" + tiff
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    data = valid("jpeg")
    return data[:2] + app1 + data[2:]


def _short(value: int) -> bytes:
    return struct.pack(">HH", value, 0)


def exif_orientation(value: int = 99) -> bytes:
    ifd = _ifd_entries([(0x0112, 3, 1, _short(value))], 8, 0)
    return _with_exif(b"MM\x00*" + struct.pack(">I", 8) + ifd)


def exif_many_entries(count: int = 5000) -> bytes:
    """IFD0 with thousands of (unknown, private) entries: about 60 KB of EXIF."""
    entries = [(0xC000 + n, 3, 1, _short(n)) for n in range(count)]
    return _with_exif(b"MM\x00*" + struct.pack(">I", 8) + _ifd_entries(entries, 8, 0))


def exif_huge_count() -> bytes:
    """IFD0 claiming 65535 entries in a block that holds two."""
    ifd = struct.pack(">H", 0xFFFF) + struct.pack(">HHI", 0x0112, 3, 1) + _short(1)
    return _with_exif(b"MM\x00*" + struct.pack(">I", 8) + ifd)


def exif_recursive() -> bytes:
    """IFD0 whose EXIF sub-IFD and GPS IFD pointers, and its next-IFD link, all point back
    at IFD0 itself: a reader that follows links without remembering them never stops."""
    entries = [
        (0x0112, 3, 1, _short(1)),
        (0x8769, 4, 1, struct.pack(">I", 8)),  # ExifIFD -> IFD0
        (0x8825, 4, 1, struct.pack(">I", 8)),  # GPS IFD -> IFD0
    ]
    return _with_exif(b"MM\x00*" + struct.pack(">I", 8) + _ifd_entries(entries, 8, 8))


def exif_gps_nan() -> bytes:
    """A GPS IFD whose latitude is 0/0 (not a number) and longitude 1/0 (infinite)."""
    base = 8
    ifd0_len = 2 + 12 * 1 + 4
    gps_at = base + ifd0_len
    gps_len = 2 + 12 * 4 + 4
    data_at = gps_at + gps_len
    lat = struct.pack(">IIIIII", 0, 0, 0, 0, 0, 0)
    lon = struct.pack(">IIIIII", 1, 0, 1, 0, 1, 0)
    ifd0 = _ifd_entries([(0x8825, 4, 1, struct.pack(">I", gps_at))], base, 0)
    gps = _ifd_entries(
        [
            (1, 2, 2, b"N\x00\x00\x00"),
            (2, 5, 3, struct.pack(">I", data_at)),
            (3, 2, 2, b"E\x00\x00\x00"),
            (4, 5, 3, struct.pack(">I", data_at + len(lat))),
        ],
        gps_at,
        0,
    )
    return _with_exif(b"MM\x00*" + struct.pack(">I", base) + ifd0 + gps + lat + lon)


# --- hostile filenames -----------------------------------------------------------------

MARKER = "hostilename"
HOSTILE_FILENAMES: dict[str, str] = {
    "path-traversal": f"../../etc/{MARKER}-passwd.jpg",
    "absolute-path": f"/etc/{MARKER}.jpg",
    "windows-traversal": f"..\\..\\windows\\{MARKER}.jpg",
    "control-characters": f"{MARKER}\x01\x07\x1b[31m.jpg",
    "very-long": MARKER + "a" * 5000 + ".jpg",
    "nul-byte": f"{MARKER}.jpg\x00.php",
    "rtl-override": f"{MARKER}\u202egpj.exe",
    "quote-and-semicolon": f'{MARKER}"; name="caption.jpg',
    "empty": "",
}


# --- multipart bodies, by hand ---------------------------------------------------------

BOUNDARY = "hostileboundary7MA4YWxk"


@dataclass(frozen=True)
class Part:
    name: str | None
    data: bytes
    filename: str | None = None


def _disposition(part: Part) -> bytes:
    out = b"Content-Disposition: form-data"
    if part.name is not None:
        out += b'; name="' + part.name.encode() + b'"'
    if part.filename is not None:
        out += b'; filename="' + part.filename.encode("utf-8", "surrogateescape") + b'"'
    return out


def multipart(parts: list[Part], boundary: str = BOUNDARY) -> bytes:
    out = b""
    for part in parts:
        out += b"--" + boundary.encode() + b"\r\n" + _disposition(part) + b"\r\n"
        if part.filename is not None:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + part.data + b"\r\n"
    return out + b"--" + boundary.encode() + b"--\r\n"


def content_type(boundary: str | None = BOUNDARY) -> str:
    return "multipart/form-data" + (f"; boundary={boundary}" if boundary else "")


@dataclass(frozen=True)
class RawRequest:
    body: bytes
    content_type: str
    words: str  # what the refusal's detail must say


def malformed_multipart() -> dict[str, RawRequest]:
    picture = valid("jpeg")
    file_part = Part("file", picture, "photo.jpg")
    whole = multipart([file_part, Part("caption", b"hello")])
    return {
        "no-file-part": RawRequest(
            multipart([Part("caption", b"hello")]), content_type(), "no complete 'file' part"
        ),
        "two-file-parts": RawRequest(
            multipart([file_part, Part("file", valid("png"), "b.png")]),
            content_type(),
            "one file",
        ),
        "file-under-another-name": RawRequest(
            multipart([Part("picture", picture, "photo.jpg")]),
            content_type(),
            "send the picture as 'file'",
        ),
        "giant-text-field": RawRequest(
            multipart([Part("caption", b"x" * (1 << 20)), file_part]), content_type(), "too long"
        ),
        "too-many-fields": RawRequest(
            multipart([Part(f"f{n}", b"x") for n in range(50)] + [file_part]),
            content_type(),
            "too many form fields",
        ),
        "part-without-name": RawRequest(
            multipart([Part(None, b"x"), file_part]), content_type(), "no name"
        ),
        "field-not-utf8": RawRequest(
            multipart([Part("caption", b"\xff\xfe\xfa"), file_part]), content_type(), "UTF-8"
        ),
        "missing-boundary": RawRequest(whole, content_type(None), "multipart/form-data"),
        "wrong-boundary": RawRequest(whole, content_type("someotherboundary"), "boundary"),
        "truncated-body": RawRequest(
            whole[: len(whole) // 2], content_type(), "no complete 'file' part"
        ),
        "garbage-body": RawRequest(
            b"\x00\x01\x02 not a multipart body at all", content_type(), "malformed"
        ),
        "not-multipart": RawRequest(picture, "image/jpeg", "multipart/form-data"),
    }


# --- fields ----------------------------------------------------------------------------

HOSTILE_FIELDS: dict[str, tuple[dict[str, str], str]] = {
    "caption-too-long": ({"caption": "x" * 3000}, "caption is longer than 2200"),
    "caption-giant": ({"caption": "x" * 100_000}, "'caption' is too long"),
    "too-many-tags": ({"tags": ",".join(f"tag{n}" for n in range(500))}, "at most"),
    "tag-too-long": ({"tags": "a" * 5000}, "tag"),
    "tag-with-markup": ({"tags": "<img src=x onerror=alert(1)>"}, "tag"),
    "alt-text-too-long": ({"alt_text": "y" * 5000}, "alt text is longer"),
    "lat-nan": ({"lat": "nan", "lon": "0"}, "lat must be between"),
    "lon-infinite": ({"lat": "0", "lon": "inf"}, "lon must be between"),
    "location-too-long": ({"location": "z" * 1000}, "location name is longer"),
}


# --- the catalogue: files that go through the door -------------------------------------


@dataclass(frozen=True)
class HostileFile:
    data: bytes
    filename: str
    # what may happen: "refused" (4xx at the door), "failed" (201, then failed),
    # "ready" (a valid picture: 201, then ready); several are allowed where the outcome
    # depends on how far a decoder gets before it notices
    allowed: frozenset[str]
    words: str = ""  # for a refusal: what its detail must say


def _h(data: bytes, filename: str, *allowed: str, words: str = "") -> HostileFile:
    return HostileFile(data, filename, frozenset(allowed), words)


TOO_LARGE = "larger than the limit"
TOO_MANY_FRAMES = "frames, more than the limit of 1000 frames"
TOO_LARGE_ANIMATION = "larger than the limit of 50 megapixels for an animation"


def hostile_files() -> dict[str, Callable[[], HostileFile]]:
    """Builders by id (ids are known at collection time; bytes are made when used)."""
    cases: dict[str, Callable[[], HostileFile]] = {
        "bomb-png-100000x100000": lambda: _h(png_bomb(), "bomb.png", "refused", words=TOO_LARGE),
        "bomb-png-real-12000x12000": lambda: _h(
            png_real_bomb(), "bomb.png", "refused", words=TOO_LARGE
        ),
        "bomb-jpeg-65500x65500": lambda: _h(jpeg_bomb(), "bomb.jpg", "refused", words=TOO_LARGE),
        "bomb-jpeg-progressive-65500x65500": lambda: _h(
            jpeg_progressive_bomb(), "bomb.jpg", "refused", words=TOO_LARGE
        ),
        "bomb-gif-65535x65535": lambda: _h(gif_bomb(), "bomb.gif", "refused", "failed"),
        "bomb-gif-screen-65535x65535": lambda: _h(
            gif_screen_bomb(), "bomb.gif", "refused", "failed", "ready"
        ),
        "bomb-tiff-1000000x1000000": lambda: _h(tiff_bomb(), "bomb.tif", "refused"),
        "bomb-webp-canvas-16384x16384": lambda: _h(webp_bomb(), "bomb.webp", "refused", "failed"),
        "bomb-avif-60000x60000": lambda: _h(avif_bomb(), "bomb.avif", "refused", "failed"),
        "bomb-heic-60000x60000": lambda: _h(heic_bomb(), "bomb.heic", "refused", "failed"),
        "frames-gif-3000-on-400x300": lambda: _h(
            gif_frames(3000, (400, 300)), "frames.gif", "refused", words=TOO_LARGE
        ),
        # more frames than SHUTTERBOX_MAX_ANIMATION_FRAMES (1000), however small
        "frames-gif-2000-small": lambda: _h(
            gif_frames(2000, (16, 16)), "frames.gif", "refused", words=TOO_MANY_FRAMES
        ),
        "frames-gif-10000-small": lambda: _h(
            gif_frames(10_000, (8, 8), (1, 1)), "frames.gif", "refused", words=TOO_MANY_FRAMES
        ),
        "frames-webp-3000-on-400x300": lambda: _h(
            webp_frames(3000, (400, 300)), "frames.webp", "refused", words=TOO_LARGE
        ),
        "frames-webp-2000-small": lambda: _h(
            webp_frames(2000, (16, 16)), "frames.webp", "refused", words=TOO_MANY_FRAMES
        ),
        # under the picture limit (100 MP), over the animation's (50 MP of frames)
        "frames-gif-300-on-600x400": lambda: _h(
            gif_frames(300, (600, 400)), "frames.gif", "refused", words=TOO_LARGE_ANIMATION
        ),
        "frames-webp-300-on-600x400": lambda: _h(
            webp_frames(300, (600, 400)), "frames.webp", "refused", words=TOO_LARGE_ANIMATION
        ),
        # within every limit: animated variants
        "frames-gif-500-small": lambda: _h(gif_frames(500, (16, 16)), "frames.gif", "ready"),
        "frames-webp-500-small": lambda: _h(webp_frames(500, (16, 16)), "frames.webp", "ready"),
        "svg-with-script": lambda: _h(
            SVG_WITH_SCRIPT, "drawing.svg", "refused", words="not a picture"
        ),
        "svg-named-jpg": lambda: _h(SVG_WITH_SCRIPT, "photo.jpg", "refused", words="not a picture"),
        "html-named-jpg": lambda: _h(HTML, "photo.jpg", "refused", words="not a picture"),
        "zip-named-jpg": lambda: _h(zip_archive(), "photo.jpg", "refused", words="not a picture"),
        "gif-html-polyglot": lambda: _h(gif_html_polyglot(), "poly.gif", "ready"),
        "jpeg-html-polyglot": lambda: _h(jpeg_html_polyglot(), "poly.html", "ready"),
        "exif-orientation-99": lambda: _h(exif_orientation(99), "exif.jpg", "ready"),
        "exif-5000-entries": lambda: _h(exif_many_entries(), "exif.jpg", "ready"),
        "exif-ifd-count-65535": lambda: _h(exif_huge_count(), "exif.jpg", "ready"),
        "exif-recursive-ifds": lambda: _h(exif_recursive(), "exif.jpg", "ready"),
        "exif-gps-nan": lambda: _h(exif_gps_nan(), "exif.jpg", "ready"),
    }
    for fmt in ACCEPTED:
        for where in CUTS:
            cases[f"cut-{where}-{fmt}"] = _damaged(fmt, lambda data, w=where: cut(data, w))
        cases[f"flipped-{fmt}"] = _damaged(fmt, flipped)
    return cases


def _damaged(fmt: str, damage: Callable[[bytes], bytes]) -> Callable[[], HostileFile]:
    def build() -> HostileFile:
        # big enough that a cut at half leaves a real header and some pixel data
        whole = valid(fmt, 480, 320) if fmt != "gif" else _noisy_gif()
        return _h(damage(whole), f"damaged.{extension(fmt)}", "refused", "failed", "ready")

    return build


def _noisy_gif() -> bytes:
    noise = Image.effect_noise((480, 320), 60).convert("P", palette=Image.Palette.ADAPTIVE)
    return _save(noise, "GIF")
