from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shutterbox.config import Settings
from shutterbox.entrypoints.http.app import create_app
from tests.servers import S3Endpoint, postgres_database


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "job_poll_seconds": 0.2,
        "job_retry_base_seconds": 0.2,
        "workers": 2,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[S3Endpoint]:
    endpoint = S3Endpoint()
    endpoint.start()
    saved = {k: os.environ.get(k) for k in endpoint.env}
    os.environ.update(endpoint.env)  # the AWS variables every S3 tool reads
    yield endpoint
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    endpoint.stop()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def register(client: Any, username: str, password: str = "correct horse") -> dict[str, str]:
    """Create a user and return the Authorization header for them."""
    response = client.post("/api/v1/users", json={"username": username, "password": password})
    assert response.status_code == 201, response.text
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def upload(
    client: Any, auth: dict[str, str], data: bytes, name: str = "photo.jpg", **fields: str
) -> Any:
    return client.post(
        "/api/v1/images",
        headers=auth,
        files={"file": (name, data, "application/octet-stream")},
        data=fields,
    )


def wait_for_status(
    client: Any, image_id: str, auth: dict[str, str] | None = None, timeout: float = 30.0
) -> dict[str, Any]:
    """Poll until the image leaves ``processing``; return its JSON."""
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/api/v1/images/{image_id}", headers=auth or {}).json()
        if body.get("status") != "processing":
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"image {image_id} still processing after {timeout}s")
        time.sleep(0.1)
