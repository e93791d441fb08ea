from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi.testclient import TestClient

from shutterbox.config import Settings
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status


def test_upload_answers_201_processing_with_location(client: TestClient, settings: Settings):
    auth = register(client, "alice")
    data = jpeg_bytes(800, 600)
    response = upload(
        client,
        auth,
        data,
        caption="Sunset",
        tags="sea, #Sun sea",
        location="Lisbon",
        lat="38.72",
        lon="-9.14",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "processing"
    assert response.headers["location"] == f"/api/v1/images/{body['id']}"
    assert body["caption"] == "Sunset"
    assert body["tags"] == ["sea", "sun"]
    assert body["location"] == {"name": "Lisbon", "lat": 38.72, "lon": -9.14}
    assert body["original"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["original"]["bytes"] == len(data)


def test_original_is_stored_under_a_dated_key_before_the_answer(
    client: TestClient, settings: Settings
):
    auth = register(client, "alice")
    data = jpeg_bytes()
    body = upload(client, auth, data).json()
    created = body["created_at"][:10].replace("-", "/")
    stored = settings.data_dir / "blobs" / "originals" / created / f"{body['id']}.jpg"
    assert stored.read_bytes() == data


def test_image_becomes_ready_with_three_variants(client: TestClient):
    auth = register(client, "alice")
    body = upload(client, auth, jpeg_bytes(3000, 2000)).json()
    ready = wait_for_status(client, body["id"], auth)
    assert ready["status"] == "ready", ready
    assert (ready["width"], ready["height"]) == (3000, 2000)
    sizes = {name: (v["width"], v["height"]) for name, v in ready["variants"].items()}
    assert sizes == {"thumb": (320, 213), "medium": (1080, 720), "full": (2048, 1365)}


def test_small_images_are_never_upscaled(client: TestClient):
    auth = register(client, "alice")
    body = upload(client, auth, jpeg_bytes(500, 400)).json()
    ready = wait_for_status(client, body["id"], auth)
    sizes = {name: (v["width"], v["height"]) for name, v in ready["variants"].items()}
    assert sizes == {"thumb": (320, 256), "medium": (500, 400), "full": (500, 400)}


def test_idempotency_key_makes_a_retry_return_the_first_image(client: TestClient):
    auth = register(client, "alice")
    headers = {**auth, "Idempotency-Key": "upload-123"}
    first = upload(client, headers, jpeg_bytes())
    second = upload(client, headers, jpeg_bytes(320, 200))
    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["idempotent-replayed"] == "true"
    feed_owner = client.get("/api/v1/users/alice/images", headers=auth).json()
    wait_for_status(client, first.json()["id"], auth)
    feed_owner = client.get("/api/v1/users/alice/images", headers=auth).json()
    assert [i["id"] for i in feed_owner["items"]] == [first.json()["id"]]


def test_idempotency_keys_belong_to_their_user(client: TestClient):
    alice = register(client, "alice")
    bob = register(client, "bob")
    a = upload(client, {**alice, "Idempotency-Key": "k"}, jpeg_bytes())
    b = upload(client, {**bob, "Idempotency-Key": "k"}, jpeg_bytes())
    assert a.json()["id"] != b.json()["id"]


def test_upload_requires_a_token(client: TestClient):
    response = client.post("/api/v1/images", files={"file": ("a.jpg", jpeg_bytes())})
    assert response.status_code == 401
    assert "log in" in response.json()["detail"]


def test_no_staging_files_are_left_behind(client: TestClient, settings: Settings):
    auth = register(client, "alice")
    upload(client, auth, jpeg_bytes())
    upload(client, auth, b"not a picture")
    staging = Path(settings.data_dir) / "blobs" / ".tmp"
    assert list(staging.iterdir()) == []


def test_an_expired_idempotency_key_starts_a_new_upload(tmp_path):
    from shutterbox.entrypoints.http.app import create_app
    from tests.support.settings import make_settings

    settings = make_settings(tmp_path / "data", idempotency_ttl_hours=0)
    with TestClient(create_app(settings)) as client:
        auth = {**register(client, "alice"), "Idempotency-Key": "k"}
        first = upload(client, auth, jpeg_bytes())
        second = upload(client, auth, jpeg_bytes())
        assert first.status_code == second.status_code == 201
        assert first.json()["id"] != second.json()["id"]
