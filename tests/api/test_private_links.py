"""Private images: reachable only through signed, expiring URLs (or by their owner)."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlparse

from fastapi.testclient import TestClient

from shutterbox.entrypoints.http.app import create_app
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status
from tests.support.settings import make_settings


def _private_image(client: TestClient) -> tuple[dict, dict]:
    auth = register(client, "alice")
    created = upload(client, auth, jpeg_bytes(), visibility="private").json()
    return wait_for_status(client, created["id"], auth), auth


def test_signed_links_work_without_a_token_and_never_outlive_themselves(client: TestClient):
    image, _ = _private_image(client)
    url = image["variants"]["medium"]["url"]
    query = parse_qs(urlparse(url).query)
    expires = int(query["expires"][0])
    response = client.get(url)  # anyone holding the link, e.g. an <img> tag
    assert response.status_code == 200
    cache = response.headers["cache-control"]
    assert cache.startswith("private, max-age=")
    assert int(cache.split("=")[1]) <= expires - time.time() + 1
    assert "public" not in cache and "immutable" not in cache


def test_tampered_or_expired_links_are_refused(client: TestClient):
    image, _ = _private_image(client)
    url = image["variants"]["thumb"]["url"]
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    expires, signature = int(query["expires"][0]), query["signature"][0]
    path = parsed.path
    cases = {
        "later expiry": f"{path}?expires={expires + 1}&signature={signature}",
        "other signature": f"{path}?expires={expires}&signature={'0' * 64}",
        "other file": f"{path.replace('thumb-', 'full-')}?expires={expires}&signature={signature}",
        "expired": f"{path}?expires={int(time.time()) - 1}&signature={signature}",
    }
    for name, bad in cases.items():
        response = client.get(bad)
        assert response.status_code in (403, 404), name
        if response.status_code == 403:
            assert "invalid or has expired" in response.json()["detail"]
    assert client.get(cases["later expiry"]).status_code == 403


def test_rotating_the_key_keeps_old_links_working(tmp_path):
    first = make_settings(tmp_path / "data", secret_key="old-key")
    with TestClient(create_app(first)) as client:
        image, _ = _private_image(client)
        old_link = image["variants"]["thumb"]["url"]
    rotated = make_settings(tmp_path / "data", secret_key="new-key", previous_secret_keys="old-key")
    with TestClient(create_app(rotated)) as client:
        assert client.get(old_link).status_code == 200
    dropped = make_settings(tmp_path / "data", secret_key="new-key")
    with TestClient(create_app(dropped)) as client:
        assert client.get(old_link).status_code == 403


def test_public_media_urls_point_at_the_cdn(tmp_path):
    settings = make_settings(tmp_path / "data", cdn_base_url="https://cdn.example.com/")
    with TestClient(create_app(settings)) as client:
        auth = register(client, "alice")
        image = wait_for_status(client, upload(client, auth, jpeg_bytes()).json()["id"], auth)
        for variant in image["variants"].values():
            assert re.match(r"^https://cdn\.example\.com/media/", variant["url"])
        assert image["original"]["url"].startswith("/media/")  # private: from the origin
