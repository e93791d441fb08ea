"""Which variants a picture gets, by its size and kind, and how the JSON names them."""

from __future__ import annotations

import pytest

from shutterbox.domain.images import (
    VARIANT_SPECS,
    Variant,
    animation_problem,
    formats_for,
    variant_specs_for,
)
from tests.support.images import make_image


@pytest.mark.parametrize(
    ("longest", "made"),
    [
        (4000, ["full", "medium", "thumb"]),
        (2048, ["full", "medium", "thumb"]),
        (1081, ["full", "medium", "thumb"]),
        (1080, ["medium", "thumb"]),  # a full would be the medium's pixels again
        (500, ["medium", "thumb"]),
        (321, ["medium", "thumb"]),
        (320, ["thumb"]),
        (16, ["thumb"]),
    ],
)
def test_a_size_is_made_only_when_it_differs_from_the_next_smaller(longest: int, made: list[str]):
    assert [spec.name for spec in variant_specs_for(longest, VARIANT_SPECS)] == made


def _variant(name: str, width: int, fmt: str = "jpeg") -> Variant:
    return Variant(name, f"k-{name}.{fmt}", f"image/{fmt}", width, width, 1, name * 8, fmt)


def test_every_size_name_is_served_by_the_largest_variant_not_above_it():
    image = make_image(
        variants={"thumb": _variant("thumb", 320), "medium": _variant("medium", 500)}
    )
    sized = image.sized_variants()
    assert list(sized) == ["thumb", "medium", "full"]
    assert sized["full"] is image.variants["medium"]
    tiny = make_image(variants={"thumb": _variant("thumb", 40)})
    assert {name: v.name for name, v in tiny.sized_variants().items()} == {
        "thumb": "thumb",
        "medium": "thumb",
        "full": "thumb",
    }
    assert make_image().sized_variants() == {}  # processing: nothing to serve yet


def test_images_made_before_keep_every_variant_they_have():
    every = {n: _variant(n, w) for n, w in (("thumb", 320), ("medium", 500), ("full", 500))}
    image = make_image(variants=every)
    assert {name: v.name for name, v in image.sized_variants().items()} == {
        "thumb": "thumb",
        "medium": "medium",
        "full": "full",
    }


def test_an_animation_gets_no_avif():
    assert formats_for(("jpeg", "webp", "avif"), frames=1) == ("jpeg", "webp", "avif")
    assert formats_for(("jpeg", "webp", "avif"), frames=12) == ("jpeg", "webp")
    assert make_image(frames=12).animated and not make_image().animated


def test_animation_limits_say_which_one_is_passed():
    assert animation_problem(400, 300, 100, max_frames=1000, max_pixels=50_000_000) is None
    frames = animation_problem(16, 16, 10_000, max_frames=1000, max_pixels=50_000_000)
    assert frames is not None and "10000 frames, more than the limit of 1000 frames" in frames
    pixels = animation_problem(1000, 1000, 60, max_frames=1000, max_pixels=50_000_000)
    assert pixels is not None
    assert "1000 x 1000 pixels x 60 frames (60 megapixels)" in pixels
    assert "larger than the limit of 50 megapixels for an animation" in pixels
