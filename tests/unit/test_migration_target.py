"""The storage migration refuses a target that is, or lies inside, the store itself."""

from __future__ import annotations

import pytest

from shutterbox.domain.errors import InvalidInput
from shutterbox.services.storage.migration import check_target


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("file:///srv/blobs", "file:///srv/blobs/"),
        ("file:///srv/blobs", "file:///srv/blobs/new"),
        ("file:///srv/blobs/old", "file:///srv/blobs"),
        ("s3://bucket", "s3a://bucket/new"),
        ("s3://bucket/a", "s3://bucket/a"),
    ],
)
def test_the_store_itself_or_a_place_inside_it_is_refused(source: str, target: str):
    with pytest.raises(InvalidInput):
        check_target(source, target)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("file:///srv/blobs", "file:///srv/blobs2"),
        ("file:///srv/blobs", "s3://bucket/blobs"),
        ("s3://bucket/a", "s3://bucket/b"),
        ("s3://bucket", "s3://other"),
    ],
)
def test_another_store_is_accepted(source: str, target: str):
    check_target(source, target)
