"""The one staging pipeline every way of uploading goes through."""

from __future__ import annotations

import hashlib
from pathlib import Path

import anyio
import pytest

from shutterbox.domain.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from shutterbox.domain.formats import JPEG
from shutterbox.services.images.staging import (
    FLUSH_BYTES,
    StagedFile,
    Stager,
    stage_local_file,
)
from tests.imagegen import jpeg_bytes


def _leftovers(staging: Path) -> list[Path]:
    return sorted(staging.iterdir())


def test_a_picture_is_hashed_measured_and_sniffed_as_it_arrives(tmp_path: Path) -> None:
    data = jpeg_bytes(64, 48)
    with Stager(tmp_path, max_bytes=len(data)) as stager:
        for start in range(0, len(data), 1000):
            stager.write(data[start : start + 1000])
        staged = stager.finish_picture()
    assert staged.size == len(data)
    assert staged.sha256 == hashlib.sha256(data).hexdigest()
    assert staged.format == JPEG
    assert staged.path.read_bytes() == data
    assert _leftovers(tmp_path) == [staged.path]


def test_bytes_taken_on_the_loop_are_written_by_a_thread_in_order(tmp_path: Path) -> None:
    """``take`` keeps bytes in memory until a block is full; ``drain`` hashes and writes it in
    a worker thread. Several blocks, in chunks that do not divide them, arrive whole."""
    head = jpeg_bytes(64, 48)
    data = head + bytes(range(256)) * (3 * FLUSH_BYTES // 256 + 7)

    async def stage() -> StagedFile:
        with Stager(tmp_path, max_bytes=len(data)) as stager:
            drains = 0
            for start in range(0, len(data), 65_537):
                stager.take(memoryview(data)[start : start + 65_537])
                if stager.wants_drain:
                    await stager.drain()
                    drains += 1
            await stager.drain()
            assert drains == 3
            return stager.finish_picture()

    staged = anyio.run(stage)
    assert staged.size == len(data)
    assert staged.sha256 == hashlib.sha256(data).hexdigest()
    assert staged.path.read_bytes() == data
    assert staged.format == JPEG


def test_bytes_past_the_limit_are_refused_and_nothing_is_left(tmp_path: Path) -> None:
    too_large = pytest.raises(PayloadTooLarge, match="larger than the limit of 1 MB")
    with too_large, Stager(tmp_path, max_bytes=1024 * 1024) as stager:
        stager.write(b"\xff" * (1024 * 1024))
        stager.write(b"\xff")
    assert _leftovers(tmp_path) == []


def test_an_empty_or_unknown_file_is_refused_and_removed(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="empty"), Stager(tmp_path, 100) as stager:
        stager.finish_picture()
    with pytest.raises(UnsupportedMediaType, match="accepted"), Stager(tmp_path, 100) as stager:
        stager.write(b"PK\x03\x04 not a picture")
        stager.finish_picture()
    assert _leftovers(tmp_path) == []


def test_a_stager_left_without_finishing_removes_its_file(tmp_path: Path) -> None:
    with Stager(tmp_path, 100) as stager:
        stager.write(b"partial")
    assert _leftovers(tmp_path) == []


def test_finish_bytes_keeps_the_bytes_without_judging_them(tmp_path: Path) -> None:
    with Stager(tmp_path, 100, too_large="more bytes than the 100 announced") as stager:
        stager.write(b"not a picture, checked later")
        path = stager.finish_bytes()
    assert path.read_bytes() == b"not a picture, checked later"
    with pytest.raises(PayloadTooLarge, match="100 announced"), Stager(tmp_path, 100) as s:
        s.too_large = "more bytes than the 100 announced"
        s.write(b"x" * 101)


def test_a_local_file_gets_the_same_checks(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg_bytes(32, 32))
    staged = stage_local_file(staging, 1024 * 1024, photo)
    assert staged.path.parent == staging
    assert staged.sha256 == hashlib.sha256(photo.read_bytes()).hexdigest()
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff" * (1024 * 1024 + 1))
    with pytest.raises(PayloadTooLarge):
        stage_local_file(staging, 1024 * 1024, big)
    assert _leftovers(staging) == [staged.path]
