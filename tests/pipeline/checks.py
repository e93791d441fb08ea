"""What the pipeline tests look at: uploads in bulk, decoded variants, a reference viewer."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pillow_heif
import pyvips
from PIL import Image, ImageCms, ImageOps, ImageStat

from shutterbox.domain.images import VARIANT_SPECS
from tests.pipeline.colour import RGB, delta_e
from tests.pipeline.corpus import Quadrants, Sample, jpeg_segments
from tests.support.clients import upload, wait_for_status

MAX_SIDE = {spec.name: spec.max_side for spec in VARIANT_SPECS}
Colour = tuple[float, float, float]


def rounded(colour: Colour) -> RGB:
    return (round(colour[0]), round(colour[1]), round(colour[2]))


@dataclass
class Outcome:
    """What happened to one upload: the upload's answer and, if accepted, the final image."""

    upload_status: int
    upload_body: dict[str, Any]
    image: dict[str, Any] = field(default_factory=dict)


def process_all(
    client: Any, auth: dict[str, str], files: Iterable[tuple[str, bytes, str]]
) -> dict[str, Outcome]:
    """Upload every (key, data, filename) first, then wait for each: the workers process
    the batch in parallel while the rest is still being uploaded."""
    outcomes: dict[str, Outcome] = {}
    for key, data, filename in files:
        response = upload(client, auth, data, name=filename)
        outcomes[key] = Outcome(response.status_code, response.json())
    for outcome in outcomes.values():
        if outcome.upload_status == 201:
            image_id = outcome.upload_body["id"]
            outcome.image = wait_for_status(client, image_id, auth, timeout=90)
    return outcomes


def fitted(width: int, height: int, max_side: int) -> tuple[float, float]:
    """The size of a picture fitted in a max_side square, never enlarged."""
    scale = min(1.0, max_side / max(width, height))
    return width * scale, height * scale


def fetch_variant(client: Any, variant: dict[str, Any]) -> tuple[bytes, pyvips.Image]:
    response = client.get(variant["url"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert len(response.content) == variant["bytes"]
    return response.content, pyvips.Image.new_from_buffer(response.content, "")


def mean_colour(image: pyvips.Image, left: int, top: int, width: int, height: int) -> Colour:
    region = image.crop(left, top, width, height)
    return (region[0].avg(), region[1].avg(), region[2].avg())


def quadrant_colours(image: pyvips.Image) -> list[Colour]:
    """Mean colour of the middle of each quadrant: top-left, top-right, bottom-left,
    bottom-right (the middle half of each side, away from edges and resampling blur)."""
    w, h = image.width, image.height
    return [
        mean_colour(image, qx * w // 2 + w // 8, qy * h // 2 + h // 8, w // 4, h // 4)
        for qy in (0, 1)
        for qx in (0, 1)
    ]


# ΔE2000 of each quadrant from what a correct viewer shows. 5 leaves room for lossy
# originals (WebP, AVIF, HEIC), the 8-bit CMYK round trip (up to about 2.5 for these
# colours) and the variants' own JPEG coding. A rotation or mirror swaps quadrants that
# differ by 30 or more (16 for the greys), CMYK numbers taken without their profile are
# off by about 22 in one quadrant, and a transparent area left black by 100. (Display P3
# taken as sRGB is off by only about 3 for these moderate colours: test_colour.py measures
# colour accuracy with tighter limits.)
QUADRANT_TOLERANCE = 5.0


def assert_quadrants(measured: list[Colour], expected: Quadrants, context: str) -> None:
    for i, (got, want) in enumerate(zip(measured, expected, strict=True)):
        difference = delta_e(got, want)
        assert difference < QUADRANT_TOLERANCE, (
            f"{context}: quadrant {i} is {rounded(got)}, expected {want} "
            f"(ΔE2000 {difference:.1f}); all quadrants: {[rounded(m) for m in measured]}"
        )
        # and it is this quadrant's colour, not another's (a mirror of a similar picture)
        nearest = min(range(4), key=lambda j: delta_e(got, expected[j]))
        assert expected[nearest] == want, f"{context}: quadrant {i} looks like quadrant {nearest}"


METADATA_FIELD = re.compile(r"^(exif-|xmp-data|iptc-data|icc-profile-data)")


def assert_no_metadata(data: bytes, decoded: pyvips.Image, context: str) -> None:
    fields = [f for f in decoded.get_fields() if METADATA_FIELD.match(f)]
    assert fields == [], f"{context}: the variant carries {fields}"
    markers = {marker for _, marker, _ in jpeg_segments(data)}
    carriers = sorted(m for m in markers if 0xE1 <= m <= 0xEF or m == 0xFE)
    assert carriers == [], f"{context}: APPn/COM segments {[hex(m) for m in carriers]}"
    assert b"Exif\x00" not in data, f"{context}: EXIF bytes"
    assert b"http://ns.adobe.com/xap" not in data, f"{context}: XMP bytes"
    assert b"Photoshop 3.0" not in data, f"{context}: IPTC bytes"
    assert b"ICC_PROFILE" not in data, f"{context}: ICC profile bytes"


_HUMAN = re.compile(r"[A-Za-z][a-z]+ [a-z]+")
_MACHINE = re.compile(
    r"\b\w*(Error|Exception)\b|Traceback|vips|errno|0x[0-9a-f]+|\.py\b|/\w+/", re.IGNORECASE
)


def assert_human_readable(text: Any, context: str) -> None:
    """A sentence for a person: words, no exception names, library names or paths."""
    assert isinstance(text, str) and _HUMAN.search(text), f"{context}: {text!r}"
    assert len(text) < 300, f"{context}: {text!r}"
    assert not _MACHINE.search(text), f"{context}: not for people: {text!r}"


# --- the reference viewer ---------------------------------------------------------------

SRGB = ImageCms.createProfile("sRGB")


def reference_open(data: bytes) -> Image.Image:
    """The file decoded by Pillow (HEIC by pillow-heif), first frame, as stored."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        brands = data[8:48] if data[4:8] == b"ftyp" else b""
        if (b"heic" in brands or b"heix" in brands) and b"avif" not in brands:
            return pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True).to_pillow()
        image = Image.open(io.BytesIO(data))
        image.load()
        return image


def reference_view(
    data: bytes, intent: ImageCms.Intent = ImageCms.Intent.RELATIVE_COLORIMETRIC
) -> Image.Image:
    """What a careful viewer shows, computed independently of libvips: Pillow decodes,
    applies the EXIF orientation, converts through the embedded ICC profile with
    LittleCMS (``intent``), and composites any transparency onto white."""
    image = reference_open(data)
    image = ImageOps.exif_transpose(image)
    icc = image.info.get("icc_profile")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("I;16", "I"):
        image = image.point(lambda v: v / 257).convert("L")
    if icc:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        out_mode = "RGBA" if image.mode in ("RGBA", "LA") else "RGB"
        image = ImageCms.profileToProfile(
            image, source, SRGB, renderingIntent=intent, outputMode=out_mode
        )
    if image.mode in ("RGBA", "LA", "PA"):
        image = image.convert("RGBA")
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image)
    return image.convert("RGB")


def pil_mean(image: Image.Image, box: tuple[int, int, int, int]) -> Colour:
    red, green, blue = ImageStat.Stat(image.crop(box).convert("RGB")).mean
    return (red, green, blue)


def reference_quadrants(image: Image.Image) -> list[Colour]:
    w, h = image.size
    return [
        pil_mean(
            image,
            (
                qx * w // 2 + w // 8,
                qy * h // 2 + h // 8,
                qx * w // 2 + w // 8 + w // 4,
                qy * h // 2 + h // 8 + h // 4,
            ),
        )
        for qy in (0, 1)
        for qx in (0, 1)
    ]


def assert_reference_view(sample: Sample, label: str, size: tuple[int, int] | None = None) -> None:
    """An independent viewer shows ``sample`` at ``size`` (its own size by default) with its
    quadrants' colours where they belong."""
    view = reference_view(sample.data)
    assert view.size == (size or (sample.width, sample.height))
    assert_quadrants(reference_quadrants(view), sample.quadrants, f"reference view of {label}")


def assert_variant_fits(sample: Sample, name: str, variant: dict[str, Any]) -> None:
    """The variant ``name`` is ``sample`` fitted within its size, give or take a pixel."""
    want_w, want_h = fitted(sample.width, sample.height, MAX_SIDE[name])
    assert abs(variant["width"] - want_w) <= 1, (name, variant)
    assert abs(variant["height"] - want_h) <= 1, (name, variant)


def assert_variant_shows(
    service: Any, variant: dict[str, Any], sample: Sample, label: str
) -> tuple[bytes, pyvips.Image]:
    """Fetch the variant: its pixels have the size the API says and show ``sample``'s
    quadrants where they belong. Returns its bytes and the decoded image."""
    data, decoded = fetch_variant(service, variant)
    assert (decoded.width, decoded.height) == (variant["width"], variant["height"])
    assert_quadrants(quadrant_colours(decoded), sample.quadrants, label)
    return data, decoded
