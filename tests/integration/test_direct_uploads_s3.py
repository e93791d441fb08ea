"""Direct uploads to an S3-compatible bucket through a presigned PUT URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from shutterbox.entrypoints.http.app import create_app
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, wait_for_status
from tests.support.servers import S3Endpoint
from tests.support.settings import make_settings


@pytest.fixture
def s3_client(tmp_path: Path, s3_endpoint: S3Endpoint) -> Iterator[TestClient]:
    bucket = s3_endpoint.create_bucket()
    settings = make_settings(tmp_path / "data", storage_url=f"s3://{bucket}")
    with TestClient(create_app(settings)) as client:
        yield client


def test_presigned_put_straight_to_the_bucket(s3_client: TestClient, s3_endpoint: S3Endpoint):
    client = s3_client
    auth = register(client, "alice")
    photo = jpeg_bytes(1000, 800)
    ticket = client.post(
        "/api/v1/uploads",
        headers=auth,
        json={"filename": "a.jpg", "content_type": "image/jpeg", "size": len(photo)},
    ).json()
    assert ticket["url"].startswith(s3_endpoint.url)  # the bucket, not the origin
    assert "X-Amz-Signature=" in ticket["url"]
    put = httpx2.put(ticket["url"], content=photo, headers=ticket["headers"])
    assert put.status_code == 200, put.text
    done = client.post(f"/api/v1/uploads/{ticket['id']}/complete", headers=auth)
    assert done.status_code == 201, done.text
    image = wait_for_status(client, done.json()["id"], auth)
    assert image["status"] == "ready"
    assert client.get(image["original"]["url"], headers=auth).content == photo
