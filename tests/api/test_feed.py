from __future__ import annotations

from fastapi.testclient import TestClient

from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status


def _upload_ready(client: TestClient, auth: dict, **fields: str) -> str:
    image_id = upload(client, auth, jpeg_bytes(200, 150), **fields).json()["id"]
    assert wait_for_status(client, image_id, auth)["status"] == "ready"
    return image_id


def _all_pages(client: TestClient, url: str, limit: int, headers: dict | None = None) -> list:
    ids, cursor = [], None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = client.get(url, params=params, headers=headers or {}).json()
        ids.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


def test_feed_is_newest_first_and_paginates(client: TestClient):
    auth = register(client, "alice")
    ids = [_upload_ready(client, auth) for _ in range(7)]
    assert _all_pages(client, "/api/v1/feed", limit=3) == list(reversed(ids))


def test_pagination_is_stable_while_new_uploads_arrive(client: TestClient):
    auth = register(client, "alice")
    ids = [_upload_ready(client, auth) for _ in range(5)]
    first = client.get("/api/v1/feed", params={"limit": 2}).json()
    newcomer = _upload_ready(client, auth)
    rest = _all_pages_from(client, first["next_cursor"])
    seen = [i["id"] for i in first["items"]] + rest
    assert seen == list(reversed(ids))
    assert newcomer not in seen
    assert client.get("/api/v1/feed", params={"limit": 1}).json()["items"][0]["id"] == newcomer


def _all_pages_from(client: TestClient, cursor: str) -> list:
    ids = []
    while cursor:
        page = client.get("/api/v1/feed", params={"limit": 2, "cursor": cursor}).json()
        ids.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
    return ids


def test_feed_shows_only_ready_public_images(client: TestClient):
    auth = register(client, "alice")
    public = _upload_ready(client, auth)
    _upload_ready(client, auth, visibility="private")
    whole = jpeg_bytes(800, 600, noise=True)
    broken = upload(client, auth, whole[: len(whole) // 2]).json()["id"]
    wait_for_status(client, broken, auth)
    assert _all_pages(client, "/api/v1/feed", limit=10) == [public]


def test_user_and_tag_feeds(client: TestClient):
    alice = register(client, "alice")
    bob = register(client, "bob")
    a1 = _upload_ready(client, alice, tags="cats")
    a2 = _upload_ready(client, alice, tags="dogs", visibility="private")
    b1 = _upload_ready(client, bob, tags="cats, dogs")
    assert _all_pages(client, "/api/v1/users/alice/images", 10) == [a1]
    assert _all_pages(client, "/api/v1/users/alice/images", 10, headers=alice) == [a2, a1]
    assert _all_pages(client, "/api/v1/users/bob/images", 10) == [b1]
    assert _all_pages(client, "/api/v1/tags/cats/images", 1) == [b1, a1]
    assert _all_pages(client, "/api/v1/tags/DOGS/images", 10) == [b1]
    assert client.get("/api/v1/users/nobody/images").status_code == 404


def test_bad_cursor_and_limit_are_422(client: TestClient):
    assert client.get("/api/v1/feed", params={"cursor": "!!!"}).status_code == 422
    response = client.get("/api/v1/feed", params={"limit": 1000})
    assert response.status_code == 422
    assert "limit" in response.json()["detail"]
