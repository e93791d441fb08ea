"""Recognising an image format from its first bytes (never from a name or a header)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageFormat:
    name: str
    media_type: str
    extension: str


JPEG = ImageFormat("jpeg", "image/jpeg", "jpg")
PNG = ImageFormat("png", "image/png", "png")
GIF = ImageFormat("gif", "image/gif", "gif")
WEBP = ImageFormat("webp", "image/webp", "webp")
AVIF = ImageFormat("avif", "image/avif", "avif")
HEIC = ImageFormat("heic", "image/heic", "heic")
TIFF = ImageFormat("tiff", "image/tiff", "tiff")

ACCEPTED_FORMATS: tuple[ImageFormat, ...] = (JPEG, PNG, GIF, WEBP, AVIF, HEIC, TIFF)
ACCEPTED_NAMES = ", ".join(f.name.upper() for f in ACCEPTED_FORMATS)

# How many leading bytes sniff_format needs to see.
SNIFF_BYTES = 64

_AVIF_BRANDS = {b"avif", b"avis"}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def sniff_format(head: bytes) -> ImageFormat | None:
    """Return the format whose signature ``head`` starts with, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return TIFF
    if head[4:8] == b"ftyp":
        return _sniff_isobmff(head)
    return None


def _sniff_isobmff(head: bytes) -> ImageFormat | None:
    box_size = int.from_bytes(head[0:4], "big")
    major = head[8:12]
    brands = {major}
    end = min(max(box_size, 16), len(head))
    brands.update(head[i : i + 4] for i in range(16, end - 3, 4))
    if brands & _AVIF_BRANDS:
        return AVIF
    if brands & _HEIF_BRANDS:
        return HEIC
    return None
