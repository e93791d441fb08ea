from __future__ import annotations

from datetime import datetime

import pytest

from shutterbox.domain.errors import InvalidInput
from shutterbox.services.images.feed import decode_cursor, encode_cursor
from tests.support.images import make_image


def test_cursor_round_trip():
    image = make_image(id="abc123", created_at=datetime(2024, 1, 15, 10, 30, 0, 123456))
    assert decode_cursor(encode_cursor(image)) == (image.created_at, "abc123")


@pytest.mark.parametrize("junk", ["!!!", "aGVsbG8", "bm9waXBl"])
def test_junk_cursors_are_refused(junk: str):
    with pytest.raises(InvalidInput):
        decode_cursor(junk)
