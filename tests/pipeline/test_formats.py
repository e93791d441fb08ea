"""Every kind of accepted input comes out ready, upright, 8-bit sRGB and without metadata."""

from __future__ import annotations

import hashlib

import pytest
import pyvips
from fastapi.testclient import TestClient

from shutterbox.domain.formats import sniff_format
from tests.pipeline import corpus
from tests.pipeline.checks import (
    MAX_SIDE,
    Outcome,
    assert_no_metadata,
    assert_reference_view,
    assert_variant_fits,
    assert_variant_shows,
    fetch_variant,
    process_all,
    reference_open,
)
from tests.pipeline.colour import delta_e

KINDS = list(corpus.KINDS)
EXPECTED_FORMAT = {kind: kind.split("-")[0] for kind in KINDS}


@pytest.fixture(scope="module")
def samples() -> dict[str, corpus.Sample]:
    return {kind: build() for kind, build in corpus.KINDS.items()}


@pytest.fixture(scope="module")
def outcomes(
    service: TestClient, owner: dict[str, str], samples: dict[str, corpus.Sample]
) -> dict[str, Outcome]:
    return process_all(service, owner, ((s.id, s.data, s.filename) for s in samples.values()))


def _ready(outcomes: dict[str, Outcome], kind: str) -> dict:
    outcome = outcomes[kind]
    assert outcome.upload_status == 201, outcome.upload_body
    assert outcome.image["status"] == "ready", outcome.image
    return outcome.image


@pytest.mark.parametrize("kind", KINDS)
def test_the_corpus_picture_is_what_it_claims(samples: dict[str, corpus.Sample], kind: str):
    """Checked with an independent viewer (Pillow, LittleCMS, pillow-heif), so the
    expectations the service is held to are right."""
    sample = samples[kind]
    sniffed = sniff_format(sample.data[:64])
    assert sniffed is not None and sniffed.name == EXPECTED_FORMAT[kind]
    assert_reference_view(sample, kind)


def test_the_corpus_covers_what_it_should(samples: dict[str, corpus.Sample]):
    modes = {kind: reference_open(s.data).mode for kind, s in samples.items()}
    assert modes["jpeg-cmyk-icc"] == "CMYK"
    assert modes["png-palette"] == modes["png-palette-trns"] == "P"
    assert modes["png-grey8"] == "L" and modes["jpeg-grey"] == "L"
    assert modes["png-grey16"].startswith("I")
    assert modes["png-rgba"] == modes["webp-alpha"] == modes["heic-rgba"] == "RGBA"
    assert modes["png-grey-alpha"] == "LA"
    frames = {
        kind: {marker for _, marker, _ in corpus.jpeg_segments(samples[kind].data)}
        for kind in ("jpeg-baseline", "jpeg-progressive")
    }
    assert 0xC0 in frames["jpeg-baseline"] and 0xC2 not in frames["jpeg-baseline"]
    assert 0xC2 in frames["jpeg-progressive"] and 0xC0 not in frames["jpeg-progressive"]
    assert samples["png-rgb16"].data[24] == 16 and samples["png-grey16"].data[24] == 16
    assert b"ftypavif" in samples["avif"].data[:16]
    assert b"hvcC" in samples["heic"].data  # HEVC-coded
    for kind in ("avif-10bit", "heic-10bit"):
        assert pyvips.Image.new_from_buffer(samples[kind].data, "").get("bits-per-sample") == 10
    for kind in ("jpeg-display-p3", "heic-display-p3"):  # P3 numbers, not sRGB ones
        stored = reference_open(samples[kind].data)
        assert stored.info["icc_profile"] == corpus.profile("p3")
        top_left = stored.convert("RGB").getpixel((20, 20))
        assert delta_e(top_left, corpus.RED) > 2, top_left
    for kind in ("gif-animated", "webp-animated"):  # the second frame is another colour
        animation = reference_open(samples[kind].data)
        assert getattr(animation, "n_frames", 1) == 2
        animation.seek(1)
        second = animation.convert("RGB").getpixel((10, 10))
        assert delta_e(second, corpus.SECOND_FRAME) < 3, (kind, second)
    # metadata that must not reach a variant is really there in the originals
    baseline = samples["jpeg-baseline"].data
    for marker in (b"Exif\x00", b"http://ns.adobe.com/xap", b"Photoshop 3.0"):
        assert marker in baseline
    assert b"ICC_PROFILE" in samples["jpeg-srgb-icc"].data


@pytest.mark.parametrize("kind", KINDS)
def test_comes_out_ready_with_its_displayed_size(
    outcomes: dict[str, Outcome], samples: dict[str, corpus.Sample], kind: str
):
    image = _ready(outcomes, kind)
    sample = samples[kind]
    assert image["failure_reason"] is None
    assert (image["width"], image["height"]) == (sample.width, sample.height)
    assert set(image["variants"]) == set(MAX_SIDE)
    for name, variant in image["variants"].items():
        assert_variant_fits(sample, name, variant)
        assert variant["content_type"] == "image/jpeg"


@pytest.mark.parametrize("kind", KINDS)
def test_variants_are_upright_8bit_srgb(
    service: TestClient, outcomes: dict[str, Outcome], samples: dict[str, corpus.Sample], kind: str
):
    image = _ready(outcomes, kind)
    for name, variant in image["variants"].items():
        _, decoded = assert_variant_shows(service, variant, samples[kind], f"{kind} {name}")
        assert decoded.get("vips-loader") == "jpegload_buffer"
        assert decoded.interpretation == "srgb", (name, decoded.interpretation)
        assert decoded.bands == 3, (name, decoded.bands)
        assert decoded.format == "uchar", (name, decoded.format)


@pytest.mark.parametrize("kind", KINDS)
def test_variants_carry_no_metadata(service: TestClient, outcomes: dict[str, Outcome], kind: str):
    image = _ready(outcomes, kind)
    for name, variant in image["variants"].items():
        data, decoded = fetch_variant(service, variant)
        assert_no_metadata(data, decoded, f"{kind} {name}")


@pytest.mark.parametrize("kind", KINDS)
def test_original_is_kept_byte_for_byte(
    service: TestClient,
    owner: dict[str, str],
    outcomes: dict[str, Outcome],
    samples: dict[str, corpus.Sample],
    kind: str,
):
    image = _ready(outcomes, kind)
    sample = samples[kind]
    original = image["original"]
    assert original["sha256"] == hashlib.sha256(sample.data).hexdigest()
    assert original["bytes"] == len(sample.data)
    response = service.get(original["url"], headers=owner)
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == original["sha256"]
    assert response.content == sample.data
