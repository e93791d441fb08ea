from __future__ import annotations

import base64
from datetime import datetime

import pytest

from shutterbox.domain.errors import InvalidInput
from shutterbox.services.images.cursors import decode_cursor, encode_cursor
from tests.support.images import make_image


def test_cursor_round_trip():
    image = make_image(id="abc123", created_at=datetime(2024, 1, 15, 10, 30, 0, 123456))
    assert decode_cursor(encode_cursor(image)) == (image.created_at, "abc123")


OUT_OF_RANGE = base64.urlsafe_b64encode(b"0001-01-01T00:00:00+02:00|abc").decode()


@pytest.mark.parametrize("junk", ["!!!", "aGVsbG8", "bm9waXBl", OUT_OF_RANGE])
def test_junk_cursors_are_refused(junk: str):
    with pytest.raises(InvalidInput):
        decode_cursor(junk)


def test_a_cursor_made_by_hand_with_a_zone_reads_as_utc():
    raw = base64.urlsafe_b64encode(b"2024-01-15T12:30:00+02:00|abc").decode().rstrip("=")
    assert decode_cursor(raw) == (datetime(2024, 1, 15, 10, 30), "abc")
