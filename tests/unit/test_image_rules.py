from __future__ import annotations

from datetime import datetime

import pytest

from shutterbox.domain.images import (
    Visibility,
    fit_within,
    new_image_id,
    normalise_tags,
    original_key,
    variant_key,
)
from tests.support.images import make_image


def test_fit_within_scales_down_keeping_aspect():
    assert fit_within(4000, 3000, 2048) == (2048, 1536)
    assert fit_within(3000, 4000, 320) == (240, 320)
    assert fit_within(100, 80, 320) == (100, 80)  # never up
    assert fit_within(10000, 10, 320) == (320, 1)


def test_keys_are_laid_out_by_date_with_separate_prefixes():
    at = datetime(2024, 1, 15, 10, 30)
    assert original_key("abc", at, "jpg") == "originals/2024/01/15/abc.jpg"
    assert variant_key("abc", at, "thumb") == "variants/2024/01/15/abc-thumb.jpg"


def test_image_ids_are_unique_and_url_safe():
    ids = {new_image_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 16 and i.isalnum() and i.islower() for i in ids)


def test_tags_are_normalised():
    assert normalise_tags("Sea, #sun  sea,,", 10) == ["sea", "sun"]
    assert normalise_tags(None, 10) == []
    with pytest.raises(ValueError, match="at most 2 tags"):
        normalise_tags("a b c", 2)
    with pytest.raises(ValueError, match="letters, digits"):
        normalise_tags("<b>", 10)


def test_visibility_rules():
    assert make_image().visible_to(None)
    assert make_image().visible_to(2)
    private = make_image(visibility=Visibility.PRIVATE)
    assert not private.visible_to(None)
    assert not private.visible_to(2)
    assert private.visible_to(1)
    assert not make_image(deleted_at=datetime(2024, 1, 2)).visible_to(1)
