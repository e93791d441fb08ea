"""Every variant also exists as WebP; URLs without an extension negotiate on Accept."""

from __future__ import annotations

import pyvips
from fastapi.testclient import TestClient

from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status
from tests.support.settings import make_settings

CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"


def test_negotiated_and_explicit_urls(client: TestClient):
    auth = register(client, "alice")
    image = wait_for_status(client, upload(client, auth, jpeg_bytes(1600, 1200)).json()["id"], auth)
    for name, variant in image["variants"].items():
        assert set(variant["formats"]) == {"jpeg", "webp"}
        assert variant["formats"]["jpeg"].endswith(".jpg")
        assert variant["formats"]["webp"].endswith(".webp")
        webp = client.get(variant["url"], headers={"Accept": CHROME})
        assert webp.headers["content-type"] == "image/webp", name
        assert webp.headers["vary"] == "Accept"
        decoded = pyvips.Image.new_from_buffer(webp.content, "")
        assert (decoded.width, decoded.height) == (variant["width"], variant["height"])
        assert not [f for f in decoded.get_fields() if f.startswith(("exif", "xmp", "icc"))]
        plain = client.get(variant["url"], headers={"Accept": "*/*"})
        assert plain.headers["content-type"] == "image/jpeg"
        assert plain.headers["etag"] != webp.headers["etag"]
        refused = client.get(variant["url"], headers={"Accept": "image/webp;q=0, image/jpeg"})
        assert refused.headers["content-type"] == "image/jpeg"
        explicit = client.get(variant["formats"]["webp"], headers={"Accept": "image/jpeg"})
        assert explicit.headers["content-type"] == "image/webp"
        assert "vary" not in explicit.headers
        assert explicit.content == webp.content


def test_avif_behind_a_setting(tmp_path):
    settings = make_settings(tmp_path / "data", variant_formats="jpeg,webp,avif")
    with TestClient(create_app_for(settings)) as client:
        auth = register(client, "alice")
        image = wait_for_status(
            client, upload(client, auth, jpeg_bytes(800, 600)).json()["id"], auth
        )
        thumb = image["variants"]["thumb"]
        assert set(thumb["formats"]) == {"jpeg", "webp", "avif"}
        best = client.get(thumb["url"], headers={"Accept": CHROME})
        assert best.headers["content-type"] == "image/avif"
        decoded = pyvips.Image.new_from_buffer(best.content, "")
        assert (decoded.width, decoded.height) == (thumb["width"], thumb["height"])


def create_app_for(settings):
    from shutterbox.entrypoints.http.app import create_app

    return create_app(settings)
