"""The sandbox that runs decoders: limits hold, and a dead child is replaced."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shutterbox.adapters import imaging
from shutterbox.adapters.imaging_sandbox import ImagingSandbox, peak_memory
from shutterbox.domain.errors import ImageRejected
from shutterbox.domain.images import VARIANT_SPECS
from tests.imagegen import jpeg_bytes

MAKE_VARIANTS = imaging.make_variants


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.jpg"
    path.write_bytes(jpeg_bytes(1600, 1200, noise=True))
    return path


def test_runs_the_pipeline_in_a_child(photo: Path):
    sandbox = ImagingSandbox(memory_limit_mb=1024, time_limit_seconds=60)
    try:
        result = sandbox.call(MAKE_VARIANTS, photo, VARIANT_SPECS)
        assert [v.name for v in result.variants] == ["full", "medium", "thumb"]
        peaks = sandbox.call(peak_memory)
        assert 0 < peaks["VmHWM"] <= peaks["VmPeak"] <= 1024 * 1024 * 1024
    finally:
        sandbox.close()


def test_time_limit(photo: Path, tmp_path: Path):
    big = tmp_path / "big.jpg"
    big.write_bytes(jpeg_bytes(6000, 4000, noise=True))
    sandbox = ImagingSandbox(memory_limit_mb=1024, time_limit_seconds=0.05)
    try:
        with pytest.raises(ImageRejected, match=r"took longer than the limit of 0\.05 seconds"):
            sandbox.call(MAKE_VARIANTS, big, VARIANT_SPECS)
        sandbox.time_limit_seconds = 60
        assert sandbox.call(MAKE_VARIANTS, photo, VARIANT_SPECS).width == 1600  # a new child
    finally:
        sandbox.close()


def test_memory_limit(tmp_path: Path):
    # A progressive JPEG must be held whole while it decodes: 8000 x 6000 needs ~300 MB.
    from PIL import Image

    path = tmp_path / "progressive.jpg"
    Image.effect_noise((8000, 6000), 60).convert("RGB").save(path, progressive=True, quality=90)
    sandbox = ImagingSandbox(memory_limit_mb=250, time_limit_seconds=120)
    try:
        with pytest.raises(ImageRejected, match="memory"):
            sandbox.call(MAKE_VARIANTS, path, VARIANT_SPECS)
    finally:
        sandbox.close()


def test_a_crashed_child_is_a_rejection_and_is_replaced(photo: Path):
    sandbox = ImagingSandbox(memory_limit_mb=1024, time_limit_seconds=60)
    try:
        with pytest.raises(ImageRejected, match="failed hard"):
            sandbox.call(os._exit, 3)
        assert sandbox.call(MAKE_VARIANTS, photo, VARIANT_SPECS).height == 1200
    finally:
        sandbox.close()


def test_other_errors_are_runtime_errors(tmp_path: Path):
    sandbox = ImagingSandbox(memory_limit_mb=1024, time_limit_seconds=60)
    try:
        with pytest.raises(RuntimeError, match="FileNotFoundError"):
            sandbox.call(os.stat, str(tmp_path / "missing"))
    finally:
        sandbox.close()
