"""Pictures made on the fly for tests: real encoders, known content."""

from __future__ import annotations

import io
import itertools
import struct
import zlib

from PIL import Image

_serial = itertools.count()


def jpeg_bytes(
    width: int = 640,
    height: int = 480,
    *,
    orientation: int | None = None,
    gps: bool = False,
    camera: tuple[str, str] | None = None,
    taken_at: str | None = None,
    quality: int = 90,
    noise: bool = False,
) -> bytes:
    """A JPEG whose left half is red and right half blue (so orientation is checkable).
    Every call gives different bytes (a serial number in a comment): reuse the bytes to
    upload the same file twice."""
    image = Image.new("RGB", (width, height), (220, 30, 30))
    image.paste((30, 30, 220), (width // 2, 0, width, height))
    if noise:
        grain = Image.effect_noise((width, height), 40).convert("RGB")
        image = Image.blend(image, grain, 0.25)
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if camera is not None:
        exif[0x010F], exif[0x0110] = camera
    if taken_at is not None:
        exif.get_ifd(0x8769)[0x9003] = taken_at
    if gps:
        ifd = exif.get_ifd(0x8825)
        ifd[1], ifd[2], ifd[3], ifd[4] = "N", (52.0, 31.0, 12.0), "E", (13.0, 24.0, 36.0)
    out = io.BytesIO()
    image.save(
        out, "JPEG", quality=quality, exif=exif.tobytes(), comment=f"test picture {next(_serial)}"
    )
    return out.getvalue()


def png_bytes(width: int = 64, height: int = 48, mode: str = "RGBA") -> bytes:
    image = Image.new(mode, (width, height))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A small PNG file whose header claims ``width x height`` (a decompression bomb's shape)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
)
