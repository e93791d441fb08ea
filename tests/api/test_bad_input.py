"""Bad input gets a 4xx with a message at the door, or ends as `failed` with a reason."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shutterbox.config import Settings
from shutterbox.domain.formats import ACCEPTED_FORMATS
from shutterbox.entrypoints.http.app import create_app
from tests.hostile.generators import valid
from tests.imagegen import SVG, jpeg_bytes, png_claiming
from tests.support.blob_files import blob_files
from tests.support.clients import register, upload, wait_for_status
from tests.support.settings import make_settings


@pytest.mark.parametrize(
    ("data", "name", "status", "words"),
    [
        (b"hello, this is text\n" * 10, "notes.jpg", 415, "not a picture"),
        (SVG, "drawing.svg", 415, "accepted: JPEG, PNG"),
        (b"", "empty.jpg", 422, "empty"),
        (png_claiming(50000, 50000), "bomb.png", 422, "larger than the limit of 100 megapixels"),
        (b"%PDF-1.7\n" + b"0" * 100, "doc.pdf", 415, "not a picture"),
    ],
)
def test_refused_at_the_door(client: TestClient, data: bytes, name: str, status: int, words: str):
    auth = register(client, "alice")
    response = upload(client, auth, data, name=name)
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
    assert client.get("/api/v1/users/alice/images", headers=auth).json()["items"] == []


def test_truncated_jpeg_fails_with_a_reason(client: TestClient):
    auth = register(client, "alice")
    whole = jpeg_bytes(1600, 1200, noise=True)
    response = upload(client, auth, whole[: len(whole) // 2])
    assert response.status_code == 201
    final = wait_for_status(client, response.json()["id"], auth)
    assert final["status"] == "failed"
    assert "cut off" in final["failure_reason"]
    assert final["variants"] == {}


def test_oversized_file_is_refused_with_413(tmp_path):
    settings = make_settings(tmp_path / "data", max_upload_bytes=100_000)
    with TestClient(create_app(settings)) as client:
        auth = register(client, "alice")
        response = upload(client, auth, jpeg_bytes(2000, 2000, noise=True, quality=95))
        assert response.status_code == 413
        assert "larger than the limit" in response.json()["detail"]


def test_image_over_the_pixel_limit_is_refused(tmp_path):
    settings = make_settings(tmp_path / "data", max_pixels=1_000_000)
    with TestClient(create_app(settings)) as client:
        auth = register(client, "alice")
        response = upload(client, auth, jpeg_bytes(1200, 1000))
        assert response.status_code == 422
        assert "1200 x 1000" in response.json()["detail"]


def test_a_picture_refused_after_its_bytes_arrived_leaves_no_file(tmp_path):
    """The original is stored while its header and the quota are checked: a refusal removes
    that copy and the staging file."""
    settings = make_settings(tmp_path / "data", max_pixels=1_000_000)
    with TestClient(create_app(settings)) as client:
        auth = register(client, "alice")
        before = blob_files(settings.data_dir)
        refused = {
            "over the pixel limit": jpeg_bytes(1200, 1000),
            "a declared size too large": png_claiming(50000, 50000),
            "a broken header": b"\xff\xd8\xff\xe0" + b"\x00" * 300,
        }
        for what, data in refused.items():
            response = upload(client, auth, data)
            assert response.status_code == 422, (what, response.text)
        assert blob_files(settings.data_dir) == before


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"lat": "91", "lon": "0"}, "lat must be between"),
        ({"lat": "10"}, "both lat and lon"),
        ({"lat": "north", "lon": "1"}, "lat must be a number"),
        ({"visibility": "friends"}, "visibility must be"),
        ({"tags": "ok, <script>"}, "tag"),
        ({"caption": "x" * 3000}, "caption is longer"),
    ],
)
def test_bad_fields_are_refused(client: TestClient, fields: dict[str, str], words: str):
    auth = register(client, "alice")
    response = upload(client, auth, jpeg_bytes(), **fields)
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]


def test_malformed_multipart_is_refused(client: TestClient):
    auth = register(client, "alice")
    no_file = client.post(
        "/api/v1/images", headers=auth, data={"caption": "hi"}, files={"other": ("x.txt", b"x")}
    )
    assert no_file.status_code == 422
    not_multipart = client.post("/api/v1/images", headers=auth, json={"file": "x"})
    assert not_multipart.status_code == 422
    assert "multipart/form-data" in not_multipart.json()["detail"]
    garbage = client.post(
        "/api/v1/images",
        headers={**auth, "content-type": "multipart/form-data; boundary=zz"},
        content=b'--zz\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc',
    )
    assert garbage.status_code == 422


def test_two_files_are_refused(client: TestClient):
    auth = register(client, "alice")
    response = client.post(
        "/api/v1/images",
        headers=auth,
        files=[("file", ("a.jpg", jpeg_bytes())), ("file", ("b.jpg", jpeg_bytes()))],
    )
    assert response.status_code == 422
    assert "one file" in response.json()["detail"]


def test_no_bad_upload_leaves_a_stuck_image(client: TestClient, settings: Settings):
    auth = register(client, "alice")
    whole = jpeg_bytes(800, 600, noise=True)
    ids = [upload(client, auth, whole[:n]).json().get("id") for n in (200, 2000, len(whole) - 10)]
    for image_id in filter(None, ids):
        assert wait_for_status(client, image_id, auth)["status"] in {"failed", "ready"}


def test_the_415_names_exactly_the_formats_that_are_accepted(client: TestClient):
    """The list in the refusal is the one list the sniffer accepts (HEIC and TIFF too), every
    format it names is taken, and the API's description says the same."""
    auth = register(client, "alice")
    refused = upload(client, auth, SVG, name="drawing.svg")
    assert refused.status_code == 415
    named = refused.json()["detail"].split("accepted: ", 1)[1].split(", ")
    assert named == [f.name.upper() for f in ACCEPTED_FORMATS]
    assert {"HEIC", "TIFF"} <= set(named)
    for fmt in ACCEPTED_FORMATS:
        taken = upload(client, auth, valid(fmt.name), name=f"picture.{fmt.extension}")
        assert taken.status_code == 201, (fmt.name, taken.text)
        assert taken.json()["status"] == "processing"
    direct = client.post(
        "/api/v1/uploads",
        headers=auth,
        json={"filename": "a.svg", "content_type": "image/svg+xml", "size": len(SVG)},
    )
    assert direct.status_code == 415
    assert direct.json()["detail"].endswith(f"accepted: {', '.join(named)}")
    schema = client.get("/openapi.json").json()
    form = schema["paths"]["/api/v1/images"]["post"]["requestBody"]["content"]
    described = form["multipart/form-data"]["schema"]["properties"]["file"]["description"]
    assert described.endswith(", ".join(named))
