from __future__ import annotations

from fastapi.testclient import TestClient

from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status


def test_health_and_readiness(client: TestClient):
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "store": "ok", "queue": "ok"}


def test_metrics_count_uploads_and_processing(client: TestClient):
    auth = register(client, "alice")
    wait_for_status(client, upload(client, auth, jpeg_bytes()).json()["id"], auth)
    upload(client, auth, b"text")
    text = client.get("/metrics").text
    for name in (
        "shutterbox_uploads_total",
        "shutterbox_queue_depth",
        "shutterbox_processing_duration_seconds_count",
        'shutterbox_upload_rejections_total{status="415"}',
        "shutterbox_http_request_duration_seconds_bucket",
    ):
        assert name in text, name
    assert 'route="/api/v1/images"' in text


def test_openapi_documents_the_api(client: TestClient):
    spec = client.get("/openapi.json").json()
    for path in (
        "/api/v1/images",
        "/api/v1/images/{image_id}",
        "/api/v1/feed",
        "/api/v1/users/{username}/images",
        "/api/v1/tags/{tag}/images",
        "/api/v1/users",
        "/api/v1/auth/token",
    ):
        assert path in spec["paths"], path
    upload_body = spec["paths"]["/api/v1/images"]["post"]["requestBody"]
    assert "file" in upload_body["content"]["multipart/form-data"]["schema"]["properties"]
    assert client.get("/docs").status_code == 200
