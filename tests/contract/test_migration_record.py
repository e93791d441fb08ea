"""The storage migration's record (``SqliteMigrationRecord``): which blobs count as verified,
the listings compared and read back in pages, a record that survives a kill, and one
migration at a time to a target."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shutterbox.adapters.migration_record import (
    SqliteMigrationRecord,
    record_path,
    verified_keys,
)
from shutterbox.domain.errors import Conflict
from shutterbox.ports import BlobInfo
from shutterbox.ports.migration import CopiedBlob, Original

TARGET = "s3://bucket/prefix"
THEN = datetime(2024, 1, 1, tzinfo=UTC)
SHA = "ab" * 32
BLOB = CopiedBlob(size=5, sha256=SHA, modified=THEN.isoformat())


def _unverified(record: SqliteMigrationRecord) -> list[str]:
    return [blob.info.key for blob in record.unverified("", 100)]


def test_a_blob_is_verified_only_while_the_record_the_source_and_the_target_agree(
    tmp_path: Path,
):
    with SqliteMigrationRecord(record_path(tmp_path, TARGET), TARGET) as record:
        for key in ("v/same", "v/target-lacks", "v/other-size", "v/changed", "v/never"):
            if key != "v/never":
                record.add(key, BLOB)
        record.add("o/same-content", BLOB)
        record.add("o/other-content", BLOB)
        record.start_listing()
        later = THEN + timedelta(days=1)
        record.list_source(
            [
                BlobInfo("v/same", 5, THEN),
                BlobInfo("v/target-lacks", 5, THEN),
                BlobInfo("v/other-size", 6, THEN),
                BlobInfo("v/changed", 5, later),
                BlobInfo("v/never", 5, THEN),
                # an original is trusted by its content, whatever its last change
                BlobInfo("o/same-content", 5, later),
                BlobInfo("o/other-content", 5, THEN),
            ]
        )
        in_target = ["v/same", "v/other-size", "v/changed", "v/never", "o/same-content"]
        record.list_target([BlobInfo(k, 6 if k == "v/other-size" else 5, THEN) for k in in_target])
        record.list_target([BlobInfo("o/other-content", 5, THEN), BlobInfo("gone", 1, THEN)])
        record.name_originals(
            [
                ("o/same-content", Original("i1", 5, SHA)),
                ("o/other-content", Original("i2", 5, "cd" * 32)),
            ]
        )
        assert _unverified(record) == [
            "o/other-content",
            "v/changed",
            "v/never",
            "v/other-size",
            "v/target-lacks",
        ]
        assert record.unverified_totals() == (5, 5 + 5 + 5 + 6 + 5)
        assert record.source_count() == 7
        (original,) = [b for b in record.unverified("", 100) if b.original is not None]
        assert original.original == Original("i2", 5, "cd" * 32)
        assert original.info == BlobInfo("o/other-content", 5, THEN)
        assert record.only_in_target("", 100) == ["gone"]
        assert record.unlisted(["v/same", "v/elsewhere", "gone"]) == ["v/elsewhere", "gone"]


def test_listings_are_read_back_in_pages_in_key_order(tmp_path: Path):
    keys = [f"variants/{n:05d}.webp" for n in range(2_500)]
    with SqliteMigrationRecord(record_path(tmp_path, TARGET), TARGET) as record:
        record.start_listing()
        record.list_source(BlobInfo(key, 1, THEN) for key in reversed(keys))
        record.list_target(BlobInfo(f"{key}.old", 1, THEN) for key in keys)
        read, after = [], ""
        while page := record.unverified(after, 1_000):
            assert len(page) <= 1_000
            read.extend(blob.info.key for blob in page)
            after = page[-1].info.key
        assert read == keys
        extra, after = [], ""
        while page_keys := record.only_in_target(after, 700):
            extra.extend(page_keys)
            after = page_keys[-1]
        assert extra == [f"{key}.old" for key in keys]
        assert record.unlisted([*keys, "other"]) == ["other"]


def test_a_new_run_starts_from_empty_listings_and_keeps_the_record(tmp_path: Path):
    path = record_path(tmp_path, TARGET)
    with SqliteMigrationRecord(path, TARGET) as record:
        record.start_listing()
        record.list_source([BlobInfo("a", 5, THEN)])
        record.add("a", BLOB)
    assert not record.listing_path.exists()  # removed with the run
    with SqliteMigrationRecord(path, TARGET) as record:
        record.start_listing()
        assert record.source_count() == 0
        assert record.copied("a") == BLOB
        record.forget("a")
        assert record.copied("a") is None


def test_what_was_added_survives_a_kill(tmp_path: Path):
    path = record_path(tmp_path, TARGET)
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import os, pathlib
                from shutterbox.adapters.migration_record import SqliteMigrationRecord
                from shutterbox.ports.migration import CopiedBlob
                record = SqliteMigrationRecord(pathlib.Path({str(path)!r}), {TARGET!r})
                record.__enter__()
                record.start_listing()
                for n in range(50):
                    record.add(f"originals/{{n}}", CopiedBlob(n, "ab" * 32, "then"))
                os.kill(os.getpid(), 9)
                """
            ),
        ],
        timeout=60,
    )
    assert killed.returncode == -9
    assert verified_keys(path) == 50
    with SqliteMigrationRecord(path, TARGET) as record:
        assert record.copied("originals/49") == CopiedBlob(49, SHA, "then")


def test_one_migration_at_a_time_to_a_target(tmp_path: Path):
    path = record_path(tmp_path, TARGET)
    with SqliteMigrationRecord(path, TARGET), pytest.raises(Conflict):
        SqliteMigrationRecord(path, TARGET).__enter__()
    with SqliteMigrationRecord(path, TARGET) as record:  # free again once the first is done
        assert record.copied("anything") is None
    assert record_path(tmp_path, "s3://other") != path
