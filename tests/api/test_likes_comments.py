"""Likes and comments over HTTP: who may do what, the counts in every image's JSON (pages
too), the rate of comments and the answers to bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shutterbox.config import Settings
from shutterbox.domain.social import MAX_COMMENT_CHARS
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status
from tests.support.settings import make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", comment_rate="5/minute")


def _ready(client: TestClient, auth: dict[str, str], **fields: str) -> str:
    created = upload(client, auth, jpeg_bytes(120, 90), **fields)
    assert created.status_code == 201, created.text
    image = wait_for_status(client, created.json()["id"], auth)
    assert image["status"] == "ready", image
    return str(image["id"])


def _image(client: TestClient, image_id: str, auth: dict[str, str] | None = None) -> Any:
    response = client.get(f"/api/v1/images/{image_id}", headers=auth or {})
    assert response.status_code == 200, response.text
    return response.json()


def _comment(client: TestClient, image_id: str, auth: dict[str, str], text: str) -> Any:
    return client.post(f"/api/v1/images/{image_id}/comments", headers=auth, json={"text": text})


def test_likes_are_counted_once_each_and_shown_to_whoever_likes(client: TestClient):
    alice, bob, carol = (register(client, name) for name in ("alice", "bob", "carol"))
    image_id = _ready(client, alice)
    assert _image(client, image_id)["likes"] == 0
    assert client.put("/api/v1/users/alice/follow", headers=bob).status_code == 204
    url = f"/api/v1/images/{image_id}/like"
    first = client.put(url, headers=bob)
    assert first.status_code == 200 and first.json() == {"likes": 1, "liked_by_me": True}
    assert client.put(url, headers=bob).json() == {"likes": 1, "liked_by_me": True}  # again
    assert client.put(url, headers=carol).json()["likes"] == 2
    assert _image(client, image_id, bob)["liked_by_me"] is True
    assert _image(client, image_id, alice)["liked_by_me"] is False
    assert _image(client, image_id)["liked_by_me"] is False  # anonymous
    for path in ("/api/v1/feed", "/api/v1/users/alice/images", "/api/v1/home"):
        for auth, liked in ((bob, True), (alice, False)):
            items = client.get(path, headers=auth).json()["items"]
            shown = next(item for item in items if item["id"] == image_id)
            assert (shown["likes"], shown["liked_by_me"]) == (2, liked), (path, auth)
    anonymous = client.get("/api/v1/feed").json()["items"][0]
    assert (anonymous["likes"], anonymous["liked_by_me"]) == (2, False)
    gone = client.delete(url, headers=bob)
    assert gone.status_code == 200 and gone.json() == {"likes": 1, "liked_by_me": False}
    assert client.delete(url, headers=bob).json() == {"likes": 1, "liked_by_me": False}
    # the page seen a moment ago is never behind: the count moved the row's version
    assert client.get("/api/v1/feed").json()["items"][0]["likes"] == 1
    assert client.put(url).status_code == 401


def test_private_and_deleted_images_cannot_be_liked_or_commented_by_others(client: TestClient):
    alice, bob = register(client, "alice"), register(client, "bob")
    private_id = _ready(client, alice, visibility="private")
    for method, path, body in (
        ("PUT", f"/api/v1/images/{private_id}/like", None),
        ("DELETE", f"/api/v1/images/{private_id}/like", None),
        ("POST", f"/api/v1/images/{private_id}/comments", {"text": "hello"}),
        ("GET", f"/api/v1/images/{private_id}/comments", None),
        ("PUT", "/api/v1/images/nosuchimage/like", None),
    ):
        response = client.request(method, path, headers=bob, json=body)
        assert response.status_code == 404, (method, path, response.text)
    assert client.put(f"/api/v1/images/{private_id}/like", headers=alice).status_code == 200
    public_id = _ready(client, alice)
    assert client.delete(f"/api/v1/images/{public_id}", headers=alice).status_code == 204
    assert client.put(f"/api/v1/images/{public_id}/like", headers=bob).status_code == 404
    assert client.get(f"/api/v1/images/{public_id}/comments").status_code == 404


def test_comments_are_listed_oldest_first_and_deleted_by_whom_may(client: TestClient):
    alice, bob, carol = (register(client, name) for name in ("alice", "bob", "carol"))
    image_id = _ready(client, alice)
    made = []
    for n, auth in enumerate((bob, carol, bob)):
        response = _comment(client, image_id, auth, f"  comment {n}  ")
        assert response.status_code == 201, response.text
        made.append(response.json())
    assert made[0]["text"] == "comment 0" and made[0]["author"] == "bob"
    assert _image(client, image_id)["comments"] == 3
    first = client.get(f"/api/v1/images/{image_id}/comments?limit=2").json()
    assert [c["id"] for c in first["items"]] == [made[0]["id"], made[1]["id"]]
    assert not any(c["deletable"] for c in first["items"])  # anonymous
    rest = client.get(
        f"/api/v1/images/{image_id}/comments", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [c["id"] for c in rest["items"]] == [made[2]["id"]] and rest["next_cursor"] is None
    as_carol = client.get(f"/api/v1/images/{image_id}/comments", headers=carol).json()["items"]
    assert [c["deletable"] for c in as_carol] == [False, True, False]
    # carol may not delete bob's comment on alice's image
    refused = client.delete(f"/api/v1/comments/{made[0]['id']}", headers=carol)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert client.delete(f"/api/v1/comments/{made[0]['id']}").status_code == 401
    assert client.delete(f"/api/v1/comments/{made[0]['id']}", headers=bob).status_code == 204
    assert client.delete(f"/api/v1/comments/{made[1]['id']}", headers=alice).status_code == 204
    assert client.delete(f"/api/v1/comments/{made[1]['id']}", headers=alice).status_code == 404
    assert _image(client, image_id)["comments"] == 1
    assert client.get("/api/v1/images/x/comments?cursor=%%%").status_code in (404, 422)
    bad_cursor = client.get(f"/api/v1/images/{image_id}/comments?cursor=not-a-cursor")
    assert bad_cursor.status_code == 422


@pytest.mark.parametrize("text", ["", "   \n ", "x" * (MAX_COMMENT_CHARS + 1)])
def test_an_empty_or_too_long_comment_is_refused(client: TestClient, text: str):
    alice = register(client, "alice")
    image_id = _ready(client, alice)
    response = _comment(client, image_id, alice, text)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]
    assert _comment(client, image_id, alice, "y" * MAX_COMMENT_CHARS).status_code == 201
    missing = client.post(f"/api/v1/images/{image_id}/comments", headers=alice, json={})
    assert missing.status_code == 422


def test_comments_have_a_rate_per_user(client: TestClient):
    alice, bob = register(client, "alice"), register(client, "bob")
    image_id = _ready(client, alice)
    for n in range(5):
        assert _comment(client, image_id, bob, f"hi {n}").status_code == 201
    limited = _comment(client, image_id, bob, "one more")
    assert limited.status_code == 429, limited.text
    assert int(limited.headers["Retry-After"]) >= 1
    assert "too many comments" in limited.json()["detail"]
    assert _comment(client, image_id, alice, "my own rate").status_code == 201
    assert _image(client, image_id)["comments"] == 6
