from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import pyvips
from fastapi.testclient import TestClient
from pydantic import ValidationError

from shutterbox.entrypoints.http.app import create_app
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status
from tests.support.settings import make_settings


@pytest.fixture
def ready_image(client: TestClient) -> tuple[dict, dict]:
    auth = register(client, "alice")
    data = jpeg_bytes(
        1600,
        1200,
        orientation=6,
        gps=True,
        camera=("Canon", "EOS R5"),
        taken_at="2024:01:15 10:30:00",
    )
    image = wait_for_status(client, upload(client, auth, data).json()["id"], auth)
    assert image["status"] == "ready", image
    return image, auth


def test_variant_is_served_with_cache_headers(client: TestClient, ready_image):
    image, _ = ready_image
    response = client.get(image["variants"]["medium"]["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["etag"] == f'"{hashlib.sha256(response.content).hexdigest()}"'
    assert response.headers["last-modified"].endswith("GMT")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert int(response.headers["content-length"]) == image["variants"]["medium"]["bytes"]


def test_revalidation_answers_304(client: TestClient, ready_image):
    image, _ = ready_image
    url = image["variants"]["thumb"]["url"]
    first = client.get(url)
    by_etag = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert by_etag.status_code == 304
    assert by_etag.content == b""
    assert by_etag.headers["etag"] == first.headers["etag"]
    by_date = client.get(url, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert by_date.status_code == 304
    other = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_range_requests(client: TestClient, ready_image):
    image, _ = ready_image
    url = image["variants"]["full"]["url"]
    whole = client.get(url).content
    part = client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == whole[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole)}"
    tail = client.get(url, headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == whole[-50:]
    beyond = client.get(url, headers={"Range": f"bytes={len(whole) + 10}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(whole)}"


def test_head_has_headers_and_no_body(client: TestClient, ready_image):
    image, _ = ready_image
    response = client.head(image["variants"]["thumb"]["url"])
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) == image["variants"]["thumb"]["bytes"]


def test_variants_are_upright_and_carry_no_metadata(client: TestClient, ready_image):
    image, _ = ready_image
    # orientation 6: the 1600x1200 landscape is shown as a 1200x1600 portrait
    assert (image["width"], image["height"]) == (1200, 1600)
    assert (image["camera"]["make"], image["camera"]["model"]) == ("Canon", "EOS R5")
    assert image["taken_at"] == "2024-01-15T10:30:00"
    for variant in image["variants"].values():
        data = client.get(variant["url"]).content
        decoded = pyvips.Image.new_from_buffer(data, "")
        assert (decoded.width, decoded.height) == (variant["width"], variant["height"])
        assert decoded.height > decoded.width
        fields = decoded.get_fields()
        assert not [f for f in fields if f.startswith(("exif", "xmp", "iptc", "icc"))], fields
        assert b"Exif" not in data[:4096]
        # the red half was on the left before rotating by 90 degrees clockwise: now on top
        top = decoded.crop(0, 0, decoded.width, decoded.height // 4).avg()
        assert decoded.crop(0, 0, decoded.width, decoded.height // 4)[0].avg() > 150, top


def test_stale_or_unknown_media_urls_are_404(client: TestClient, ready_image):
    image, _ = ready_image
    url = image["variants"]["thumb"]["url"]
    assert client.get(url.replace("thumb-", "tiny-")).status_code == 404
    assert client.get(url[:-20] + "0" * 16 + ".jpg").status_code == 404
    assert client.get("/media/nope/thumb-0123456789abcdef.jpg").status_code == 404


def test_original_only_for_its_owner(client: TestClient, ready_image):
    image, auth = ready_image
    url = image["original"]["url"]
    unsigned = url.split("?")[0]
    assert "signature=" in url  # the owner's link to the original is signed and expires
    assert client.get(unsigned).status_code == 404
    bob = register(client, "bob")
    assert client.get(unsigned, headers=bob).status_code == 404
    assert client.get(unsigned, headers=auth).status_code == 200
    assert client.get(f"/api/v1/images/{image['id']}", headers=bob).json()["original"] is None
    mine = client.get(url, headers=auth)
    assert mine.status_code == 200
    assert hashlib.sha256(mine.content).hexdigest() == image["original"]["sha256"]
    assert mine.headers["cache-control"] == "private, no-store"


def test_private_image_is_hidden_from_others(client: TestClient):
    auth = register(client, "alice")
    created = upload(client, auth, jpeg_bytes(), visibility="private").json()
    image = wait_for_status(client, created["id"], auth)
    assert image["visibility"] == "private"
    url = image["variants"]["thumb"]["url"]
    unsigned = url.split("?")[0]
    owner_view = client.get(unsigned, headers=auth)
    assert owner_view.status_code == 200
    assert owner_view.headers["cache-control"] == "private, no-store"
    assert client.get(unsigned).status_code == 404
    assert client.get(unsigned, headers=register(client, "bob")).status_code == 404
    assert client.get(f"/api/v1/images/{image['id']}").status_code == 404
    assert client.get("/api/v1/feed").json()["items"] == []


def test_behind_nginx_the_file_is_handed_over_after_the_checks(tmp_path: Path):
    """SHUTTERBOX_MEDIA_ACCEL_REDIRECT: no bytes from the API, only the file's name for nginx
    (tests/edge/test_tls.py runs the real nginx); refusals and 304s stay the API's."""
    settings = make_settings(tmp_path / "data", media_accel_redirect="/_shutterbox_files")
    with TestClient(create_app(settings)) as client:
        auth = register(client, "alice")
        created = upload(client, auth, jpeg_bytes(800, 600), visibility="private")
        image = wait_for_status(client, created.json()["id"], auth)
        url = image["variants"]["thumb"]["url"]
        path = url.split("?")[0]
        handed = client.get(path, headers=auth)
        assert handed.status_code == 200 and handed.content == b""
        target = handed.headers["x-accel-redirect"]
        assert target.startswith("/_shutterbox_files/") and target.endswith("-thumb.jpg")
        on_disk = target.removeprefix("/_shutterbox_files")
        with open(on_disk, "rb") as file:
            size = len(file.read())
        assert handed.headers["x-shutterbox-file-bytes"] == str(size)
        assert handed.headers["content-type"] == "image/jpeg"
        assert handed.headers["cache-control"] == "private, no-store"
        assert client.head(path, headers=auth).headers["x-accel-redirect"] == target
        assert client.get(path).status_code == 404  # a stranger: nothing handed over
        etag = handed.headers["etag"]
        assert client.get(path, headers={**auth, "If-None-Match": etag}).status_code == 304
    with pytest.raises(ValidationError):
        make_settings(tmp_path / "other", media_accel_redirect="no-leading-slash")


def test_a_size_the_picture_is_too_small_for_answers_with_the_one_that_serves_it(
    client: TestClient,
):
    """Images processed when such a size was still stored (the same bytes as the next smaller
    one) handed out its URLs: they keep answering, with those same bytes."""
    auth = register(client, "alice")
    image = wait_for_status(client, upload(client, auth, jpeg_bytes(800, 600)).json()["id"], auth)
    medium, full = image["variants"]["medium"], image["variants"]["full"]
    assert full == medium  # the medium serves the full size
    for fmt, ext in (("jpeg", "jpg"), ("webp", "webp")):
        served = client.get(medium["formats"][fmt]).content
        earlier = medium["formats"][fmt].replace("/medium-", "/full-")
        assert earlier.endswith(f".{ext}")
        answer = client.get(earlier)
        assert answer.status_code == 200 and answer.content == served
    negotiated = client.get(medium["url"].replace("/medium-", "/full-"))
    assert negotiated.status_code == 200
    wrong = client.get(f"/media/{image['id']}/full-{'0' * 16}.jpg")
    assert wrong.status_code == 404 and "out of date" in wrong.json()["detail"]
