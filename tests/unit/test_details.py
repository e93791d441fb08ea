"""One set of rules for what people say about a picture, whichever way it arrives."""

from __future__ import annotations

import pytest

from shutterbox.domain.details import (
    DetailLimits,
    details_from,
    details_from_form,
    unkept_details,
)
from shutterbox.domain.errors import InvalidInput
from shutterbox.domain.images import Visibility
from tests.support.images import make_image

LIMITS = DetailLimits(max_caption_chars=20, max_tags=3)


def test_form_fields_become_trimmed_checked_details() -> None:
    details = details_from_form(
        {
            "caption": "  Sunset ",
            "tags": "#Sea, sun sea",
            "location": " Lisbon ",
            "lat": "38.7",
            "lon": "-9.1",
            "visibility": "Private",
            "share_location": "on",
        },
        LIMITS,
    )
    assert details.caption == "Sunset"
    assert details.tags == ["sea", "sun"]
    assert details.location_name == "Lisbon"
    assert (details.lat, details.lon) == (38.7, -9.1)
    assert details.visibility == Visibility.PRIVATE
    assert details.share_location is True


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"caption": "x" * 21}, "caption is longer than 20"),
        ({"tags": "a b c d"}, "at most 3 tags"),
        ({"tags": "<b>"}, "must be 1-50 letters"),
        ({"lat": "north"}, "lat must be a number"),
        ({"lat": "1"}, "both lat and lon"),
        ({"lat": "91", "lon": "0"}, "lat must be between"),
        ({"lat": "0", "lon": "nan"}, "lon must be between"),
        ({"visibility": "friends"}, "visibility must be"),
        ({"location": "x" * 201}, "location name is longer than 200"),
    ],
)
def test_bad_details_are_refused_with_a_message(fields: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        details_from_form(fields, LIMITS)
    values = {k: v for k, v in fields.items() if k in {"caption", "tags", "location"}}
    if values:  # the same text through the JSON path gets the same answer
        with pytest.raises(InvalidInput, match=message):
            details_from(LIMITS, **values)


def test_a_duplicate_upload_loses_only_details_it_asks_for_and_the_image_lacks() -> None:
    image = make_image(caption="Sunset", tags=["sea", "sun"], visibility=Visibility.PRIVATE)
    nothing = details_from_form({"file": "x"}, LIMITS)
    assert unkept_details(nothing, image) == []  # no visibility given: none asked for
    same = details_from_form({"caption": " Sunset", "tags": "#sun", "lat": ""}, LIMITS)
    assert unkept_details(same, image) == []  # tags it already has are kept
    new = details_from_form(
        {"caption": "Dusk", "tags": "sea evening", "alt_text": "waves", "location": "Porto"},
        LIMITS,
    )
    assert unkept_details(new, image) == ["caption", "tags", "alt text", "place"]
    public = details_from(LIMITS, visibility=Visibility.PUBLIC)
    assert unkept_details(public, image) == ["visibility"]
    assert unkept_details(details_from(LIMITS), image) == []
    placed = details_from(LIMITS, lat=1.0, lon=2.0)
    assert unkept_details(placed, image) == ["place"]
    assert unkept_details(placed, make_image(lat=1.0, lon=2.0)) == []
