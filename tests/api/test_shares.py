"""Share links through the API: made only by the owner, opened by anyone logged out, behind a
password (limited, kept unlocked by a cookie for that link alone), hiding place and camera on
request, and dead at once, media included, when revoked or expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from shutterbox.clock import utcnow
from shutterbox.config import Settings
from shutterbox.entrypoints.http.app import create_app
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status


def _ready(client: TestClient, auth: dict[str, str], **fields: str) -> dict[str, Any]:
    data = jpeg_bytes(120, 90, camera=("Fujifilm", "X-T3"), taken_at="2024:05:01 10:00:00")
    created = upload(client, auth, data, **fields)
    assert created.status_code == 201, created.text
    image = wait_for_status(client, created.json()["id"], auth)
    assert image["status"] == "ready", image
    return image


def _share(client: TestClient, auth: dict[str, str], **fields: Any) -> dict[str, Any]:
    made = client.post("/api/v1/shares", headers=auth, json=fields)
    assert made.status_code == 201, made.text
    body = dict(made.json())
    assert made.headers["cache-control"] == "private, no-store"
    assert len(body["token"]) >= 22 and body["url"] == f"/s/{body['token']}"  # 128 bits +
    return body


def _thumb(image: dict[str, Any]) -> str:
    url = urlsplit(image["variants"]["thumb"]["url"])
    return f"{url.path}?{url.query}" if url.query else url.path


def _album_with(client: TestClient, auth: dict[str, str], *image_ids: str) -> str:
    album_id = str(client.post("/api/v1/albums", headers=auth, json={"title": "A"}).json()["id"])
    for image_id in image_ids:
        assert (
            client.put(f"/api/v1/albums/{album_id}/images/{image_id}", headers=auth).status_code
            == 204
        )
    return album_id


def test_only_the_owner_makes_links_and_lists_and_revokes_them(client: TestClient):
    alice, bob = register(client, "alice"), register(client, "bob")
    public, private = _ready(client, alice), _ready(client, alice, visibility="private")
    album_id = _album_with(client, alice, public["id"])
    assert client.post("/api/v1/shares", json={"image_id": public["id"]}).status_code == 401
    assert (
        client.post("/api/v1/shares", headers=bob, json={"image_id": public["id"]}).status_code
        == 403
    )
    assert (
        client.post("/api/v1/shares", headers=bob, json={"image_id": private["id"]}).status_code
        == 404
    )
    assert (
        client.post("/api/v1/shares", headers=bob, json={"album_id": album_id}).status_code == 403
    )
    for bad in (
        {},
        {"image_id": public["id"], "album_id": album_id},
        {"image_id": public["id"], "expires_at": "2001-01-01T00:00:00Z"},
        {"image_id": public["id"], "password": ""},
        {"image_id": public["id"], "expires_at": "soon"},
    ):
        response = client.post("/api/v1/shares", headers=alice, json=bad)
        assert response.status_code == 422, (bad, response.text)
    first = _share(client, alice, image_id=private["id"])
    second = _share(client, alice, album_id=album_id, password="open sesame", hide_details=True)
    assert first["token"] != second["token"]
    listed = client.get("/api/v1/shares", headers=alice).json()["items"]
    assert [s["id"] for s in listed] == [second["id"], first["id"]]
    assert listed[0]["has_password"] and listed[0]["hide_details"]
    assert all("token" not in s for s in listed)  # the token is shown once
    assert client.get("/api/v1/shares", headers=bob).json()["items"] == []
    assert client.delete(f"/api/v1/shares/{first['id']}", headers=bob).status_code == 404
    assert client.delete(f"/api/v1/shares/{first['id']}", headers=alice).status_code == 204
    assert client.delete(f"/api/v1/shares/{first['id']}", headers=alice).status_code == 204
    assert [s["id"] for s in client.get("/api/v1/shares", headers=alice).json()["items"]] == [
        second["id"]
    ]


def test_a_link_shows_a_private_image_to_anyone_until_revoked_media_included(client: TestClient):
    alice, bob = register(client, "alice"), register(client, "bob")
    private = _ready(client, alice, visibility="private", location="Lisbon", lat="38.7", lon="-9.1")
    link = _share(client, alice, image_id=private["id"])
    shared = client.get(f"/api/v1/shared/{link['token']}")
    assert shared.status_code == 200, shared.text
    assert shared.headers["cache-control"] == "private, no-store"
    body = shared.json()
    assert body["kind"] == "image" and body["image"]["id"] == private["id"]
    assert body["image"]["original"] is None
    assert body["image"]["location"]["name"] == "Lisbon" and body["image"]["camera"] is not None
    media = _thumb(body["image"])
    assert parse_qs(urlsplit(media).query)["share"] == [link["id"]]
    answer = client.get(media)
    assert answer.status_code == 200
    assert answer.headers["cache-control"].startswith("private, max-age=")
    assert int(answer.headers["cache-control"].split("=")[1]) <= 60
    # the link makes none of the image's usual URLs public
    assert client.get(urlsplit(media).path).status_code == 404
    assert client.get(f"/api/v1/images/{private['id']}", headers=bob).status_code == 404
    tampered = media.replace(f"share={link['id']}", "share=" + "x" * 16)
    assert client.get(tampered).status_code == 403
    # revoked: the link and its media stop at once
    assert client.delete(f"/api/v1/shares/{link['id']}", headers=alice).status_code == 204
    gone = client.get(f"/api/v1/shared/{link['token']}")
    assert gone.status_code == 410 and "revoked" in gone.json()["detail"]
    assert client.get(media).status_code in (403, 404, 410)
    assert client.get("/api/v1/shared/not-a-token").status_code == 404


def test_an_album_link_shows_its_ready_images_in_order_and_loses_deleted_ones(client: TestClient):
    alice = register(client, "alice")
    first, second = _ready(client, alice), _ready(client, alice, visibility="private")
    album_id = _album_with(client, alice, first["id"], second["id"])
    link = _share(client, alice, album_id=album_id)
    body = client.get(f"/api/v1/shared/{link['token']}").json()
    assert body["kind"] == "album" and body["album"]["title"] == "A"
    assert [i["id"] for i in body["images"]] == [first["id"], second["id"]]
    public_url = body["images"][0]["variants"]["thumb"]["url"]
    assert "share=" not in public_url  # public images keep their usual URLs
    assert client.get(_thumb(body["images"][1])).status_code == 200
    page = client.get(f"/api/v1/shared/{link['token']}", params={"limit": 1}).json()
    assert len(page["images"]) == 1 and page["next_cursor"]
    rest = client.get(
        f"/api/v1/shared/{link['token']}", params={"limit": 1, "cursor": page["next_cursor"]}
    ).json()
    assert [i["id"] for i in rest["images"]] == [second["id"]]
    assert client.delete(f"/api/v1/images/{second['id']}", headers=alice).status_code == 204
    after = client.get(f"/api/v1/shared/{link['token']}").json()
    assert [i["id"] for i in after["images"]] == [first["id"]]
    assert client.get(_thumb(body["images"][1])).status_code == 404
    # an image's own link dies with the image
    image_link = _share(client, alice, image_id=first["id"])
    assert client.delete(f"/api/v1/images/{first['id']}", headers=alice).status_code == 204
    assert client.get(f"/api/v1/shared/{image_link['token']}").status_code == 404
    # deleting the album ends its links
    assert client.delete(f"/api/v1/albums/{album_id}", headers=alice).status_code == 204
    assert client.get(f"/api/v1/shared/{link['token']}").status_code == 404


def test_hide_details_strips_place_and_camera(client: TestClient):
    alice = register(client, "alice")
    image = _ready(client, alice, location="Lisbon", lat="38.7", lon="-9.1")
    assert image["camera"] is not None and image["location"] is not None
    link = _share(client, alice, image_id=image["id"], hide_details=True)
    shown = client.get(f"/api/v1/shared/{link['token']}")
    body = shown.json()
    assert body["hide_details"] is True
    assert body["image"]["location"] is None and body["image"]["camera"] is None
    assert body["image"]["taken_at"] is None
    for leak in ("Lisbon", "38.7", "-9.1", "Fujifilm", "X-T3"):
        assert leak not in shown.text, leak
    page = client.get(link["url"])
    assert page.status_code == 200
    for leak in ("Lisbon", "38.7", "Fujifilm", "X-T3"):
        assert leak not in page.text, leak


def test_a_password_protected_link(client: TestClient):
    alice = register(client, "alice")
    image = _ready(client, alice, visibility="private")
    link = _share(client, alice, image_id=image["id"], password="open sesame")
    other = _share(client, alice, image_id=image["id"], password="open sesame")
    path = f"/api/v1/shared/{link['token']}"
    locked = client.get(path)
    assert locked.status_code == 401 and locked.json()["code"] == "password_required"
    wrong = client.post(f"{path}/unlock", json={"password": "guess"})
    assert wrong.status_code == 403 and "wrong password" in wrong.json()["detail"]
    assert client.post(f"{path}/unlock", json={"password": ""}).status_code == 422
    right = client.post(f"{path}/unlock", json={"password": "open sesame"})
    assert right.status_code == 204
    cookies = right.headers.get_list("set-cookie")
    assert len(cookies) == 2 and all("open sesame" not in c for c in cookies)
    assert any(f"Path=/s/{link['token']}" in c for c in cookies)
    assert all("httponly" in c.lower() for c in cookies)
    assert client.get(path).status_code == 200
    # the cookie opens that link alone
    assert client.get(f"/api/v1/shared/{other['token']}").status_code == 401
    client.cookies.clear()
    assert client.get(path).status_code == 401


def test_wrong_passwords_are_rate_limited(tmp_path, settings: Settings):
    limited = settings.model_copy(update={"login_rate": "3/minute"})
    with TestClient(create_app(limited)) as client:
        alice = register(client, "alice")
        image = _ready(client, alice)
        link = _share(client, alice, image_id=image["id"], password="open sesame")
        unlock = f"/api/v1/shared/{link['token']}/unlock"
        codes = [client.post(unlock, json={"password": "guess"}).status_code for _ in range(4)]
        assert codes == [403, 403, 403, 429]
        limited_answer = client.post(unlock, json={"password": "open sesame"})
        assert limited_answer.status_code == 429 and "retry-after" in limited_answer.headers


@pytest.mark.parametrize("hours", [1])
def test_an_expired_link_shows_nothing(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, hours: int
):
    alice = register(client, "alice")
    image = _ready(client, alice, visibility="private")
    expires = (datetime.now(UTC) + timedelta(hours=hours)).isoformat()
    link = _share(client, alice, image_id=image["id"], expires_at=expires)
    assert link["expired"] is False
    shown = client.get(f"/api/v1/shared/{link['token']}").json()
    media = _thumb(shown["image"])
    expiry = parse_qs(urlsplit(media).query)["expires"][0]
    assert int(expiry) <= datetime.fromisoformat(expires).timestamp()  # never past the link's
    assert client.get(media).status_code == 200
    later = utcnow() + timedelta(hours=hours, minutes=1)
    for module in ("shutterbox.services.albums.shared_view", "shutterbox.services.albums.shares"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: later)
    expired = client.get(f"/api/v1/shared/{link['token']}")
    assert expired.status_code == 410 and "expired" in expired.json()["detail"]
    assert client.get(media).status_code == 410
