"""The storage migration's record of verified keys and its refusal of a target that is, or
lies inside, the store itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from shutterbox.domain.errors import Conflict, InvalidInput
from shutterbox.services.storage.migration import check_target
from shutterbox.services.storage.migration_record import (
    CopiedBlob,
    MigrationRecord,
    record_path,
)

TARGET = "s3://bucket/prefix"
BLOB = CopiedBlob(size=5, sha256="ab" * 32, modified="2024-01-01T00:00:00+00:00")


def test_a_verified_key_is_trusted_only_while_the_target_and_the_source_agree(tmp_path: Path):
    with MigrationRecord(record_path(tmp_path, TARGET), TARGET) as record:
        record.add("variants/a.jpg", BLOB)
        assert record.is_verified("variants/a.jpg", 5, 5, modified=BLOB.modified)
        assert not record.is_verified("variants/a.jpg", 5, None, modified=BLOB.modified)
        assert not record.is_verified("variants/a.jpg", 6, 6, modified=BLOB.modified)
        assert not record.is_verified("variants/a.jpg", 5, 5, modified="later")
        # an original is trusted by its content, whatever its last change
        assert record.is_verified("variants/a.jpg", 5, 5, modified="later", sha256=BLOB.sha256)
        assert not record.is_verified("variants/a.jpg", 5, 5, modified="", sha256="cd" * 32)


def test_a_line_cut_short_by_a_kill_is_ignored_and_the_next_run_appends_whole_lines(
    tmp_path: Path,
):
    path = record_path(tmp_path, TARGET)
    with MigrationRecord(path, TARGET) as record:
        record.add("originals/a.jpg", BLOB)
        record.add("originals/b.jpg", BLOB)
        record.forget("originals/b.jpg")
    with path.open("a") as killed:
        killed.write('{"key": "originals/c.jpg", "si')
    with MigrationRecord(path, TARGET) as record:
        assert set(record.copied) == {"originals/a.jpg"}
        record.add("originals/d.jpg", BLOB)
    with MigrationRecord(path, TARGET) as record:
        assert set(record.copied) == {"originals/a.jpg", "originals/d.jpg"}


def test_one_migration_at_a_time_to_a_target(tmp_path: Path):
    path = record_path(tmp_path, TARGET)
    with MigrationRecord(path, TARGET), pytest.raises(Conflict):
        MigrationRecord(path, TARGET).__enter__()
    with MigrationRecord(path, TARGET) as record:  # free again once the first is done
        assert record.copied == {}


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
