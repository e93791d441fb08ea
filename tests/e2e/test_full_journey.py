"""A real `shutterbox serve` process: register, upload a 12 MP photo, view, delete."""

from __future__ import annotations

import httpx2 as httpx
import pytest
import pyvips

from tests.imagegen import jpeg_bytes
from tests.support.clients import register, wait_for_status

pytestmark = pytest.mark.e2e


def test_upload_view_and_delete_a_12_megapixel_photo(server_factory):
    server = server_factory(SHUTTERBOX_WORKERS="2")
    server.start()
    photo = jpeg_bytes(
        4000,
        3000,
        orientation=6,
        gps=True,
        camera=("Apple", "iPhone 15"),
        taken_at="2024:06:01 18:45:00",
        noise=True,
    )
    with httpx.Client(base_url=server.url, timeout=30) as client:
        auth = register(client, "alice")
        created = client.post(
            "/api/v1/images",
            headers=auth,
            files={"file": ("IMG_0001.JPG", photo, "image/jpeg")},
            data={"caption": "Golden hour", "tags": "sunset"},
        )
        assert created.status_code == 201, created.text
        assert created.json()["status"] == "processing"
        assert created.headers["location"] == f"/api/v1/images/{created.json()['id']}"

        image = wait_for_status(client, created.json()["id"], auth, timeout=60)
        assert image["status"] == "ready", image
        assert (image["width"], image["height"]) == (3000, 4000)  # upright portrait
        assert (image["camera"]["make"], image["camera"]["model"]) == ("Apple", "iPhone 15")
        expected = {"thumb": (240, 320), "medium": (810, 1080), "full": (1536, 2048)}
        for name, variant in image["variants"].items():
            response = client.get(variant["url"])
            assert response.status_code == 200
            assert response.headers["content-type"] == "image/jpeg"
            decoded = pyvips.Image.new_from_buffer(response.content, "")
            assert (decoded.width, decoded.height) == expected[name]
            assert abs(decoded.width / decoded.height - 3000 / 4000) < 0.01
            fields = decoded.get_fields()
            assert not [f for f in fields if f.startswith(("exif", "xmp", "iptc"))], fields
            etag = response.headers["etag"]
            assert etag.startswith('"') and not etag.startswith("W/")
            assert "immutable" in response.headers["cache-control"]
            assert client.get(variant["url"], headers={"If-None-Match": etag}).status_code == 304
            part = client.get(variant["url"], headers={"Range": "bytes=0-1023"})
            assert part.status_code == 206 and part.content == response.content[:1024]

        feed = client.get("/api/v1/feed").json()["items"]
        assert [i["id"] for i in feed] == [image["id"]]

        assert client.delete(f"/api/v1/images/{image['id']}", headers=auth).status_code == 204
        assert client.get(f"/api/v1/images/{image['id']}", headers=auth).status_code == 404
        for variant in image["variants"].values():
            assert client.get(variant["url"]).status_code == 404
        assert client.get(image["original"]["url"], headers=auth).status_code == 404
        assert client.get("/api/v1/feed").json()["items"] == []
        assert client.get("/api/v1/tags/sunset/images").json()["items"] == []
