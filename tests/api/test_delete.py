from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shutterbox.config import Settings
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status
from tests.support.settings import make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """No trash here: the bytes go as soon as the image is deleted (tests/api/test_trash.py
    covers the trash)."""
    return make_settings(tmp_path / "data", trash_retention_days=0)


def _blob_files(settings: Settings) -> list:
    root = settings.data_dir / "blobs"
    return [p for p in root.rglob("*") if p.is_file() and ".tmp" not in p.parts]


def test_owner_deletes_and_the_image_is_gone_everywhere(client: TestClient, settings: Settings):
    auth = register(client, "alice")
    image = wait_for_status(
        client, upload(client, auth, jpeg_bytes(1600, 1200), tags="sea").json()["id"], auth
    )
    urls = [v["url"] for v in image["variants"].values()] + [image["original"]["url"]]
    urls += [u for v in image["variants"].values() for u in v["formats"].values()]
    assert len(_blob_files(settings)) == 7  # the original; three sizes as JPEG and WebP

    assert client.delete(f"/api/v1/images/{image['id']}", headers=auth).status_code == 204

    assert client.get(f"/api/v1/images/{image['id']}", headers=auth).status_code == 404
    for url in urls:
        assert client.get(url, headers=auth).status_code == 404
    for feed in ("/api/v1/feed", "/api/v1/users/alice/images", "/api/v1/tags/sea/images"):
        assert client.get(feed, headers=auth).json()["items"] == []
    deadline = time.monotonic() + 10
    while _blob_files(settings) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _blob_files(settings) == []
    assert client.delete(f"/api/v1/images/{image['id']}", headers=auth).status_code == 404


def test_others_cannot_delete(client: TestClient):
    alice = register(client, "alice")
    bob = register(client, "bob")
    public = upload(client, alice, jpeg_bytes()).json()["id"]
    private = upload(client, alice, jpeg_bytes(), visibility="private").json()["id"]
    wait_for_status(client, public, alice)
    response = client.delete(f"/api/v1/images/{public}", headers=bob)
    assert response.status_code == 403
    assert "owner" in response.json()["detail"]
    assert client.delete(f"/api/v1/images/{private}", headers=bob).status_code == 404
    assert client.delete(f"/api/v1/images/{public}").status_code == 401
    assert client.get(f"/api/v1/images/{public}").status_code == 200


def test_deleting_while_processing_leaves_nothing_behind(client: TestClient, settings: Settings):
    auth = register(client, "alice")
    image_id = upload(client, auth, jpeg_bytes(3000, 2000, noise=True)).json()["id"]
    assert client.delete(f"/api/v1/images/{image_id}", headers=auth).status_code == 204
    deadline = time.monotonic() + 15
    while _blob_files(settings) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # a job that was mid-flight finishes and must clean up after itself
    assert _blob_files(settings) == []
