from __future__ import annotations

import pytest

from shutterbox.domain.formats import sniff_format
from tests.imagegen import SVG, jpeg_bytes, png_bytes


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (jpeg_bytes(16, 16)[:64], "jpeg"),
        (png_bytes()[:64], "png"),
        (b"GIF89a" + b"\x00" * 20, "gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        (b"II*\x00" + b"\x00" * 10, "tiff"),
        (b"MM\x00*" + b"\x00" * 10, "tiff"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "avif"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif", "avif"),
    ],
)
def test_recognised_formats(head: bytes, expected: str):
    found = sniff_format(head)
    assert found is not None and found.name == expected


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"hello world",
        SVG,
        b"%PDF-1.7",
        b"PK\x03\x04zip",
        b"8BPS psd",
        b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isommp41",
        b"RIFF\x00\x00\x00\x00WAVEfmt ",
    ],
)
def test_everything_else_is_refused(head: bytes):
    assert sniff_format(head) is None
