"""Uploads in parts straight to an S3 bucket (moto's server): the parts go to presigned
URLs, a client that lost its connection asks which parts the bucket has and sends the
others, completing reads back only the file's first bytes, and an abandoned upload is
aborted."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from PIL import Image as PILImage

from shutterbox import clock
from shutterbox.entrypoints.http.app import create_app
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.services.images import direct_uploads
from shutterbox.services.images.multipart_uploads import MIN_PART_BYTES
from tests.imagegen import jpeg_bytes
from tests.support.app import with_services
from tests.support.clients import register, wait_for_status
from tests.support.servers import S3Endpoint
from tests.support.settings import make_settings


@pytest.fixture
def bucket(s3_endpoint: S3Endpoint) -> str:
    return s3_endpoint.create_bucket()


@pytest.fixture
def s3_client(tmp_path: Path, bucket: str) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path / "data", storage_url=f"s3://{bucket}", direct_upload_grace_seconds=0
    )
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def big_png() -> bytes:
    """A picture of two parts: noise does not compress."""
    side = 1800
    picture = PILImage.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    picture.save(out, format="PNG", compress_level=0)
    data = out.getvalue()
    assert MIN_PART_BYTES < len(data) < 2 * MIN_PART_BYTES
    return data


def _start(client: TestClient, auth: dict, data: bytes, sha256: str | None = None) -> Any:
    answer = client.post(
        "/api/v1/uploads",
        headers=auth,
        json={
            "filename": "big.png",
            "content_type": "image/png",
            "size": len(data),
            "multipart": True,
            "sha256": sha256 or hashlib.sha256(data).hexdigest(),
        },
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def _put_part(ticket: dict, number: int, data: bytes) -> None:
    size = ticket["parts"]["part_size"]
    url = {p["number"]: p["url"] for p in ticket["parts"]["to_send"]}[number]
    answer = httpx2.put(url, content=data[(number - 1) * size : number * size])
    assert answer.status_code == 200, answer.text


def test_parts_resume_after_a_drop_and_complete_without_reading_it_all(
    s3_client: TestClient, s3_endpoint: S3Endpoint, big_png: bytes, monkeypatch: pytest.MonkeyPatch
):
    client = s3_client
    auth = register(client, "alice")
    ticket = _start(client, auth, big_png)
    parts = ticket["parts"]
    assert ticket["url"] == "" and parts["count"] == 2 and parts["part_size"] == MIN_PART_BYTES
    assert all(p["url"].startswith(s3_endpoint.url) for p in parts["to_send"])  # the bucket
    _put_part(ticket, 1, big_png)

    early = client.post(f"/api/v1/uploads/{ticket['id']}/complete", headers=auth)
    assert early.status_code == 409 and "2" in early.json()["detail"]

    # The connection dropped: where does the upload stand?
    resumed = client.get(f"/api/v1/uploads/{ticket['id']}", headers=auth).json()
    assert resumed["parts"]["received"] == [{"number": 1, "size": MIN_PART_BYTES}]
    assert [p["number"] for p in resumed["parts"]["to_send"]] == [2]
    _put_part(resumed, 2, big_png)

    store = app_state(client.app).services.store

    def read_whole(key: str) -> None:
        raise AssertionError(f"completing read all of {key}")

    monkeypatch.setattr(store, "stream", read_whole)
    done = client.post(
        f"/api/v1/uploads/{ticket['id']}/complete", headers=auth, json={"caption": "big"}
    )
    assert done.status_code == 201, done.text
    monkeypatch.undo()
    image = wait_for_status(client, done.json()["id"], auth, timeout=60)
    assert image["status"] == "ready" and image["caption"] == "big"
    original = client.get(image["original"]["url"], headers=auth).content
    assert hashlib.sha256(original).hexdigest() == hashlib.sha256(big_png).hexdigest()
    again = client.post(f"/api/v1/uploads/{ticket['id']}/complete", headers=auth)
    assert again.status_code == 200 and again.json()["id"] == image["id"]


def test_bytes_that_are_not_the_ones_announced_fail_processing(
    s3_client: TestClient, big_png: bytes
):
    client = s3_client
    auth = register(client, "alice")
    ticket = _start(client, auth, big_png, sha256="0" * 64)
    for number in (1, 2):
        _put_part(ticket, number, big_png)
    done = client.post(f"/api/v1/uploads/{ticket['id']}/complete", headers=auth)
    assert done.status_code == 201, done.text
    image = wait_for_status(client, done.json()["id"], auth, timeout=60)
    assert image["status"] == "failed" and "SHA-256" in image["failure_reason"]


def test_an_abandoned_upload_is_aborted(
    s3_client: TestClient,
    s3_endpoint: S3Endpoint,
    bucket: str,
    big_png: bytes,
    monkeypatch: pytest.MonkeyPatch,
):
    client = s3_client
    auth = register(client, "alice")
    ticket = _start(client, auth, big_png)
    _put_part(ticket, 1, big_png)
    s3 = s3_endpoint.client()
    assert len(s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])) == 1
    monkeypatch.setattr(clock, "_offset", timedelta(hours=2))  # its URLs expired long ago
    assert with_services(client, direct_uploads.clean_up_abandoned) == 1
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert client.get(f"/api/v1/uploads/{ticket['id']}", headers=auth).status_code == 404


def test_a_store_without_parts_answers_the_one_shot_url(client: TestClient):
    auth = register(client, "alice")
    photo = jpeg_bytes()
    answer = client.post(
        "/api/v1/uploads",
        headers=auth,
        json={
            "filename": "a.jpg",
            "content_type": "image/jpeg",
            "size": len(photo),
            "multipart": True,
        },
    )
    assert answer.status_code == 201
    assert answer.json()["parts"] is None and "/api/v1/uploads/" in answer.json()["url"]
