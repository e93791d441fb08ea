"""Notifications over HTTP: what makes one, the unread count, marking read, and never one about
an image the recipient can no longer see, nor about oneself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from shutterbox.entrypoints.http.app import create_app
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.services.images import processing
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload
from tests.support.settings import make_settings


def _image(client: TestClient, auth: dict[str, str], **fields: str) -> str:
    created = upload(client, auth, jpeg_bytes(100, 80), **fields)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _notifications(client: TestClient, auth: dict[str, str], **params: Any) -> Any:
    response = client.get("/api/v1/notifications", headers=auth, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _unread(client: TestClient, auth: dict[str, str]) -> int:
    response = client.get("/api/v1/notifications/unread-count", headers=auth)
    assert response.status_code == 200, response.text
    return int(response.json()["unread"])


def test_follows_likes_and_comments_notify_the_owner_newest_first(client: TestClient):
    alice, bob = register(client, "alice"), register(client, "bob")
    image_id = _image(client, alice)
    assert client.put("/api/v1/users/alice/follow", headers=bob).status_code == 204
    assert client.put("/api/v1/users/alice/follow", headers=bob).status_code == 204  # again
    assert client.put(f"/api/v1/images/{image_id}/like", headers=bob).status_code == 200
    comment = client.post(
        f"/api/v1/images/{image_id}/comments", headers=bob, json={"text": "lovely"}
    ).json()
    # what alice does to her own image tells nobody
    assert client.put(f"/api/v1/images/{image_id}/like", headers=alice).status_code == 200
    assert (
        client.post(
            f"/api/v1/images/{image_id}/comments", headers=alice, json={"text": "thanks"}
        ).status_code
        == 201
    )
    items = _notifications(client, alice)["items"]
    assert [(n["kind"], n["actor"], n["image_id"]) for n in items] == [
        ("comment", "bob", image_id),
        ("like", "bob", image_id),
        ("follow", "bob", None),
    ]
    assert items[0]["comment_id"] == comment["id"] and not any(n["read"] for n in items)
    assert _notifications(client, bob)["items"] == []
    assert _unread(client, alice) == 3
    first = _notifications(client, alice, limit=2)
    older = _notifications(client, alice, limit=2, cursor=first["next_cursor"])
    assert [n["kind"] for n in older["items"]] == ["follow"] and older["next_cursor"] is None
    # up to the like: it and the follow are read, the comment not
    marked = client.post(
        "/api/v1/notifications/read", headers=alice, json={"up_to": items[1]["cursor"]}
    )
    assert marked.status_code == 204
    assert _unread(client, alice) == 1
    assert client.post("/api/v1/notifications/read", headers=alice).status_code == 204
    assert _unread(client, alice) == 0
    # taken back: a like, a follow and a comment take their notification with them
    client.delete(f"/api/v1/images/{image_id}/like", headers=bob)
    client.delete("/api/v1/users/alice/follow", headers=bob)
    client.delete(f"/api/v1/comments/{comment['id']}", headers=bob)
    assert _notifications(client, alice)["items"] == []


def test_bad_input_and_anonymous_callers(client: TestClient):
    alice = register(client, "alice")
    for method, path in (
        ("GET", "/api/v1/notifications"),
        ("GET", "/api/v1/notifications/unread-count"),
        ("POST", "/api/v1/notifications/read"),
    ):
        assert client.request(method, path).status_code == 401
    bad = client.post("/api/v1/notifications/read", headers=alice, json={"up_to": "nonsense!"})
    assert bad.status_code == 422
    assert client.get("/api/v1/notifications?cursor=zzz", headers=alice).status_code == 422
    assert client.get("/api/v1/notifications?limit=0", headers=alice).status_code == 422


def test_a_notification_about_an_image_gone_from_sight_is_not_shown(client: TestClient):
    alice, bob = register(client, "alice"), register(client, "bob")
    kept, trashed = _image(client, alice), _image(client, alice)
    for image_id in (kept, trashed):
        assert client.put(f"/api/v1/images/{image_id}/like", headers=bob).status_code == 200
    assert _unread(client, alice) == 2
    assert client.delete(f"/api/v1/images/{trashed}", headers=alice).status_code == 204
    assert [n["image_id"] for n in _notifications(client, alice)["items"]] == [kept]
    assert _unread(client, alice) == 1
    restored = client.post(f"/api/v1/images/{trashed}/restore", headers=alice)
    assert restored.status_code == 200 and restored.json()["likes"] == 1
    assert _unread(client, alice) == 2


def test_a_failed_processing_tells_the_owner_once(tmp_path: Path):
    settings = make_settings(tmp_path / "data", workers=0)  # the image waits for the test
    with TestClient(create_app(settings)) as client:
        alice = register(client, "alice")
        image_id = _image(client, alice)
        services: Any = app_state(client.app).services
        for _ in range(2):  # given up twice (a rerun): told once
            client.portal.call(  # type: ignore[attr-defined]
                processing.mark_failed_after_retries, services, image_id, "boom"
            )
        items = _notifications(client, alice)["items"]
        assert [(n["kind"], n["actor"], n["image_id"]) for n in items] == [
            ("processing_failed", None, image_id)
        ]
