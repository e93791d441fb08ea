"""What the pipeline reads from a photo: camera details from EXIF, when it was taken, a
blurhash placeholder and the dominant colour. The GPS position is never published unless
the uploader asks for it."""

from __future__ import annotations

import re

import blurhash
import pytest
from fastapi.testclient import TestClient

from tests.pipeline import corpus
from tests.pipeline.checks import Outcome, process_all
from tests.pipeline.colour import delta_e
from tests.support.clients import upload, wait_for_status

CONTAINERS = ("jpeg", "png", "webp", "heic", "avif")
EXTENSIONS = {"jpeg": "jpg"}
CAMERA = {
    "make": "Fujifilm",
    "model": "X-T5",
    "lens": "XF35mmF1.4 R",
    "exposure_time": "1/125",
    "f_number": 2.8,
    "iso": 200,
    "focal_length_mm": 35.0,
}
TAKEN_AT = "2023-07-14T18:05:09"
BASE83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"


@pytest.fixture(scope="module")
def outcomes(service: TestClient, owner: dict[str, str]) -> dict[str, Outcome]:
    return process_all(
        service,
        owner,
        ((c, corpus.photo_with_details(c), f"photo.{EXTENSIONS.get(c, c)}") for c in CONTAINERS),
    )


def _ready(outcomes: dict[str, Outcome], container: str) -> dict:
    outcome = outcomes[container]
    assert outcome.upload_status == 201, outcome.upload_body
    assert outcome.image["status"] == "ready", outcome.image
    return outcome.image


def _base83(text: str) -> int:
    value = 0
    for char in text:
        value = value * 83 + BASE83.index(char)
    return value


def _linear(channel: float) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _srgb(linear: float) -> float:
    v = max(0.0, min(1.0, linear))
    return 255 * (v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055)


def _average_colour() -> tuple[float, float, float]:
    """The picture's mean colour, averaged in linear light as blurhash does."""
    main, accent = corpus.MAIN_COLOUR, corpus.ACCENT
    mixed = [0.75 * _linear(m) + 0.25 * _linear(a) for m, a in zip(main, accent, strict=True)]
    return (_srgb(mixed[0]), _srgb(mixed[1]), _srgb(mixed[2]))


@pytest.mark.parametrize("container", CONTAINERS)
def test_camera_details_and_time_taken(outcomes: dict[str, Outcome], container: str):
    image = _ready(outcomes, container)
    assert image["camera"] == CAMERA
    assert image["taken_at"] == TAKEN_AT
    assert (image["width"], image["height"]) == corpus.DETAILS_SIZE


@pytest.mark.parametrize("container", CONTAINERS)
def test_gps_position_is_not_published_unasked(outcomes: dict[str, Outcome], container: str):
    image = _ready(outcomes, container)
    assert image["location"] is None


def test_gps_position_is_used_when_asked(service: TestClient, owner: dict[str, str]):
    note = b"shared"  # a comment segment: other bytes than the upload above, same picture
    data = corpus.insert_segment(corpus.photo_with_details("jpeg"), b"\xff\xfe\x00\x08" + note)
    response = upload(service, owner, data, share_location="true")
    assert response.status_code == 201, response.text
    image = wait_for_status(service, response.json()["id"], owner)
    # 52° 31' 12" N, 13° 24' 36" E
    assert image["location"]["lat"] == pytest.approx(52.52, abs=1e-6)
    assert image["location"]["lon"] == pytest.approx(13.41, abs=1e-6)


@pytest.mark.parametrize("container", CONTAINERS)
def test_blurhash_describes_the_picture(outcomes: dict[str, Outcome], container: str):
    hash_ = _ready(outcomes, container)["blurhash"]
    assert isinstance(hash_, str) and hash_
    assert set(hash_) <= set(BASE83), hash_
    assert len(hash_) == 28, hash_  # 4 x 3 components: 1 + 1 + 4 + 2 x 11 characters
    size_flag = _base83(hash_[0])
    assert (size_flag % 9 + 1, size_flag // 9 + 1) == (4, 3), hash_
    # the DC component is the picture's average colour
    dc = _base83(hash_[2:6])
    average = (dc >> 16, (dc >> 8) & 255, dc & 255)
    assert delta_e(average, _average_colour()) < 3, (average, _average_colour())
    # and the hash, decoded, is teal on top and orange at the bottom
    pixels = blurhash.decode(hash_, 8, 8)
    top, bottom = pixels[1][4], pixels[7][4]
    assert delta_e(top[:3], corpus.MAIN_COLOUR) < delta_e(top[:3], corpus.ACCENT), top
    assert delta_e(bottom[:3], corpus.ACCENT) < delta_e(bottom[:3], corpus.MAIN_COLOUR), bottom


@pytest.mark.parametrize("container", CONTAINERS)
def test_dominant_colour_is_the_main_colour(outcomes: dict[str, Outcome], container: str):
    colour = _ready(outcomes, container)["dominant_color"]
    assert re.fullmatch(r"#[0-9a-f]{6}", colour), colour
    rgb = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    # within what the variant's resampling and rounding allow: well under 3 ΔE2000
    assert delta_e(rgb, corpus.MAIN_COLOUR) < 3, (colour, corpus.MAIN_COLOUR)
