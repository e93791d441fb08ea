"""The sandbox that runs decoders: limits hold, and a dead child is replaced; the pool and its
in-process fake keep the same contract."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shutterbox.adapters import imaging
from shutterbox.adapters.imaging_sandbox import ImagingSandbox, SandboxPool, peak_memory
from shutterbox.domain.errors import ImageRejected
from shutterbox.domain.images import VARIANT_SPECS
from tests.imagegen import jpeg_bytes
from tests.support.fakes.imaging import InProcessImaging

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


# The pool's contract, run against the sandbox pool and against the in-process fake that unit
# tests use instead (tests/support/fakes/imaging.py) ---------------------------------------


Runner = SandboxPool | InProcessImaging


@pytest.fixture(params=["sandbox_pool", "in_process"])
def make_runner(request: pytest.FixtureRequest) -> Iterator[Callable[..., Runner]]:
    """Runners of one kind (``make_runner(time_limit_seconds=...)``), closed afterwards."""
    kind = SandboxPool if request.param == "sandbox_pool" else InProcessImaging
    made: list[Runner] = []

    def make(time_limit_seconds: float = 60) -> Runner:
        made.append(kind(memory_limit_mb=1024, time_limit_seconds=time_limit_seconds))
        return made[-1]

    yield make
    for runner in made:
        runner.close()


@pytest.fixture
def imaging_runner(make_runner: Callable[..., Runner]) -> Runner:
    return make_runner()


async def test_runner_makes_the_variants(imaging_runner, photo: Path):
    result = await imaging_runner.call(MAKE_VARIANTS, photo, VARIANT_SPECS)
    assert [v.name for v in result.variants] == ["full", "medium", "thumb"]
    assert (result.width, result.height) == (1600, 1200)


async def test_runner_passes_a_refused_picture_on_as_image_rejected(imaging_runner, tmp_path: Path):
    not_a_picture = tmp_path / "notes.jpg"
    not_a_picture.write_bytes(b"these are not the pixels you are looking for" * 20)
    with pytest.raises(ImageRejected):
        await imaging_runner.call(MAKE_VARIANTS, not_a_picture, VARIANT_SPECS)


async def test_runner_refuses_what_runs_out_of_memory(imaging_runner):
    with pytest.raises(ImageRejected, match="needs more memory"):
        await imaging_runner.call(bytearray, 2**62)


async def test_runner_raises_other_errors_as_runtime_errors(imaging_runner, tmp_path: Path):
    with pytest.raises(RuntimeError, match="FileNotFoundError"):
        await imaging_runner.call(os.stat, str(tmp_path / "missing"))


async def test_runner_refuses_a_call_over_the_time_limit(make_runner, photo: Path):
    hurried = make_runner(time_limit_seconds=0.05)
    with pytest.raises(ImageRejected, match=r"took longer than the limit of 0\.05 seconds"):
        await hurried.call(time.sleep, 0.5)
    assert (await make_runner().call(MAKE_VARIANTS, photo, VARIANT_SPECS)).width == 1600
