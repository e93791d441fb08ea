from __future__ import annotations

from datetime import datetime

from shutterbox.entrypoints.api.conditional import http_date, not_modified, parse_single_range

MODIFIED = datetime(2024, 1, 15, 10, 30, 0, 500)
ETAG = '"abc"'


def test_if_none_match():
    assert not_modified({"if-none-match": '"abc"'}, ETAG, MODIFIED)
    assert not_modified({"if-none-match": 'W/"abc"'}, ETAG, MODIFIED)
    assert not_modified({"if-none-match": '"x", "abc"'}, ETAG, MODIFIED)
    assert not_modified({"if-none-match": "*"}, ETAG, MODIFIED)
    assert not not_modified({"if-none-match": '"x"'}, ETAG, MODIFIED)


def test_if_none_match_wins_over_if_modified_since():
    headers = {"if-none-match": '"x"', "if-modified-since": http_date(MODIFIED)}
    assert not not_modified(headers, ETAG, MODIFIED)


def test_if_modified_since():
    assert not_modified({"if-modified-since": http_date(MODIFIED)}, ETAG, MODIFIED)
    assert not not_modified({"if-modified-since": "Mon, 15 Jan 2024 10:29:59 GMT"}, ETAG, MODIFIED)
    assert not not_modified({"if-modified-since": "yesterday"}, ETAG, MODIFIED)
    assert not not_modified({}, ETAG, MODIFIED)


def test_single_ranges():
    assert parse_single_range("bytes=0-9", 100) == (0, 10)
    assert parse_single_range("bytes=90-", 100) == (90, 100)
    assert parse_single_range("bytes=-10", 100) == (90, 100)
    assert parse_single_range("bytes=50-1000", 100) == (50, 100)
    assert parse_single_range("bytes=100-", 100) == "unsatisfiable"
    assert parse_single_range("bytes=-0", 100) == "unsatisfiable"
    assert parse_single_range("bytes=5-2", 100) == "unsatisfiable"
    assert parse_single_range(None, 100) is None
    assert parse_single_range("items=0-1", 100) is None
    assert parse_single_range("bytes=0-1,5-6", 100) is None
    assert parse_single_range("bytes=a-b", 100) is None
