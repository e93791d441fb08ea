"""What tests do through the HTTP API, written once for a `TestClient` and an `httpx2`
client alike (both take ``client.post(path, json=..., data=..., files=..., headers=...)``)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from tests.imagegen import jpeg_bytes


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
    """POST one file to /api/v1/images; the response, whatever its status."""
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
        body: dict[str, Any] = client.get(f"/api/v1/images/{image_id}", headers=auth or {}).json()
        if body.get("status") != "processing":
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"image {image_id} still processing after {timeout}s")
        time.sleep(0.1)


def upload_ready(client: Any, auth: dict[str, str], **fields: str) -> dict[str, Any]:
    """Upload a noisy photo (variants of a few hundred KB) and wait until it is ready."""
    created = client.post(
        "/api/v1/images",
        headers=auth,
        files={"file": ("photo.jpg", jpeg_bytes(1600, 1200, noise=True), "image/jpeg")},
        data=fields,
    )
    assert created.status_code == 201, created.text
    image = wait_for_status(client, created.json()["id"], auth, timeout=30)
    assert image["status"] == "ready", image
    return image


def variant_paths(image: dict[str, Any]) -> dict[str, str]:
    """Variant name -> its /media/ path (the API may hand out absolute or signed URLs)."""
    return {name: urlsplit(v["url"]).path for name, v in image["variants"].items()}


def cached_at_edge(
    api: Any, cdn: Any, username: str = "alice"
) -> tuple[dict[str, str], dict[str, Any], dict[str, str]]:
    """Register ``username`` at the origin, upload a photo, wait until it is ready and fetch
    each variant through the edge until the edge holds it: (auth, image, variant paths)."""
    auth = register(api, username)
    image = upload_ready(api, auth)
    paths = variant_paths(image)
    for path in paths.values():
        cdn.get(path)
        assert cdn.get(path).headers["x-cache"] == "HIT"
    return auth, image, paths
