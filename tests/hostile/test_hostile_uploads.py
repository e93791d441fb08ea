"""Hostile uploads against the running service (API and two background workers).

Every hostile input ends as a 4xx whose JSON ``detail`` says what was wrong, or as ``201``
followed by ``failed`` with a reason a person understands; ``ready`` only where the input
really is a valid picture (absurd EXIF is ignored, a polyglot's extra bytes are dropped).
Never a 5xx, never a crashed or hung worker (after each case a normal upload still becomes
ready), never a blob left behind by a refused upload, and never an uploaded file name on
the filesystem: keys are made of image ids.
"""

from __future__ import annotations

import io
import math
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pillow_heif
import pytest
import pyvips
from fastapi.testclient import TestClient
from PIL import Image

from shutterbox.adapters import imaging
from shutterbox.adapters.imaging_sandbox import SandboxPool
from shutterbox.config import Settings
from shutterbox.domain.errors import ImageRejected
from shutterbox.domain.images import VARIANT_SPECS
from shutterbox.entrypoints.http.app import create_app
from tests.hostile import generators as gen
from tests.imagegen import jpeg_bytes
from tests.pipeline.checks import assert_human_readable
from tests.support.clients import register, upload, wait_for_status
from tests.support.settings import make_settings

HOSTILE_FILES = gen.hostile_files()
MALFORMED = gen.malformed_multipart()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile") / "data"


@pytest.fixture(scope="module")
def settings(data_dir: Path) -> Settings:
    # every case uploads twice (the hostile file, then a normal one): no upload rate limit
    return make_settings(data_dir, upload_rate="")


@pytest.fixture(scope="module")
def service(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def owner(service: TestClient) -> dict[str, str]:
    return register(service, "mallory")


def stored_files(data_dir: Path) -> set[str]:
    """Every file under the data directory's blob store and staging areas (the database
    and its journal aside)."""
    return {
        str(path.relative_to(data_dir))
        for path in data_dir.rglob("*")
        if path.is_file() and not path.name.startswith("shutterbox.db") and path.parent != data_dir
    }


def still_works(client: TestClient, auth: dict[str, str]) -> None:
    """A normal upload becomes ready: no worker crashed or hangs on what came before."""
    response = upload(client, auth, jpeg_bytes(96, 64))
    assert response.status_code == 201, response.text
    final = wait_for_status(client, response.json()["id"], auth, timeout=60)
    assert final["status"] == "ready", final


def assert_refusal(response: Any, words: str) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    body = response.json()
    assert_human_readable(body.get("detail"), "refusal")
    assert words in body["detail"], body["detail"]
    assert "id" not in body


def reference_decodes(data: bytes) -> bool:
    """Whether a careful decoder (Pillow; HEIF through pillow-heif) reads every pixel."""
    pillow_heif.register_heif_opener()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.load()
        except Exception:
            return False
    return True


@pytest.mark.parametrize("case", list(HOSTILE_FILES))
def test_hostile_file(
    service: TestClient, owner: dict[str, str], data_dir: Path, case: str
) -> None:
    hostile = HOSTILE_FILES[case]()
    before = stored_files(data_dir)
    response = upload(service, owner, hostile.data, name=hostile.filename)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert "refused" in hostile.allowed, f"{case} refused: {response.text}"
        assert_refusal(response, hostile.words)
        # damaged files of an accepted format are not called "unsupported"
        if case.startswith(("cut-", "flipped-", "bomb-")):
            assert "supported format" not in response.json()["detail"]
        assert stored_files(data_dir) == before, "a refused upload left a file behind"
    else:
        assert response.status_code == 201, response.text
        image = wait_for_status(service, response.json()["id"], owner, timeout=60)
        outcome = image["status"]
        assert outcome in hostile.allowed, f"{case}: {outcome} {image.get('failure_reason')}"
        if outcome == "failed":
            assert_human_readable(image["failure_reason"], f"{case} failure_reason")
            assert image["variants"] == {}
        elif case.startswith(("cut-", "flipped-")):
            # ready from a damaged file only where a careful decoder reads it all too
            assert reference_decodes(hostile.data), f"{case} became ready"
        if outcome == "ready":
            assert_variants_are_clean(service, owner, image)
    still_works(service, owner)


def assert_variants_are_clean(
    client: TestClient, auth: dict[str, str], image: dict[str, Any]
) -> None:
    """Variants are re-encoded pictures: nothing of a polyglot's script survives, and the
    original is served as what it was sniffed as, never to be sniffed as a page."""
    for variant in image["variants"].values():
        for url in variant["formats"].values():
            response = client.get(url)
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("image/")
            assert b"<script" not in response.content.lower()
            assert b"<html" not in response.content.lower()
    original = client.get(image["original"]["url"], headers=auth)
    assert original.status_code == 200
    assert original.headers["content-type"] == image["original"]["content_type"]
    assert original.headers["content-type"].startswith("image/")
    assert original.headers["x-content-type-options"] == "nosniff"


def test_polyglot_variants_carry_no_script(service: TestClient, owner: dict[str, str]) -> None:
    for data in (gen.gif_html_polyglot(), gen.jpeg_html_polyglot()):
        assert b"<script>" in data
        response = upload(service, owner, data, name="page.html")
        assert response.status_code in (200, 201), response.text
        image = wait_for_status(service, response.json()["id"], owner)
        assert image["status"] == "ready"
        assert_variants_are_clean(service, owner, image)


def test_absurd_exif_is_ignored(service: TestClient, owner: dict[str, str]) -> None:
    """An orientation of 99 is no orientation; a GPS position of 0/0 degrees is none, even
    when the uploader asks for the photo's own position to be used."""
    response = upload(service, owner, gen.exif_orientation(99), name="o.jpg")
    image = wait_for_status(service, response.json()["id"], owner)
    assert (image["width"], image["height"]) == (64, 48)
    response = upload(service, owner, gen.exif_gps_nan(), name="g.jpg", share_location="true")
    assert response.status_code in (200, 201), response.text
    body = response.json()
    assert body.get("lat") is None and body.get("lon") is None, body


@pytest.mark.parametrize("case", list(gen.HOSTILE_FILENAMES))
def test_hostile_filename(
    service: TestClient, owner: dict[str, str], data_dir: Path, case: str
) -> None:
    filename = gen.HOSTILE_FILENAMES[case]
    body = gen.multipart([gen.Part("file", jpeg_bytes(80, 60), filename)])
    before = stored_files(data_dir)
    response = service.post(
        "/api/v1/images",
        headers={**owner, "content-type": gen.content_type()},
        content=body,
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert_refusal(response, "")
        assert stored_files(data_dir) == before
    else:
        assert response.status_code == 201, response.text
        image = wait_for_status(service, response.json()["id"], owner)
        assert image["status"] == "ready", image
        assert gen.MARKER not in response.text


def test_file_names_never_reach_the_filesystem(data_dir: Path, service: TestClient) -> None:
    """Runs after the uploads above: every stored key is made of ids and dates."""
    names = [str(path.relative_to(data_dir)) for path in data_dir.rglob("*")]
    assert names, "nothing was stored"
    assert not [n for n in names if gen.MARKER in n or "passwd" in n]
    assert not [n for n in names if any(c in n for c in "\x00\u202e\\") or ".." in n]
    blobs = data_dir / "blobs"
    outside = [p for p in blobs.rglob("*") if not p.resolve().is_relative_to(blobs.resolve())]
    assert outside == []


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_multipart(
    service: TestClient, owner: dict[str, str], data_dir: Path, case: str
) -> None:
    request = MALFORMED[case]
    before = stored_files(data_dir)
    response = service.post(
        "/api/v1/images",
        headers={**owner, "content-type": request.content_type},
        content=request.body,
    )
    assert_refusal(response, request.words)
    assert stored_files(data_dir) == before, "a refused upload left a file behind"


@pytest.mark.parametrize("case", list(gen.HOSTILE_FIELDS))
def test_hostile_fields(
    service: TestClient, owner: dict[str, str], data_dir: Path, case: str
) -> None:
    fields, words = gen.HOSTILE_FIELDS[case]
    before = stored_files(data_dir)
    response = upload(service, owner, jpeg_bytes(80, 60), **fields)
    assert response.status_code == 422, response.text
    assert_refusal(response, words)
    assert stored_files(data_dir) == before, "a refused upload left a file behind"


def test_the_service_still_works_after_all_of_it(
    service: TestClient, owner: dict[str, str]
) -> None:
    still_works(service, owner)
    assert service.get("/readyz").status_code == 200


# --- the sandbox, directly -------------------------------------------------------------


async def test_a_memory_bomb_fails_within_the_sandbox_limits(tmp_path: Path) -> None:
    """The bound on memory per job is the decoding child's address-space limit
    (``job_memory_limit_mb``, RLIMIT_AS): no allocation in the child can pass it, so a job
    can never take more than that however the file lies. This progressive JPEG claims
    20000 x 20000 pixels in 554 bytes; a progressive decoder must hold every coefficient of
    the frame (about 2.4 GB), so it can only be stopped by the limit. With the header check
    out of the way (no ``max_pixels``), it must fail with a reason, within the time limit,
    and the next picture must still be processed."""
    settings = make_settings(tmp_path / "data")
    pool = SandboxPool(settings.job_memory_limit_mb, settings.job_time_limit_seconds)
    bomb = tmp_path / "bomb.jpg"
    bomb.write_bytes(gen.jpeg_progressive_bomb(20_000, 20_000))
    fine = tmp_path / "fine.jpg"
    fine.write_bytes(jpeg_bytes(320, 240))
    try:
        started = time.monotonic()
        with pytest.raises(ImageRejected) as rejected:
            await pool.call(imaging.make_variants, bomb, VARIANT_SPECS)
        elapsed = time.monotonic() - started
        assert elapsed < settings.job_time_limit_seconds
        assert "memory" in rejected.value.reason
        assert_human_readable(rejected.value.reason, "memory bomb")
        result = await pool.call(imaging.make_variants, fine, VARIANT_SPECS)
        assert (result.width, result.height) == (320, 240)
    finally:
        pool.close()


@pytest.mark.parametrize(
    ("frames", "screen", "limits", "words"),
    [
        (10_000, (8, 8), (1000, 50_000_000), "10000 frames, more than the limit of 1000"),
        (60, (1000, 1000), (1000, 50_000_000), "limit of 50 megapixels for an animation"),
    ],
)
async def test_the_worker_holds_animations_to_the_limits_too(
    tmp_path: Path,
    frames: int,
    screen: tuple[int, int],
    limits: tuple[int, int],
    words: str,
) -> None:
    """An animation beyond the limits that reached a worker anyway (the limits were lowered
    after it was uploaded, or it is reprocessed) fails there with the reason, before any
    frame is decoded; the child carries on with the next picture."""
    settings = make_settings(tmp_path / "data")
    pool = SandboxPool(settings.job_memory_limit_mb, settings.job_time_limit_seconds)
    path = tmp_path / "frames.gif"
    path.write_bytes(gen.gif_frames(frames, screen, (1, 1)))
    fine = tmp_path / "fine.gif"
    fine.write_bytes(gen.gif_frames(12, (64, 48), (64, 48)))
    limit = imaging.AnimationLimits(max_frames=limits[0], max_pixels=limits[1])
    try:
        with pytest.raises(ImageRejected) as rejected:
            await pool.call(imaging.make_variants, path, VARIANT_SPECS, animation=limit)
        assert words in rejected.value.reason
        assert_human_readable(rejected.value.reason, "animation limits")
        kept = await pool.call(
            imaging.make_variants, fine, VARIANT_SPECS, formats=("jpeg", "webp"), animation=limit
        )
        assert kept.frames == 12
        animated = next(v for v in kept.variants if v.format == "webp")
        assert pyvips.Image.new_from_buffer(animated.data, "", n=-1).get("n-pages") == 12
    finally:
        pool.close()


def test_an_animation_within_the_limits_is_kept_animated(
    service: TestClient, owner: dict[str, str]
) -> None:
    response = upload(service, owner, gen.gif_frames(480, (16, 16)), name="frames.gif")
    assert response.status_code == 201, response.text
    image = wait_for_status(service, response.json()["id"], owner, timeout=60)
    assert image["status"] == "ready" and image["animated"] is True
    webp = service.get(image["variants"]["thumb"]["formats"]["webp"]).content
    assert pyvips.Image.new_from_buffer(webp, "", n=-1).get("n-pages") == 480


async def test_a_slow_picture_is_stopped_at_the_time_limit(tmp_path: Path) -> None:
    """A decode that takes longer than the time limit costs its child, not the worker."""
    pool = SandboxPool(1024, 0.5)
    try:
        started = time.monotonic()
        with pytest.raises(ImageRejected) as rejected:
            await pool.call(time.sleep, 30)
        assert time.monotonic() - started < 5
        assert "longer than the limit" in rejected.value.reason
        assert await pool.call(math.hypot, 3, 4) == 5
    finally:
        pool.close()


@pytest.mark.parametrize("kind", ["svg-with-script", "vips-native-file"])
async def test_untrusted_loaders_are_blocked(tmp_path: Path, kind: str) -> None:
    """libvips marks some loaders untrusted (SVG through librsvg, its own .v format,
    ImageMagick ...); the decoding child refuses them even when handed such a file
    directly, so a file that slipped past sniffing would still not reach them."""
    path = tmp_path / "input"
    if kind == "svg-with-script":
        path.write_bytes(gen.SVG_WITH_SCRIPT)
    else:
        path = tmp_path / "input.v"
        pyvips.Image.black(8, 8).write_to_file(str(path))
    pool = SandboxPool(1024, 30)
    try:
        with pytest.raises(ImageRejected) as rejected:
            await pool.call(imaging.read_header, path)
        assert_human_readable(rejected.value.reason, kind)
    finally:
        pool.close()


def test_svg_is_refused_at_the_door(service: TestClient, owner: dict[str, str]) -> None:
    response = upload(service, owner, gen.SVG_WITH_SCRIPT, name="x.svg")
    assert response.status_code == 415
    assert "not a picture in a supported format" in response.json()["detail"]
