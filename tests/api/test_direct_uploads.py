"""Direct uploads on the local store, through the origin's own signed upload URL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from fastapi.testclient import TestClient

from shutterbox.config import Settings
from shutterbox.entrypoints.http.app import create_app
from shutterbox.entrypoints.http.lifespan import app_state
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, wait_for_status
from tests.support.settings import make_settings


def _start(client: TestClient, auth: dict, data: bytes, content_type: str = "image/jpeg"):
    return client.post(
        "/api/v1/uploads",
        headers=auth,
        json={"filename": "IMG_1.JPG", "content_type": content_type, "size": len(data)},
    )


def _put(client: TestClient, ticket: dict, data: bytes):
    parsed = urlparse(ticket["url"])
    return client.put(f"{parsed.path}?{parsed.query}", content=data, headers=ticket["headers"])


def test_start_put_complete(client: TestClient, settings: Settings):
    auth = register(client, "alice")
    photo = jpeg_bytes(1200, 900)
    started = _start(client, auth, photo)
    assert started.status_code == 201, started.text
    ticket = started.json()
    assert ticket["method"] == "PUT" and ticket["headers"] == {"Content-Type": "image/jpeg"}
    assert ticket["expires_at"] > "2000"
    assert _put(client, ticket, photo).status_code == 204

    done = client.post(
        f"/api/v1/uploads/{ticket['id']}/complete",
        headers=auth,
        json={"caption": "straight to storage", "tags": "direct"},
    )
    assert done.status_code == 201, done.text
    assert done.headers["location"] == f"/api/v1/images/{done.json()['id']}"
    image = wait_for_status(client, done.json()["id"], auth)
    assert image["status"] == "ready" and image["caption"] == "straight to storage"
    assert image["tags"] == ["direct"]
    assert client.get(image["original"]["url"], headers=auth).content == photo
    blobs = settings.data_dir / "blobs"
    assert not [p for p in (blobs / "incoming").rglob("*") if p.is_file()]

    again = client.post(f"/api/v1/uploads/{ticket['id']}/complete", headers=auth)
    assert again.status_code == 200 and again.json()["id"] == image["id"]


def test_the_upload_url_cannot_be_tampered_with(client: TestClient):
    auth = register(client, "alice")
    photo = jpeg_bytes()
    ticket = _start(client, auth, photo).json()
    parsed = urlparse(ticket["url"])
    query = parse_qs(parsed.query)
    later = int(query["expires"][0]) + 3600
    forged = f"{parsed.path}?expires={later}&signature={query['signature'][0]}"
    response = client.put(forged, content=photo)
    assert response.status_code == 403
    assert "invalid or has expired" in response.json()["detail"]
    expired = f"{parsed.path}?expires=1000&signature={query['signature'][0]}"
    assert client.put(expired, content=photo).status_code == 403
    other = _start(client, auth, jpeg_bytes()).json()
    wrong_id = f"/api/v1/uploads/{other['id']}/data?{parsed.query}"
    assert client.put(wrong_id, content=photo).status_code == 403


def test_complete_checks_what_arrived(client: TestClient):
    auth = register(client, "alice")
    photo = jpeg_bytes()
    ticket = _start(client, auth, photo).json()
    early = client.post(f"/api/v1/uploads/{ticket['id']}/complete", headers=auth)
    assert early.status_code == 409 and "has not arrived" in early.json()["detail"]
    assert _put(client, ticket, photo + b"extra").status_code == 413

    text = b"just some text, not a picture at all" * 10
    ticket = _start(client, auth, text).json()
    assert _put(client, ticket, text).status_code == 204
    refused = client.post(f"/api/v1/uploads/{ticket['id']}/complete", headers=auth)
    assert refused.status_code == 415
    assert "accepted: JPEG" in refused.json()["detail"]

    bob = register(client, "bob")
    ticket = _start(client, auth, photo).json()
    assert _put(client, ticket, photo).status_code == 204
    assert client.post(f"/api/v1/uploads/{ticket['id']}/complete", headers=bob).status_code == 404


def test_start_refuses_what_cannot_work(client: TestClient):
    auth = register(client, "alice")
    too_big = client.post(
        "/api/v1/uploads",
        headers=auth,
        json={"filename": "a.jpg", "content_type": "image/jpeg", "size": 10 * 1024**3},
    )
    assert too_big.status_code == 413
    wrong_type = client.post(
        "/api/v1/uploads",
        headers=auth,
        json={"filename": "a.pdf", "content_type": "application/pdf", "size": 100},
    )
    assert wrong_type.status_code == 415
    assert (
        client.post(
            "/api/v1/uploads", json={"filename": "a", "content_type": "image/png", "size": 1}
        ).status_code
        == 401
    )


def test_abandoned_uploads_are_cleaned_up(tmp_path):
    from datetime import timedelta

    from shutterbox import clock
    from shutterbox.services.images.direct_uploads import clean_up_abandoned

    settings = make_settings(
        tmp_path / "data", direct_upload_expiry_seconds=60, direct_upload_grace_seconds=0
    )
    with TestClient(create_app(settings)) as client:
        auth = register(client, "alice")
        photo = jpeg_bytes()
        kept = _start(client, auth, photo).json()
        abandoned = _start(client, auth, photo).json()
        assert _put(client, abandoned, photo).status_code == 204
        assert _put(client, kept, photo).status_code == 204
        assert (
            client.post(f"/api/v1/uploads/{kept['id']}/complete", headers=auth).status_code == 201
        )
        incoming = settings.data_dir / "blobs" / "incoming"
        assert len([p for p in incoming.rglob("*") if p.is_file()]) == 1
        services = app_state(client.app).services
        with clock.travel(timedelta(seconds=61)):  # the URL has expired; no grace
            removed = client.portal.call(clean_up_abandoned, services)  # type: ignore[union-attr]
            assert removed == 1
            assert [p for p in incoming.rglob("*") if p.is_file()] == []
            late = client.post(f"/api/v1/uploads/{abandoned['id']}/complete", headers=auth)
            assert late.status_code == 404


def test_a_direct_upload_is_in_the_replica_when_completion_answers(tmp_path):
    replica = tmp_path / "replica"
    settings = make_settings(tmp_path / "data", replica_url=replica.as_uri(), workers=0)
    with TestClient(create_app(settings)) as client:
        auth = register(client, "alice")
        photo = jpeg_bytes(800, 600)
        ticket = _start(client, auth, photo).json()
        assert _put(client, ticket, photo).status_code == 204
        assert not list(replica.rglob("*.jpg"))  # the bytes that arrived are not an original yet
        done = client.post(f"/api/v1/uploads/{ticket['id']}/complete", headers=auth, json={})
        assert done.status_code == 201, done.text
        (copy,) = replica.glob(f"originals/*/*/*/{done.json()['id']}.jpg")
        assert copy.read_bytes() == photo
