"""The parts of imaging that need no image library: a decoder's complaint put in words for
people, and the placeholders (blurhash, dominant colour) computed from a few raw pixels.
``imaging`` (the only module that imports pyvips) hands them plain strings and bytes."""

from __future__ import annotations

from collections import Counter

import blurhash

_CUT_OFF_WORDS = (
    "premature end",
    "truncated",
    "unexpected end",
    "out of data",
    "read error",
    "short read",
    "eof",
    "not enough data",
)
_MEMORY_WORDS = (
    "out of memory",
    "insufficient memory",
    "unable to allocate",
    "memory allocation",
    "cannot allocate",
)


def refusal_reason(decoder_message: str) -> str:
    """Why a picture could not be decoded, in words for its owner (never the decoder's)."""
    text = decoder_message.lower()
    if any(word in text for word in _CUT_OFF_WORDS):
        return "the file is cut off: upload the complete picture again"
    if any(word in text for word in _MEMORY_WORDS):
        return "the picture needs more memory to process than this server allows"
    if "not a known file format" in text or "is not a known" in text:
        # The bytes were already recognised as an accepted format, so the file is broken.
        return "the file is damaged or cut off and could not be read as a picture"
    return "the file is damaged and could not be read as a picture"


def placeholders(rgb: bytes, width: int, height: int) -> tuple[str, str]:
    """A blurhash (4x3 components) and the dominant colour of a small picture, given as
    8-bit RGB rows."""
    pixels = [tuple(rgb[i : i + 3]) for i in range(0, width * height * 3, 3)]
    rows = [[list(pixels[y * width + x]) for x in range(width)] for y in range(height)]
    placeholder = blurhash.encode(rows, components_x=4, components_y=3)
    buckets = Counter((r >> 5, g >> 5, b >> 5) for r, g, b in pixels)
    top = buckets.most_common(1)[0][0]
    members = [p for p in pixels if (p[0] >> 5, p[1] >> 5, p[2] >> 5) == top]
    mean = [round(sum(p[i] for p in members) / len(members)) for i in range(3)]
    return placeholder, "#{:02x}{:02x}{:02x}".format(*mean)
