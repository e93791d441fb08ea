"""The whole app on PostgreSQL and an S3-compatible bucket (real servers, real HTTP)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from fastapi.testclient import TestClient

from shutterbox.entrypoints.http.app import create_app
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status
from tests.support.servers import S3Endpoint
from tests.support.settings import make_settings


@pytest.fixture
def bucket(s3_endpoint: S3Endpoint) -> str:
    return s3_endpoint.create_bucket()


@pytest.fixture
def scaled_client(tmp_path: Path, postgres_url: str, bucket: str) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path / "data",
        database_url=postgres_url,
        storage_url=f"s3://{bucket}/photos",
        trash_retention_days=0,  # no trash: the bytes go right after the delete
    )
    with TestClient(create_app(settings)) as client:
        yield client


def _keys(s3_endpoint: S3Endpoint, bucket: str) -> list[str]:
    client = boto3.client("s3", endpoint_url=s3_endpoint.url, region_name="us-east-1")
    listed = client.list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def test_upload_view_delete_on_postgres_and_s3(
    scaled_client: TestClient, s3_endpoint: S3Endpoint, bucket: str
):
    client = scaled_client
    auth = register(client, "alice")
    photo = jpeg_bytes(1600, 1200, orientation=6)
    created = upload(client, auth, photo, tags="sea")
    assert created.status_code == 201, created.text
    image = wait_for_status(client, created.json()["id"], auth)
    assert image["status"] == "ready", image
    keys = _keys(s3_endpoint, bucket)
    assert len(keys) == 7 and all(k.startswith("photos/") for k in keys)
    assert any(k.startswith("photos/originals/") for k in keys)

    url = image["variants"]["full"]["url"]
    whole = client.get(url)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "image/jpeg"
    assert int(whole.headers["content-length"]) == image["variants"]["full"]["bytes"]
    assert client.get(url, headers={"If-None-Match": whole.headers["etag"]}).status_code == 304
    part = client.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == whole.content[10:20]
    assert client.get(url, headers={"Range": "bytes=99999999-"}).status_code == 416
    assert client.head(url).headers["content-length"] == whole.headers["content-length"]
    original = client.get(image["original"]["url"], headers=auth)
    assert original.content == photo

    assert client.get("/api/v1/tags/sea/images").json()["items"][0]["id"] == image["id"]
    assert client.delete(f"/api/v1/images/{image['id']}", headers=auth).status_code == 204
    assert client.get(url).status_code == 404
    deadline = time.monotonic() + 15
    while _keys(s3_endpoint, bucket) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _keys(s3_endpoint, bucket) == []


def test_media_can_redirect_to_a_presigned_get(
    tmp_path: Path, postgres_url: str, bucket: str, s3_endpoint: S3Endpoint
):
    import httpx2

    settings = make_settings(
        tmp_path / "data",
        database_url=postgres_url,
        storage_url=f"s3://{bucket}",
        media_redirect_seconds=300,
    )
    with TestClient(create_app(settings)) as client:
        auth = register(client, "alice")
        image = wait_for_status(client, upload(client, auth, jpeg_bytes()).json()["id"], auth)
        url = image["variants"]["thumb"]["url"]
        redirected = client.get(url, follow_redirects=False)
        assert redirected.status_code == 307
        location = redirected.headers["location"]
        assert location.startswith(s3_endpoint.url) and "X-Amz-Signature=" in location
        assert redirected.headers["cache-control"] == "private, max-age=150"
        body = httpx2.get(location).content
        assert len(body) == image["variants"]["thumb"]["bytes"]
        assert client.head(url).status_code == 200  # HEAD is answered by the origin
